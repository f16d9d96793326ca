import { z } from 'zod';
import { namedActionsSchema } from './action-schema.js';
import {
  channelsSchema,
  fatigueSchema,
  rateLimitsSchema,
  templateSchema,
} from './delivery-schema.js';
import { journeySchema } from './journey-schema.js';
import { alertSchema, dashboardSchema, webhookSchema } from './observability-schema.js';
import { retryPolicySchema } from './retry-schema.js';
import { ruleSchema, WEEKDAYS } from './rule-schema.js';
import { sourcesSchema } from './source-schema.js';
import { modelSchema, nextBestActionSchema } from './decision-schema.js';
import { predictionSchema, scheduleSchema, triggerSchema } from './trigger-schema.js';
import {
  durationSchema,
  eventNameSchema,
  keySchema,
  percentageSchema,
  strictObject,
  timeWindowSchema,
  zoneNameSchema,
} from './value-schemas.js';

/**
 * The one schema of a Waymark configuration. TypeScript types are inferred from it
 * (`z.output` for the loaded, compiled form; `z.input` for what may be written) and the JSON
 * Schema for editors is generated from its input side.
 */

/**
 * Server settings. Environment variables (DATABASE_URL, PORT, WAYMARK_NATS_URL) override these at
 * start-up.
 */
export const serverSchema = strictObject({
  port: z
    .number()
    .int()
    .min(1)
    .max(65_535)
    .default(3000)
    .meta({ description: 'HTTP port (default 3000).' }),
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .meta({ description: 'Listen address (default 127.0.0.1).' }),
  public_url: z
    .url({
      protocol: /^https?$/,
      error: 'expected an http(s) URL such as https://waymark.example.com',
    })
    .optional()
    .meta({
      description:
        'Address customers reach this server at: tracking links (opens, clicks, one-click unsubscribe) are built on it. Tracking also needs WAYMARK_TRACKING_SECRET.',
    }),
  data_dir: z
    .string()
    .min(1)
    .default('data')
    .meta({ description: 'Directory of the embedded database (default data).' }),
  database_url: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, {
      error: 'expected a PostgreSQL URL such as postgres://user@host/db',
    })
    .optional()
    .meta({
      description:
        'PostgreSQL URL; when set, PostgreSQL is used instead of the embedded SQLite store.',
    }),
  sources: sourcesSchema,
});

/** Project-wide defaults. */
export const defaultsSchema = strictObject({
  timezone: zoneNameSchema
    .prefault('UTC')
    .meta({ description: 'Time zone of customers whose profile has none (IANA, default UTC).' }),
  activity: strictObject({
    events: z
      .array(eventNameSchema)
      .default([])
      .meta({ description: 'Event types counted on their own, besides all events together.' }),
  })
    .optional()
    .meta({
      description:
        'Keep behavioural counters on each profile (customer.activity) and derive model features from them (recency, counts over 7/30/90 days).',
    }),
  global_holdout: percentageSchema.optional().meta({
    description:
      'Share of customers held out of every journey (a stable, installation-wide control group).',
  }),
  quiet_hours: timeWindowSchema
    .optional()
    .meta({ description: "No messages in this local window, e.g. 22:00-08:00 (customer's zone)." }),
  business_hours: strictObject({
    days: z
      .array(z.enum(WEEKDAYS))
      .default(['mon', 'tue', 'wed', 'thu', 'fri'])
      .meta({ description: 'Open days (default mon-fri).' }),
    hours: timeWindowSchema
      .prefault('09:00-17:00')
      .refine((w) => !w.wrapsMidnight, { error: 'business hours cannot run over midnight' })
      .meta({ description: "Opening hours in the customer's zone (default 09:00-17:00)." }),
    holidays: z
      .array(z.iso.date({ error: 'expected a date YYYY-MM-DD' }))
      .default([])
      .meta({ description: 'Closed dates, YYYY-MM-DD (local to each customer).' }),
  })
    .prefault({})
    .meta({ description: "When schedules with business_hours: true may fire (customer's zone)." }),
  retention: strictObject({
    trigger_executions: durationSchema()
      .prefault('30 days')
      .meta({ description: 'How long trigger_executions rows are kept (default 30 days).' }),
  })
    .prefault({})
    .meta({ description: 'How long high-volume diagnostic records are kept.' }),
});

/** Every top-level key, in documentation order: the specification's nine, then Waymark's own. */
export const configShape = {
  schedules: z.array(scheduleSchema).default([]),
  triggers: z.array(triggerSchema).default([]),
  rules: z.array(ruleSchema).default([]),
  channels: channelsSchema.prefault({}),
  rate_limits: rateLimitsSchema.prefault({}),
  fatigue: fatigueSchema.prefault({}),
  retry_policies: z.record(keySchema, retryPolicySchema).default({}),
  webhooks: z.array(webhookSchema).default([]),
  dashboards: z.array(dashboardSchema).default([]),
  alerts: z.array(alertSchema).default([]),
  journeys: z.array(journeySchema).default([]),
  templates: z.record(keySchema, templateSchema).default({}),
  actions: namedActionsSchema.default({}),
  predictions: z.record(keySchema, predictionSchema).default({}),
  models: z.record(keySchema, modelSchema).default({}),
  next_best_action: nextBestActionSchema,
  server: serverSchema.prefault({}),
  defaults: defaultsSchema.prefault({}),
};

/** The whole configuration. */
export const configSchema = strictObject(configShape).meta({
  title: 'Waymark configuration',
  description: 'Journeys, triggers, rules, channels and the rest of a Waymark project (YAML).',
});

/** A top-level key. */
export type SectionName = keyof typeof configShape;

/** Every top-level key, in documentation order. */
export const SECTION_NAMES = Object.keys(configShape) as SectionName[];

/** How a section merges across files. */
export type SectionMerge = 'list' | 'map' | 'nested_map' | 'settings';

/** Merge behaviour of each section, and the field that identifies a list item. */
export const SECTION_LAYOUT: Readonly<
  Record<SectionName, { merge: SectionMerge; idField?: string; noun: string }>
> = {
  schedules: { merge: 'list', idField: 'name', noun: 'schedule' },
  triggers: { merge: 'list', idField: 'name', noun: 'trigger' },
  rules: { merge: 'list', idField: 'id', noun: 'rule' },
  channels: { merge: 'map', noun: 'channel' },
  rate_limits: { merge: 'nested_map', noun: 'rate limit' },
  fatigue: { merge: 'settings', noun: 'fatigue setting' },
  retry_policies: { merge: 'map', noun: 'retry policy' },
  webhooks: { merge: 'list', idField: 'name', noun: 'webhook' },
  dashboards: { merge: 'list', idField: 'name', noun: 'dashboard' },
  alerts: { merge: 'list', idField: 'name', noun: 'alert' },
  journeys: { merge: 'list', idField: 'id', noun: 'journey' },
  templates: { merge: 'map', noun: 'template' },
  actions: { merge: 'map', noun: 'action' },
  predictions: { merge: 'map', noun: 'prediction' },
  models: { merge: 'map', noun: 'model' },
  next_best_action: { merge: 'settings', noun: 'next-best-action setting' },
  server: { merge: 'settings', noun: 'server setting' },
  defaults: { merge: 'settings', noun: 'default' },
};

/** A loaded, compiled configuration (every section present; units parsed). */
export type WaymarkConfig = z.output<typeof configSchema>;

/** A configuration as written (what the YAML may contain). */
export type WaymarkConfigInput = z.input<typeof configSchema>;

/** Loaded server settings. */
export type ServerSettings = WaymarkConfig['server'];

/** Loaded project defaults. */
export type ProjectDefaults = WaymarkConfig['defaults'];

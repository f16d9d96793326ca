import { z } from 'zod';
import { retryReferenceSchema } from './retry-schema.js';
import {
  alertConditionSchema,
  durationSchema,
  nameSchema,
  panelThresholdSchema,
  strictObject,
  templateTextSchema,
} from './value-schemas.js';

/** Webhooks, dashboards and alerting rules. */

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, {
    error: 'expected an environment variable name such as CRM_WEBHOOK_TOKEN',
  })
  .meta({ description: 'Name of an environment variable holding the secret.' });

const authSchema = z.discriminatedUnion('type', [
  strictObject({ type: z.literal('bearer'), token_env: envName }),
  strictObject({ type: z.literal('basic'), username_env: envName, password_env: envName }),
  strictObject({
    type: z.literal('hmac'),
    secret_env: envName,
    header: z.string().default('X-Waymark-Signature'),
  }),
]);

/** A webhook that receives journey events. */
export const webhookSchema = strictObject({
  name: nameSchema,
  url: templateTextSchema.refine((text) => /^https?:\/\/\S+$/.test(text), {
    error: (issue) => `expected an http(s) URL; found '${String(issue.input)}'`,
  }),
  events: z.array(z.string()).min(1).meta({
    description: "Journey event types, '*' for all, or '<prefix>.*' such as 'message.*'.",
  }),
  auth: authSchema.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  retry: z.union([z.boolean(), retryReferenceSchema]).default(true).meta({
    description: 'true (default policy), false, a retry_policies name or an inline policy.',
  }),
  timeout: durationSchema().optional(),
  batch: strictObject({
    enabled: z.boolean().default(true),
    size: z.number().int().min(1).max(10_000).default(100),
    window: durationSchema().prefault('60s'),
  }).optional(),
}).meta({ id: 'Webhook' });

/** A loaded webhook. */
export type WebhookConfig = z.output<typeof webhookSchema>;

/** Dashboard panel types. */
export const PANEL_TYPES = [
  'gauge',
  'timeseries',
  'funnel',
  'bar',
  'heatmap',
  'table',
  'stat',
] as const;

const panelSchema = strictObject({
  title: nameSchema,
  type: z.enum(PANEL_TYPES),
  description: z.string().optional(),
  query: z.string().min(1).optional(),
  stages: z.array(z.string()).min(1).optional().meta({ description: 'Funnel steps.' }),
  alert: panelThresholdSchema.optional(),
  breakdown: z.string().optional(),
  dimensions: z.array(z.string()).min(1).optional(),
  unit: z.string().optional(),
}).superRefine((panel, ctx) => {
  if (panel.type === 'funnel' && panel.stages === undefined) {
    ctx.addIssue({ code: 'custom', path: ['stages'], message: "a funnel panel needs 'stages'" });
  }
  if (
    (panel.type === 'gauge' || panel.type === 'timeseries' || panel.type === 'stat') &&
    panel.query === undefined
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['query'],
      message: `a ${panel.type} panel needs 'query'`,
    });
  }
});

/** A dashboard of panels. */
export const dashboardSchema = strictObject({
  name: nameSchema,
  description: z.string().optional(),
  panels: z.array(panelSchema).min(1),
}).meta({ id: 'Dashboard' });

/** A loaded dashboard. */
export type DashboardConfig = z.output<typeof dashboardSchema>;

/** Severities of alerting rules. */
export const ALERT_RULE_SEVERITIES = ['critical', 'warning', 'info'] as const;

/** An alerting rule. */
export const alertSchema = strictObject({
  name: nameSchema,
  description: z.string().optional(),
  condition: alertConditionSchema,
  severity: z.enum(ALERT_RULE_SEVERITIES),
  notify: z
    .array(z.string().min(1))
    .default([])
    .meta({ description: 'Who to notify, e.g. oncall, slack_channel.' }),
  enabled: z.boolean().default(true),
}).meta({ id: 'Alert' });

/** A loaded alerting rule. */
export type AlertRule = z.output<typeof alertSchema>;

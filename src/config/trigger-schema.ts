import { z } from 'zod';
import { actionReferenceSchema } from './action-schema.js';
import { conditionListSchema } from './conditions-schema.js';
import { parseCron } from './cron-expression.js';
import { parseDuration, type Duration } from './duration.js';
import type { CronExpression } from './cron-expression.js';
import {
  cronSchema,
  durationSchema,
  eventNameSchema,
  fieldPathSchema,
  keySchema,
  nameSchema,
  strictObject,
  timeOfDaySchema,
  timeZoneSchema,
} from './value-schemas.js';

/**
 * Schedules, triggers and predictions: the specification's time-based, condition-based and
 * AI-powered triggers, plus event triggers.
 */

/** A named schedule: a cron expression, or an offset relative to a date field (`anchor`). */
export const scheduleSchema = strictObject({
  name: nameSchema,
  description: z.string().optional(),
  cron: cronSchema.optional(),
  timezone: timeZoneSchema
    .optional()
    .meta({ description: 'Zone for cron (default: defaults.timezone).' }),
  relative: durationSchema('any')
    .optional()
    .meta({ description: 'Offset from the anchor date, e.g. -30 days.' }),
  anchor: fieldPathSchema
    .optional()
    .meta({ description: 'Customer date field the offset applies to.' }),
  after_event: eventNameSchema
    .optional()
    .meta({ description: "Event whose time the offset applies to ('7 days after signup')." }),
  at: timeOfDaySchema.optional().meta({
    description:
      'Local time of day of a relative fire whose offset is in days or longer (default 09:00).',
  }),
  business_hours: z.boolean().default(false).meta({
    description: "Move each fire to the customer's next business hours (defaults.business_hours).",
  }),
  misfire: z.enum(['fire_once', 'skip']).default('fire_once').meta({
    description:
      'A fire missed while the engine was down (or already past when planned): fire once late, or skip it.',
  }),
  misfire_grace: durationSchema().optional().meta({
    description:
      'How late a fire may still happen (fire_once, default 1 day) or counts as on time (skip, default 1 minute).',
  }),
})
  .superRefine((s, ctx) => {
    if (s.cron !== undefined && s.relative !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['relative'],
        message: "a schedule takes 'cron' or 'relative' + 'anchor', not both",
      });
    } else if (s.cron === undefined && s.relative === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: "a schedule needs 'cron', or 'relative' with 'anchor'",
      });
    }
    if (s.relative !== undefined && s.anchor === undefined && s.after_event === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['anchor'],
        message:
          "'relative' needs 'anchor', the date field it counts from (such as contract.end_date), or 'after_event'",
      });
    }
    if (s.anchor !== undefined && s.after_event !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['after_event'],
        message: "a schedule counts from 'anchor' or from 'after_event', not both",
      });
    }
    if (s.after_event !== undefined && s.relative === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['after_event'],
        message: "'after_event' only applies with 'relative'",
      });
    }
    if (s.at !== undefined && s.relative === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['at'],
        message: "'at' only applies with 'relative' (a cron expression has its own time)",
      });
    }
    if (s.anchor !== undefined && s.relative === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['anchor'],
        message: "'anchor' only applies with 'relative'",
      });
    }
  })
  .transform((s) => ({
    ...s,
    kind: s.cron !== undefined ? ('cron' as const) : ('relative' as const),
  }))
  .meta({ id: 'Schedule' });

/** A loaded schedule; `kind` says which form it takes. */
export type Schedule = z.output<typeof scheduleSchema>;

/** How often a batch trigger is evaluated: a fixed interval or a cron expression. */
export type EvaluationFrequency =
  { kind: 'interval'; every: Duration } | { kind: 'cron'; cron: CronExpression };

const frequencySchema = z
  .string({ error: 'expected a frequency: a duration such as 1h or a cron expression' })
  .meta({
    description: "A duration such as '1h' or a cron expression.",
    examples: ['1h', '0 * * * *'],
  })
  .transform((text, ctx): EvaluationFrequency => {
    const interval = parseDuration(text);
    if (interval.ok) {
      if (interval.value.ms > 0) return { kind: 'interval', every: interval.value };
      ctx.addIssue({ code: 'custom', message: `expected a positive frequency; found '${text}'` });
      return z.NEVER;
    }
    if (text.trim().split(/\s+/).length >= 5 || text.trim().startsWith('@')) {
      const cron = parseCron(text);
      if (cron.ok) return { kind: 'cron', cron: cron.value };
      ctx.addIssue({ code: 'custom', message: cron.message });
      return z.NEVER;
    }
    ctx.addIssue({
      code: 'custom',
      message: `expected a frequency: a duration such as 1h or a cron expression; found '${text}'`,
    });
    return z.NEVER;
  });

/** Trigger kinds: what makes a trigger fire. */
export const TRIGGER_KINDS = ['event', 'schedule', 'prediction', 'condition'] as const;

/**
 * A trigger. Exactly one of `event`, `schedule` or `prediction` makes an event, time or AI
 * trigger; with none of them, `conditions` make a condition trigger (the specification's
 * `ConditionTrigger`).
 */
export const triggerSchema = strictObject({
  name: nameSchema,
  description: z.string().optional(),
  event: eventNameSchema.optional().meta({ description: 'Fire when this event arrives.' }),
  schedule: nameSchema.optional().meta({ description: 'Fire on this schedules entry.' }),
  prediction: keySchema
    .optional()
    .meta({ description: 'Fire when this predictions model crosses its threshold.' }),
  threshold: z.number().optional().meta({ description: 'Overrides the prediction threshold.' }),
  conditions: conditionListSchema.optional(),
  logic: z.enum(['AND', 'OR']).default('AND'),
  action: actionReferenceSchema.optional(),
  evaluation: z.enum(['real_time', 'batch']).default('real_time').meta({
    description: 'real_time: on every change; batch: every `frequency` (default real_time).',
  }),
  frequency: frequencySchema.optional(),
  enabled: z.boolean().default(true),
})
  .superRefine((t, ctx) => {
    const sources = (['event', 'schedule', 'prediction'] as const).filter(
      (k) => t[k] !== undefined,
    );
    if (sources.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [sources[1] ?? ''],
        message: `a trigger fires on one of 'event', 'schedule' or 'prediction'; found both '${sources[0] ?? ''}' and '${sources[1] ?? ''}'`,
      });
    }
    if (sources.length === 0 && t.conditions === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: "a trigger needs 'conditions', 'event', 'schedule' or 'prediction'",
      });
    }
    if (t.threshold !== undefined && t.prediction === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold'],
        message: "'threshold' only applies with 'prediction'",
      });
    }
    if (t.action === undefined && t.prediction === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['action'],
        message: "a trigger needs 'action' (what to do when it fires)",
      });
    }
    if (t.evaluation === 'batch' && t.frequency === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['frequency'],
        message: "evaluation: batch needs 'frequency', a duration such as 1h or a cron expression",
      });
    }
    if (t.evaluation !== 'batch' && t.frequency !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['frequency'],
        message: "'frequency' only applies with evaluation: batch",
      });
    }
  })
  .transform((t) => ({
    ...t,
    kind:
      t.event !== undefined
        ? ('event' as const)
        : t.schedule !== undefined
          ? ('schedule' as const)
          : t.prediction !== undefined
            ? ('prediction' as const)
            : ('condition' as const),
  }))
  .meta({ id: 'Trigger' });

/** A loaded trigger; `kind` says what makes it fire. */
export type Trigger = z.output<typeof triggerSchema>;

/** What a prediction's output is used for when it has no threshold action. */
export const PREDICTION_USES = [
  'schedule_message',
  'select_channel',
  'select_content',
  'next_best_action',
] as const;

/** A model prediction (the specification's `predictions` object, as YAML). */
export const predictionSchema = strictObject({
  model: keySchema.meta({ description: 'Model name, e.g. churn_predictor_v2.' }),
  threshold: z.number().optional().meta({ description: 'Score at or above which `action` runs.' }),
  action: actionReferenceSchema.optional(),
  output: z
    .enum(['score', 'probability', 'timestamp', 'channel', 'content'])
    .default('score')
    .meta({ description: 'What the model returns (default score).' }),
  use: z.enum(PREDICTION_USES).optional().meta({ description: 'Where the output is used.' }),
})
  .superRefine((p, ctx) => {
    if (p.action === undefined && p.use === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: "a prediction needs 'action' (with 'threshold') or 'use'",
      });
    }
    if (p.action !== undefined && p.threshold === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold'],
        message: "'action' needs 'threshold', the score at which it runs",
      });
    }
  })
  .meta({ id: 'Prediction' });

/** A loaded prediction. */
export type Prediction = z.output<typeof predictionSchema>;

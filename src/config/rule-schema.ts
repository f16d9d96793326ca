import { z } from 'zod';
import { actionSchema } from './action-schema.js';
import { conditionGroupSchema } from './conditions-schema.js';
import {
  cronSchema,
  keySchema,
  nameSchema,
  strictObject,
  timeWindowSchema,
  timeZoneSchema,
} from './value-schemas.js';

/** Rules: the specification's `Rule` (conditions, actions, exceptions, schedule, limits). */

/** Priority of a rule that does not say (the "Medium" band of the specification's table). */
export const DEFAULT_RULE_PRIORITY = 100;

/** Days of the week, as written in schedules. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const inlineScheduleSchema = strictObject({
  cron: cronSchema.optional(),
  timezone: timeZoneSchema.optional(),
  window: timeWindowSchema.optional().meta({ description: 'Only between these local times.' }),
  days: z.array(z.enum(WEEKDAYS)).min(1).optional().meta({ description: 'Only on these days.' }),
}).superRefine((s, ctx) => {
  if (s.cron === undefined && s.window === undefined && s.days === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: "an inline schedule needs 'cron', 'window' or 'days'",
    });
  }
});

const countSchema = z.number().int().min(0);

const limitsSchema = strictObject({
  per_customer: strictObject({
    daily: countSchema.optional(),
    weekly: countSchema.optional(),
    monthly: countSchema.optional(),
    total: countSchema.optional(),
  }).optional(),
  global: strictObject({
    per_minute: countSchema.optional(),
    per_hour: countSchema.optional(),
    per_day: countSchema.optional(),
  }).optional(),
});

/** A rule. */
export const ruleSchema = strictObject({
  id: keySchema,
  name: nameSchema,
  description: z.string().optional(),
  priority: z
    .number()
    .int()
    .min(0)
    .default(DEFAULT_RULE_PRIORITY)
    .meta({
      description: `Lower runs first (1-10 critical ... 101-500 low); default ${DEFAULT_RULE_PRIORITY}.`,
    }),
  enabled: z.boolean().default(true),
  conditions: conditionGroupSchema,
  exceptions: conditionGroupSchema
    .optional()
    .meta({ description: 'The rule does not fire when these hold.' }),
  actions: z.array(actionSchema).min(1),
  schedule: z
    .union([nameSchema.meta({ description: 'A schedules name.' }), inlineScheduleSchema])
    .optional()
    .meta({ description: 'A schedules name, or an inline {cron, timezone, window, days}.' }),
  limits: limitsSchema.optional(),
}).meta({ id: 'Rule' });

/** A loaded rule (the config form; the rules component compiles it further). */
export type Rule = z.output<typeof ruleSchema>;

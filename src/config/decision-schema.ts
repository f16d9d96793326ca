import { z } from 'zod';
import { conditionListSchema } from './conditions-schema.js';
import {
  cronSchema,
  durationSchema,
  fieldPathSchema,
  keySchema,
  strictObject,
  zoneNameSchema,
} from './value-schemas.js';

/**
 * `next_best_action`: the catalogue of actions the decision engine may recommend
 * (`POST /v1/decisions/next-best-action`), what each is worth, who is eligible, and the spec's
 * constraints (`max_daily_touches`, `channel_preferences`, `business_hours_only`).
 */

/** One action the decision engine may recommend. */
export const nbaActionSchema = strictObject({
  description: z.string().optional(),
  channel: keySchema.optional().meta({
    description: 'Channel it contacts the customer on (counts as a touch); none for e.g. a task.',
  }),
  value: z
    .number()
    .positive({ error: 'expected a positive number' })
    .default(1)
    .meta({ description: 'What a response is worth (expected value = P(response) × value).' }),
  prior: z
    .number()
    .gt(0, { error: 'expected a probability between 0 and 1' })
    .lt(1, { error: 'expected a probability between 0 and 1' })
    .default(0.1)
    .meta({
      description:
        'P(response) before any evidence; engagement on the channel and the model refine it.',
    }),
  model_action: z.string().min(1).optional().meta({
    description: "The action of the `model` policy that gives this action's P(response).",
  }),
  params: z
    .record(z.string(), z.unknown())
    .default({})
    .meta({ description: 'Returned as action_params (template, journey, offer, ...).' }),
  logic: z.enum(['AND', 'OR']).default('AND'),
  conditions: conditionListSchema
    .optional()
    .meta({ description: 'Who is eligible (customer fields).' }),
}).meta({ id: 'NextBestAction' });

/** The `next_best_action` section. */
export const nextBestActionSchema = strictObject({
  model: keySchema.optional().meta({
    description:
      'Registry name of a next-best-action policy (`waymark models train nba`, then `register`).',
  }),
  actions: z.record(keySchema, nbaActionSchema).default({}),
  constraints: strictObject({
    max_daily_touches: z
      .number()
      .int({ error: 'expected a whole number' })
      .nonnegative({ error: 'expected 0 or more' })
      .optional()
      .meta({
        description: 'Messages per customer per local day; beyond it a send waits for tomorrow.',
      }),
    channel_preferences: z.boolean().default(true).meta({
      description:
        'Honour `channel_preference` (actions on other channels only when none on it is eligible) and consent.',
    }),
    business_hours_only: z
      .boolean()
      .default(false)
      .meta({ description: "Time recommendations within the customer's business hours." }),
  })
    .prefault({})
    .meta({ description: 'The defaults of a request; a request may tighten them.' }),
})
  .prefault({})
  .meta({ description: 'What the next-best-action API may recommend, and under which limits.' });

/** A loaded `next_best_action` section. */
export type NextBestActionConfig = z.output<typeof nextBestActionSchema>;
/** A loaded catalogue action. */
export type NbaActionConfig = z.output<typeof nbaActionSchema>;

/**
 * How the engine trains a model on its own customers: the profile field that is the label, the
 * fields that are inputs, and when it retrains (each training registers a new version).
 */
export const modelTrainingSchema = strictObject({
  label: fieldPathSchema.meta({
    description: 'Profile field holding the outcome, e.g. churned (customer. prefix optional).',
  }),
  positive: z
    .union([z.string(), z.number(), z.boolean()])
    .default(true)
    .meta({ description: 'The label value that counts as positive (default true).' }),
  features: z
    .array(fieldPathSchema)
    .min(1)
    .optional()
    .meta({ description: 'Profile fields used as inputs (default: every plain top-level field).' }),
  exclude: z.array(fieldPathSchema).default([]).meta({
    description: 'Fields never used as inputs (outcomes of the label, such as churned_at).',
  }),
  schedule: cronSchema.optional().meta({
    description:
      'Retrain on this cron (e.g. weekly); omit to train only with `waymark models retrain`.',
  }),
  timezone: zoneNameSchema
    .prefault('UTC')
    .meta({ description: 'Zone of the schedule (default UTC).' }),
  min_rows: z
    .number()
    .int({ error: 'expected a whole number' })
    .min(10, { error: 'expected at least 10' })
    .default(100)
    .meta({ description: 'Fewest labelled customers a training needs (default 100).' }),
}).meta({ id: 'ModelTraining' });

/**
 * A model served by your own HTTP endpoint ("bring your own model"): Waymark POSTs
 * `{model, customer_id, attributes}` and reads `{probability}` (0–1) or `{score}` (0–100), with
 * optional `factors`. A failure, a timeout or an open circuit falls back to the newest registered
 * version of the same name, when there is one.
 */
export const modelEndpointSchema = strictObject({
  url: z
    .string()
    .regex(/^https?:\/\/\S+$/u, { error: 'expected an http(s) URL' })
    .meta({ description: 'Where the scoring requests are POSTed.' }),
  timeout: durationSchema()
    .prefault('2 seconds')
    .meta({ description: 'How long one request may take (default 2 seconds).' }),
  token_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/u, { error: 'expected an environment variable name' })
    .optional()
    .meta({ description: 'Environment variable with a bearer token sent as Authorization.' }),
  failure_threshold: z
    .number()
    .int({ error: 'expected a whole number' })
    .positive({ error: 'expected 1 or more' })
    .default(5)
    .meta({ description: 'Consecutive failures that open the circuit (default 5).' }),
  reset_after: durationSchema().prefault('30 seconds').meta({
    description: 'How long an open circuit waits before trying again (default 30 seconds).',
  }),
}).meta({ id: 'ModelEndpoint' });

/** One entry of `models`. */
export const modelSchema = strictObject({
  description: z.string().optional(),
  kind: z.enum(['churn']).default('churn').meta({
    description: 'churn: a calibrated binary scorer (any yes/no outcome: churn, upsell, ...).',
  }),
  train: modelTrainingSchema.optional(),
  endpoint: modelEndpointSchema.optional(),
}).meta({ id: 'Model' });

/** A loaded `models` entry. */
export type ModelConfig = z.output<typeof modelSchema>;

import { z } from 'zod';
import { durationFromMs, type Duration } from './duration.js';
import { durationSchema, strictObject } from './value-schemas.js';

/**
 * Retry policies: the specification's `retry_policies` entries, and the inline `RetryConfig` that
 * channels and actions may give instead of a policy name.
 */

/** Backoff kinds. */
export const BACKOFF_TYPES = ['exponential', 'linear', 'fixed'] as const;

const exponentialBackoffSchema = strictObject({
  type: z.literal('exponential'),
  initial_delay: durationSchema().meta({ description: 'Delay before the first retry.' }),
  max_delay: durationSchema().optional().meta({ description: 'Upper bound for any delay.' }),
  multiplier: z.number().gt(1).default(2).meta({ description: 'Growth factor (default 2).' }),
}).superRefine((backoff, ctx) => {
  if (backoff.max_delay && backoff.max_delay.ms < backoff.initial_delay.ms) {
    ctx.addIssue({
      code: 'custom',
      path: ['max_delay'],
      message: `max_delay (${backoff.max_delay.text}) must not be shorter than initial_delay (${backoff.initial_delay.text})`,
    });
  }
});

const linearBackoffSchema = strictObject({
  type: z.literal('linear'),
  initial_delay: durationSchema().meta({ description: 'Delay before the first retry.' }),
  increment: durationSchema().meta({ description: 'Added to the delay after each attempt.' }),
  max_delay: durationSchema().optional().meta({ description: 'Upper bound for any delay.' }),
});

const fixedBackoffSchema = strictObject({
  type: z.literal('fixed'),
  delay: durationSchema().meta({ description: 'Delay before every retry.' }),
});

/** Backoff given as an object, checked per type (exponential needs initial_delay, ...). */
const backoffObjectSchema = z.discriminatedUnion('type', [
  exponentialBackoffSchema,
  linearBackoffSchema,
  fixedBackoffSchema,
]);

/** A compiled backoff: always the object form, with durations parsed. */
export type Backoff = z.output<typeof backoffObjectSchema>;

function duration(ms: number): Duration {
  return durationFromMs(ms);
}

/**
 * The backoff a bare `backoff: <type>` stands for. The values are the specification's own example
 * policies: exponential 1m ×2 up to 1h (`default`), linear 30s + 1m (`critical`), fixed 5m
 * (`low_priority`).
 */
export function defaultBackoff(type: (typeof BACKOFF_TYPES)[number]): Backoff {
  switch (type) {
    case 'exponential':
      return {
        type,
        initial_delay: duration(60_000),
        max_delay: duration(3_600_000),
        multiplier: 2,
      };
    case 'linear':
      return { type, initial_delay: duration(30_000), increment: duration(60_000) };
    case 'fixed':
      return { type, delay: duration(300_000) };
  }
}

/** `backoff:` either a type name (defaults above) or an object. */
export const backoffSchema = z
  .union([
    z
      .enum(BACKOFF_TYPES)
      .meta({ description: 'Backoff type with default delays.' })
      .transform(defaultBackoff),
    backoffObjectSchema,
  ])
  .meta({ description: 'How long to wait between attempts.' });

/** A retry policy: attempts, backoff and what to do when every attempt failed. */
export const retryPolicySchema = strictObject({
  max_attempts: z
    .number()
    .int()
    .min(1)
    .max(100)
    .meta({ description: 'Attempts in all, including the first (1–100).' }),
  backoff: backoffSchema.prefault('exponential'),
  alert_on_failure: z
    .boolean()
    .default(false)
    .meta({ description: 'Raise an alert when the last attempt fails (default false).' }),
  drop_after_failure: z.boolean().default(false).meta({
    description: 'Drop instead of dead-lettering after the last attempt (default false).',
  }),
}).meta({ id: 'RetryPolicy' });

/** A compiled retry policy. */
export type RetryPolicy = z.output<typeof retryPolicySchema>;

/** A retry policy name (from `retry_policies`) or an inline policy. */
export const retryReferenceSchema = z
  .union([
    z.string().min(1).meta({ description: 'Name of an entry in retry_policies.' }),
    retryPolicySchema,
  ])
  .meta({ description: 'A retry_policies name or an inline retry policy.' });

/** A compiled retry reference: a policy name or an inline policy. */
export type RetryReference = z.output<typeof retryReferenceSchema>;

import { z } from 'zod';
import { retryReferenceSchema } from './retry-schema.js';
import {
  durationSchema,
  fieldPathSchema,
  identifierSchema,
  keySchema,
  percentageSchema,
  rateSchema,
  strictObject,
  templateTextSchema,
  timeWindowSchema,
} from './value-schemas.js';

/** Channels, contact limits and message templates. */

/** Kinds of channel Waymark can deliver through. A channel named after a kind has that kind. */
export const CHANNEL_TYPES = ['email', 'sms', 'in_app', 'push', 'webhook', 'tasks'] as const;

/** One of {@link CHANNEL_TYPES}. */
export type ChannelType = (typeof CHANNEL_TYPES)[number];

function isChannelType(name: string): name is ChannelType {
  return (CHANNEL_TYPES as readonly string[]).includes(name);
}

const providerSettingsSchema = z
  .record(z.string(), z.unknown())
  .meta({ description: 'Provider-specific settings; secrets are named by `*_env` settings.' });

/** One provider of a channel; several are tried in order, skipping those whose circuit is open. */
const providerEntrySchema = strictObject({
  name: keySchema.optional().meta({
    description: 'Name in logs, metrics and message records (default: the provider kind).',
  }),
  provider: keySchema.meta({ description: 'Provider kind: smtp, sendgrid, twilio, fcm, webhook.' }),
  settings: providerSettingsSchema.default({}),
});

const circuitBreakerSchema = strictObject({
  consecutive_failures: z.number().int().min(1).default(5).meta({
    description: 'Consecutive failed sends that open the circuit (default 5).',
  }),
  failure_rate: percentageSchema.prefault('50%').meta({
    description: 'Failure rate over `window` that opens the circuit (default 50%).',
  }),
  window: durationSchema().prefault('60s').meta({ description: 'Sliding window (default 60s).' }),
  minimum_requests: z.number().int().min(1).default(20).meta({
    description: 'Sends in the window before the rate counts (default 20).',
  }),
  half_open_after: durationSchema().prefault('30s').meta({
    description: 'How long an open circuit waits before one probe send (default 30s).',
  }),
});

const channelSchema = strictObject({
  type: z.enum(CHANNEL_TYPES).optional().meta({
    description: 'Channel kind; default: the channel name when it is a kind (email, sms, ...).',
  }),
  provider: keySchema
    .optional()
    .meta({ description: 'Delivery provider, e.g. sendgrid, twilio, internal.' }),
  enabled: z.boolean().default(true),
  rate_limit: rateSchema.optional(),
  retry_policy: retryReferenceSchema.optional(),
  fallback: identifierSchema
    .optional()
    .meta({ description: 'Channel to try when delivery fails.' }),
  character_limit: z.number().int().positive().optional(),
  opt_out_check: z.boolean().optional().meta({ description: 'Check opt-out before sending.' }),
  persistence: durationSchema()
    .optional()
    .meta({ description: 'How long an in-app message stays.' }),
  priority_levels: z.array(keySchema).min(1).optional(),
  platforms: z
    .array(z.enum(['ios', 'android', 'web']))
    .min(1)
    .optional(),
  silent_hours: timeWindowSchema
    .optional()
    .meta({ description: "No delivery in this local window (customer's zone)." }),
  settings: providerSettingsSchema
    .optional()
    .meta({ description: 'Settings of `provider`; secrets are named by `*_env` settings.' }),
  providers: z.array(providerEntrySchema).min(1).optional().meta({
    description:
      'Several providers in failover order, instead of `provider` and `settings`: a provider whose circuit is open is skipped.',
  }),
  recipient: fieldPathSchema.optional().meta({
    description:
      'Customer field holding the address: default email (email), phone (sms), push_tokens (push).',
  }),
  timeout: durationSchema().prefault('10s').meta({
    description: 'How long one send may take before it counts as a timeout (default 10s).',
  }),
  concurrency: z.number().int().min(1).max(1000).default(10).meta({
    description: 'Sends in flight per provider at most (the bulkhead; default 10).',
  }),
  circuit_breaker: circuitBreakerSchema
    .prefault({})
    .meta({ description: 'When a provider is taken out of rotation, and for how long.' }),
}).superRefine((channel, ctx) => {
  if (
    channel.providers !== undefined &&
    (channel.provider !== undefined || channel.settings !== undefined)
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['providers'],
      message: "give either 'providers' or 'provider' (with 'settings'), not both",
    });
  }
});

/** Top-level `channels`: channel name → configuration. */
export const channelsSchema = z
  .record(identifierSchema, channelSchema)
  .superRefine((channels, ctx) => {
    for (const [name, channel] of Object.entries(channels)) {
      if (channel.type === undefined && !isChannelType(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `channel '${name}' needs 'type' (one of ${CHANNEL_TYPES.join(', ')}) because its name is not a channel type`,
        });
      }
    }
  })
  .transform((channels) => {
    const typed: Record<string, z.output<typeof channelSchema> & { type: ChannelType }> = {};
    for (const [name, channel] of Object.entries(channels)) {
      // The refinement above guarantees one of the two is a channel type.
      typed[name] = { ...channel, type: channel.type ?? (isChannelType(name) ? name : 'webhook') };
    }
    return typed;
  })
  .meta({ description: 'Delivery channels by name.' });

/** A loaded channel; `type` is always set. */
export type ChannelConfig = z.output<typeof channelsSchema>[string];

const customerLimit = strictObject({
  daily: z.number().int().min(0).optional(),
  weekly: z.number().int().min(0).optional(),
  monthly: z.number().int().min(0).optional(),
});

const globalLimit = strictObject({
  per_second: z.number().int().min(0).optional(),
  per_minute: z.number().int().min(0).optional(),
  per_hour: z.number().int().min(0).optional(),
  per_day: z.number().int().min(0).optional(),
});

/** Top-level `rate_limits`: per-customer contact caps and global throughput caps per channel. */
export const rateLimitsSchema = strictObject({
  customer: z
    .record(identifierSchema, customerLimit)
    .default({})
    .meta({ description: 'Per-customer caps by channel name, or `total` across channels.' }),
  global: z
    .record(identifierSchema, globalLimit)
    .default({})
    .meta({ description: 'Whole-system caps by channel name.' }),
  when_capped: z.enum(['defer', 'suppress']).default('defer').meta({
    description:
      'What happens to a message over a customer cap: deferred to when the cap allows (default) or suppressed.',
  }),
  max_defer: durationSchema().prefault('7 days').meta({
    description:
      'A message that would wait longer than this for its cap is suppressed (default 7 days).',
  }),
  bypass: z
    .array(z.enum(['critical', 'high', 'normal', 'low']))
    .default(['critical'])
    .meta({
      description:
        'Message priorities that are never held by caps or fatigue; they still count (default [critical]).',
    }),
});

/** Loaded contact limits. */
export type RateLimits = z.output<typeof rateLimitsSchema>;

const templateVariant = strictObject({
  name: keySchema,
  subject: templateTextSchema.optional(),
  title: templateTextSchema.optional(),
  body: templateTextSchema,
  html: templateTextSchema.optional(),
  weight: z.number().positive().optional(),
});

/** A message template. */
export const templateSchema = strictObject({
  channel: identifierSchema
    .optional()
    .meta({ description: 'The channel this template is written for.' }),
  subject: templateTextSchema.optional(),
  title: templateTextSchema.optional(),
  body: templateTextSchema,
  html: templateTextSchema.optional(),
  variants: z.array(templateVariant).min(1).optional(),
  selection: z.enum(['weighted', 'bandit']).optional().meta({
    description:
      'How a variant is chosen: weighted (default; by weight, stable per customer) or bandit (the content personalizer: more customers get the variant that engages best, each customer keeps theirs until a clear winner emerges).',
  }),
}).meta({ id: 'Template' });

/** A loaded template. */
export type MessageTemplate = z.output<typeof templateSchema>;

const engagementLevel = strictObject({
  multiplier: z.number().min(0).max(100).default(1).meta({
    description:
      'Scales every customer cap for customers at this level (rounded down, at least 1).',
  }),
  suppress: z
    .boolean()
    .default(false)
    .meta({ description: 'Send nothing but bypass priorities to customers at this level.' }),
});

/**
 * Top-level `fatigue`: the guide's `FatigueConfig` — cooldowns after negative feedback and
 * engagement-based scaling of the contact caps.
 */
export const fatigueSchema = strictObject({
  cooldown_periods: strictObject({
    after_unsubscribe: durationSchema().optional(),
    after_complaint: durationSchema().optional(),
    after_bounce: durationSchema().optional(),
  })
    .prefault({})
    .meta({ description: 'No messages on a channel for this long after the feedback.' }),
  engagement_based: z.record(keySchema, engagementLevel).default({}).meta({
    description:
      'By the value of the engagement field: highly_engaged, moderately_engaged, low_engagement, disengaged, ...',
  }),
  engagement_field: fieldPathSchema.default('engagement_level').meta({
    description: 'Customer field holding the engagement level (default engagement_level).',
  }),
}).meta({ description: "The guide's FatigueConfig." });

/** Loaded fatigue settings. */
export type FatigueConfig = z.output<typeof fatigueSchema>;

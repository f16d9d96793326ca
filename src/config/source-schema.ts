import { z } from 'zod';
import { durationSchema, strictObject } from './value-schemas.js';

/**
 * Event sources besides HTTP (`server.sources`): streams the server consumes events from. Today
 * NATS JetStream; the list is a discriminated union on `type` so another kind is one more entry.
 */

/**
 * JetStream names (streams, durable consumers): no whitespace and none of `. * > / \`, which NATS
 * refuses or which would break the subjects the name is used in.
 */
const jetStreamName = (what: string, example: string) =>
  z
    .string({ error: `expected ${what} such as ${example}` })
    .regex(/^[^\s.*>/\\]+$/u, {
      error: (issue) =>
        `expected ${what} such as ${example} (no spaces and none of . * > / \\); found '${String(issue.input)}'`,
    })
    .max(200, { error: `${what} may be at most 200 characters` });

/** A NATS subject or subject filter: dot-separated tokens, `*` for one token, `>` for the rest. */
const subjectSchema = z
  .string({ error: 'expected a NATS subject such as events.> or events.*.created' })
  .refine(isSubjectFilter, {
    error: (issue) =>
      `expected a NATS subject such as events.> or events.*.created (dot-separated tokens, '*' for one token, '>' only last); found '${String(issue.input)}'`,
  });

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/u, {
    error: 'expected an environment variable name such as NATS_TOKEN',
  })
  .meta({ description: 'Name of an environment variable holding the secret.' });

/** How the source authenticates to NATS; secrets are read from the environment at start-up. */
const natsAuthSchema = z.discriminatedUnion('type', [
  strictObject({ type: z.literal('token'), token_env: envName }),
  strictObject({ type: z.literal('user_password'), user_env: envName, password_env: envName }),
]);

/** A NATS JetStream source: a durable pull consumer on a stream. */
export const natsSourceSchema = strictObject({
  type: z.literal('nats'),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/u, {
      error: 'expected a name of letters, digits, underscores, dashes or dots',
    })
    .default('nats')
    .meta({
      description: 'Name in logs, /healthz and the source label of metrics (default nats).',
    }),
  url: z
    .string()
    .regex(/^(nats|tls):\/\/\S+$/u, {
      error: 'expected a NATS URL such as nats://127.0.0.1:4222 (several: comma-separated)',
    })
    .default('nats://127.0.0.1:4222')
    .meta({
      description:
        'NATS server URL, or several comma-separated (default nats://127.0.0.1:4222). WAYMARK_NATS_URL overrides it.',
    }),
  stream: jetStreamName('a stream name', 'EVENTS').meta({
    description: 'JetStream stream to consume.',
  }),
  subjects: z.array(subjectSchema).min(1, { error: 'expected at least one subject' }).meta({
    description:
      'Subjects whose messages are events, e.g. ["events.>"]; the stream gets them when Waymark creates it.',
  }),
  durable: jetStreamName('a consumer name', 'waymark').default('waymark').meta({
    description:
      'Durable consumer name (default waymark). Every server process with the same durable shares the work.',
  }),
  batch: z.number().int().min(1).max(1000).default(100).meta({
    description: 'Most messages fetched and committed in one store transaction (default 100).',
  }),
  ack_wait: durationSchema().prefault('30s').meta({
    description:
      'How long JetStream waits for an acknowledgement before redelivering (default 30s).',
  }),
  create_stream: z.boolean().default(true).meta({
    description:
      'Create the stream with these subjects when it does not exist (default true); false: a missing stream is an error, retried until it appears.',
  }),
  auth: natsAuthSchema.optional().meta({
    description: 'Credentials from the environment; a URL may also carry user:password@.',
  }),
});

/** One entry of `server.sources`. */
export const sourceSchema = z.discriminatedUnion('type', [natsSourceSchema]);

/** `server.sources`: names must be unique (they label metrics and health). */
export const sourcesSchema = z
  .array(sourceSchema)
  .default([])
  .superRefine((sources, ctx) => {
    const seen = new Map<string, number>();
    sources.forEach((source, index) => {
      const first = seen.get(source.name);
      if (first === undefined) {
        seen.set(source.name, index);
        return;
      }
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `duplicate source name '${source.name}': sources[${first}] has it too; give each source its own name`,
      });
    });
  })
  .meta({ description: 'Event streams the server consumes besides HTTP (NATS JetStream).' });

/** A loaded NATS source entry (`ack_wait` parsed). */
export type NatsSourceSettings = z.output<typeof natsSourceSchema>;

/** A loaded `server.sources` entry. */
export type SourceSettings = z.output<typeof sourceSchema>;

/** Whether `text` is a valid NATS subject filter: non-empty tokens, `*` whole, `>` whole and last. */
function isSubjectFilter(text: string): boolean {
  if (text.length === 0 || /\s/u.test(text)) return false;
  const tokens = text.split('.');
  return tokens.every((token, i) => {
    if (token === '') return false;
    if (token === '>') return i === tokens.length - 1;
    return !token.includes('>') && (token === '*' || !token.includes('*'));
  });
}

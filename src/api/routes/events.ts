import { z } from 'zod';
import { InvalidInputError } from '../../core/index.js';
import { MAX_EVENTS_PER_BATCH, parseEventBatch } from '../../ingest/index.js';
import type { ApiContext } from '../context.js';
import { identifierSchema, parseInput } from '../input.js';
import { ingestResultSchema } from '../representations.js';
import { defineRoute, type Route } from '../route.js';

const headersSchema = z.object({ 'idempotency-key': identifierSchema.optional() });

/** Documents the body; validation itself is ingestion's (`parseEventBatch`), with its located problems. */
const eventDoc = z.looseObject({
  type: z
    .string()
    .meta({ description: 'Event type, e.g. customer.created; waymark.* is reserved.' }),
  customer_id: z.string(),
  id: z.string().optional(),
  timestamp: z.union([z.string(), z.number()]).optional(),
  idempotency_key: z.string().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  changes: z.record(z.string(), z.unknown()).optional(),
});
const eventsBodyDoc = z.union([
  eventDoc,
  z.object({ events: z.array(eventDoc).min(1).max(MAX_EVENTS_PER_BATCH) }),
]);

/** `POST /v1/events`. */
export function eventRoutes(ctx: ApiContext): Route[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/events',
      operationId: 'postEvents',
      summary: 'Ingest one event, or a batch of up to 1,000',
      description:
        'The body is one event (the guide\'s CustomerEvent, BehaviorEvent, ServiceEvent or any other type) or {"events": [...]}. A batch is all-or-nothing: one invalid event rejects the whole batch with every problem located. The answer comes once the events are durably stored; processing happens afterwards. Deduplication: an event whose idempotency_key (or, for a single event, Idempotency-Key header) or id was seen before is reported as a duplicate and not stored again.',
      tag: 'events',
      bodyDoc: {
        id: 'EventsRequest',
        schema: eventsBodyDoc,
        description: 'One event, or {"events": [...]} with 1 to 1,000 events.',
      },
      headers: [
        {
          name: 'Idempotency-Key',
          description:
            'Deduplication key of a single event (same as its idempotency_key field); not allowed with a batch.',
        },
      ],
      responses: {
        202: {
          description: 'Stored; each event accepted or duplicate.',
          schema: ingestResultSchema,
        },
      },
      errors: {
        400: 'INVALID_INPUT (located problems), INVALID_JSON',
        413: 'BATCH_TOO_LARGE (over 1,000 events), BODY_TOO_LARGE',
        415: 'UNSUPPORTED_MEDIA_TYPE',
        503: 'STORE_UNAVAILABLE: nothing was stored; retry',
      },
      async handle({ body, request }) {
        let events;
        try {
          const headers = parseInput(headersSchema, request.headers, 'header');
          const headerKey = headers['idempotency-key'];
          if (headerKey !== undefined && isBatch(body)) {
            throw new InvalidInputError(
              'the Idempotency-Key header applies to a single event; give each event of a batch its own idempotency_key',
              {
                problems: [
                  { path: 'header.idempotency-key', message: 'not allowed with {"events": [...]}' },
                ],
              },
            );
          }
          events = parseEventBatch(body, ctx.engine.clock.now(), headerKey);
          const results = await ctx.engine.ingest(events);
          const accepted = results.filter((r) => r.status === 'accepted').length;
          ctx.metrics.countIngested('accepted', accepted);
          ctx.metrics.countIngested('duplicate', results.length - accepted);
          return {
            status: 202,
            body: {
              accepted,
              duplicates: results.length - accepted,
              results: results.map((r) => ({ id: r.id, status: r.status })),
            },
          };
        } catch (error) {
          if (error instanceof InvalidInputError)
            ctx.metrics.countIngested('rejected', eventCount(body));
          throw error;
        }
      },
    }),
  ];
}

function isBatch(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body;
}

/** How many events a rejected body held, for `events_ingested_total{result="rejected"}`. */
function eventCount(body: unknown): number {
  if (isBatch(body)) {
    const events = (body as { events: unknown }).events;
    return Array.isArray(events) ? events.length : 1;
  }
  return 1;
}

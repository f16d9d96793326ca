import { z } from 'zod';
import { abandonDeadLetter, deadLetterJson, retryDeadLetter } from '../../delivery/index.js';
import { NotFoundError } from '../../core/index.js';
import type { ApiContext } from '../context.js';
import { cursorSchema, identifierSchema, limitSchema } from '../input.js';
import { deadLetterPageSchema, deadLetterSchema } from '../representations.js';
import { defineRoute, type Route } from '../route.js';

const deadLetterParams = z.strictObject({ id: identifierSchema });
const deadLetterStatus = deadLetterSchema.shape.status;

/** The dead-letter queue: list, inspect, retry (after fixing data) and abandon. */
export function deadLetterRoutes(ctx: ApiContext): Route[] {
  const engine = ctx.engine;
  const store = engine.store;
  const item = (d: Parameters<typeof deadLetterJson>[0]) =>
    deadLetterJson(d) as z.output<typeof deadLetterSchema>;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/dead-letters',
      operationId: 'listDeadLetters',
      summary: 'List dead letters, oldest first',
      tag: 'delivery',
      query: z.strictObject({
        status: deadLetterStatus.optional(),
        customer_id: identifierSchema.optional(),
        limit: limitSchema,
        cursor: cursorSchema,
      }),
      responses: { 200: { description: 'A page of dead letters.', schema: deadLetterPageSchema } },
      errors: { 400: 'INVALID_INPUT, INVALID_CURSOR' },
      async handle({ query }) {
        const page = await store.listDeadLetters({
          status: query.status,
          customerId: query.customer_id,
          limit: query.limit,
          cursor: query.cursor,
        });
        return {
          status: 200,
          body: { items: page.items.map(item), next_cursor: page.nextCursor },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/dead-letters/:id',
      operationId: 'getDeadLetter',
      summary: 'One dead letter with its original message',
      tag: 'delivery',
      params: deadLetterParams,
      responses: { 200: { description: 'The dead letter.', schema: deadLetterSchema } },
      errors: { 404: 'NOT_FOUND' },
      async handle({ params }) {
        const found = await store.getDeadLetter(params.id);
        if (found === null) throw new NotFoundError('dead letter', params.id);
        return { status: 200, body: item(found) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/dead-letters/:id/retry',
      operationId: 'retryDeadLetter',
      summary: 'Send a dead letter again',
      description:
        "Queues the message again on its channel under a new message id (`retry_message_id`), reading the customer's addresses and consent afresh — fix the profile first, then retry. Allowed from pending_review and abandoned.",
      tag: 'delivery',
      params: deadLetterParams,
      responses: { 202: { description: 'Queued again.', schema: deadLetterSchema } },
      errors: {
        404: 'NOT_FOUND',
        409: 'DEAD_LETTER_STATE: already retrying; DEAD_LETTER_CUSTOMER_DELETED: nobody to send to',
      },
      async handle({ params }) {
        const { deadLetter } = await retryDeadLetter(store, params.id, {
          now: engine.clock.now(),
          ids: engine.ids,
        });
        engine.worker.wake();
        return { status: 202, body: item(deadLetter) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/dead-letters/:id/abandon',
      operationId: 'abandonDeadLetter',
      summary: 'Give up on a dead letter',
      tag: 'delivery',
      params: deadLetterParams,
      responses: { 200: { description: 'Abandoned.', schema: deadLetterSchema } },
      errors: { 404: 'NOT_FOUND', 409: 'DEAD_LETTER_STATE: not pending review' },
      async handle({ params }) {
        const deadLetter = await abandonDeadLetter(store, params.id, engine.clock.now());
        return { status: 200, body: item(deadLetter) };
      },
    }),
  ];
}

import { z } from 'zod';
import { NotFoundError } from '../../core/index.js';
import type { ApiContext } from '../context.js';
import { cursorSchema, identifierSchema, limitSchema } from '../input.js';
import {
  customerDetailSchema,
  customerJson,
  customerPageSchema,
  decisionJson,
  enrollmentJson,
  iso,
  journeyEventJson,
  messageJson,
  timelineSchema,
  timerJson,
  type TimelineEntry,
} from '../representations.js';
import { defineRoute, type Route } from '../route.js';
import { collectPages } from './paging.js';

/** Most records of one kind a timeline or a customer's detail reads. */
const HISTORY_CAP = 5000;

const customerParams = z.strictObject({ id: identifierSchema });

/** Order of entries at the same instant: the decision first, then what it caused. */
const KIND_ORDER: Record<TimelineEntry['kind'], number> = {
  decision: 0,
  journey_event: 1,
  message: 2,
};

/** `GET /v1/customers`, `GET /v1/customers/{id}`, `GET /v1/customers/{id}/timeline`. */
export function customerRoutes(ctx: ApiContext): Route[] {
  const store = ctx.engine.store;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/customers',
      operationId: 'listCustomers',
      summary: 'List customers by id',
      tag: 'customers',
      query: z.strictObject({ limit: limitSchema, cursor: cursorSchema }),
      responses: { 200: { description: 'A page of customers.', schema: customerPageSchema } },
      errors: { 400: 'INVALID_INPUT, INVALID_CURSOR' },
      async handle({ query }) {
        const page = await store.listCustomers({ limit: query.limit, cursor: query.cursor });
        return {
          status: 200,
          body: { items: page.items.map(customerJson), next_cursor: page.nextCursor },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/customers/:id',
      operationId: 'getCustomer',
      summary: 'A customer profile with their enrollments',
      tag: 'customers',
      params: customerParams,
      responses: { 200: { description: 'The customer.', schema: customerDetailSchema } },
      errors: { 400: 'INVALID_INPUT', 404: 'NOT_FOUND: no such customer' },
      async handle({ params }) {
        const customer = await store.getCustomer(params.id);
        if (!customer) throw new NotFoundError('customer', params.id);
        const enrollments = await collectPages(
          (cursor, limit) => store.listEnrollments({ customerId: params.id, cursor, limit }),
          HISTORY_CAP,
        );
        return {
          status: 200,
          body: {
            customer: customerJson(customer),
            enrollments: enrollments.items.map(enrollmentJson).reverse(),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/customers/:id/timeline',
      operationId: 'getCustomerTimeline',
      summary: 'Why did this customer get this message, or not?',
      description:
        "The customer's journey events, messages and decisions (triggers fired, rules evaluated with their conditions, enrollments accepted or rejected with the reason) merged in time order, oldest first; the latest `limit` entries are returned. Also answered for a deleted customer whose history remains.",
      tag: 'customers',
      params: customerParams,
      query: z.strictObject({ limit: limitSchema }),
      responses: { 200: { description: 'The timeline.', schema: timelineSchema } },
      errors: { 400: 'INVALID_INPUT', 404: 'NOT_FOUND: no such customer and no history' },
      async handle({ params, query }) {
        const customerId = params.id;
        const [customer, events, messages, decisions, timers] = await Promise.all([
          store.getCustomer(customerId),
          collectPages(
            (cursor, limit) => store.listJourneyEvents({ customerId, cursor, limit }),
            HISTORY_CAP,
          ),
          collectPages(
            (cursor, limit) => store.listMessages({ customerId, cursor, limit }),
            HISTORY_CAP,
          ),
          store.listDecisions({ customerId, limit: HISTORY_CAP }),
          store.listTimers({ customerId, status: 'pending' }),
        ]);
        if (
          customer === null &&
          decisions.length + events.items.length + messages.items.length === 0
        ) {
          throw new NotFoundError('customer', customerId);
        }
        // Decisions come newest first from the store; put them back in time order so that the
        // stable sort below keeps every source's own order for entries at the same instant (journey
        // events in the order they were recorded).
        const timed: { at: number; entry: TimelineEntry }[] = [
          ...[...decisions].reverse().map((d) => ({
            at: d.at,
            entry: { kind: 'decision', at: iso(d.at), decision: decisionJson(d) } as const,
          })),
          ...events.items.map((e) => ({
            at: e.timestamp,
            entry: {
              kind: 'journey_event',
              at: iso(e.timestamp),
              journey_event: journeyEventJson(e),
            } as const,
          })),
          ...messages.items.map((m) => ({
            at: m.createdAt,
            entry: { kind: 'message', at: iso(m.createdAt), message: messageJson(m) } as const,
          })),
        ];
        timed.sort((a, b) => a.at - b.at || KIND_ORDER[a.entry.kind] - KIND_ORDER[b.entry.kind]);
        const entries = timed.map((t) => t.entry);
        const capped = !events.complete || !messages.complete || decisions.length >= HISTORY_CAP;
        return {
          status: 200,
          body: {
            customer_id: customerId,
            entries: entries.slice(-query.limit),
            truncated: capped || entries.length > query.limit,
            pending_timers: timers.map(timerJson),
          },
        };
      },
    }),
  ];
}

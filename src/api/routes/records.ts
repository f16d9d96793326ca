import { z } from 'zod';
import type { ApiContext } from '../context.js';
import { cursorSchema, identifierSchema, limitSchema } from '../input.js';
import {
  alertJson,
  alertListSchema,
  enrollmentJson,
  enrollmentPageSchema,
  enrollmentSchema,
  messageJson,
  messagePageSchema,
  messageSchema,
  taskJson,
  taskListSchema,
  taskSchema,
  alertSchema,
} from '../representations.js';
import { defineRoute, type Route } from '../route.js';

/** Filter values are the stored ones, so the enums come from the record schemas. */
const messageStatus = messageSchema.shape.status;
const enrollmentStatus = enrollmentSchema.shape.status;
const taskStatus = taskSchema.shape.status;
const alertStatus = alertSchema.shape.status;

/** Newest tasks `GET /v1/tasks` reads when it filters by assignee or overdue in memory. */
const TASK_FILTER_WINDOW = 1000;

/** `GET /v1/messages`, `/v1/enrollments`, `/v1/tasks`, `/v1/alerts`. */
export function recordRoutes(ctx: ApiContext): Route[] {
  const store = ctx.engine.store;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/messages',
      operationId: 'listMessages',
      summary: 'List messages, oldest first',
      tag: 'records',
      query: z.strictObject({
        customer_id: identifierSchema.optional(),
        journey_id: identifierSchema.optional(),
        channel: identifierSchema.optional(),
        status: messageStatus.optional(),
        limit: limitSchema,
        cursor: cursorSchema,
      }),
      responses: { 200: { description: 'A page of messages.', schema: messagePageSchema } },
      errors: { 400: 'INVALID_INPUT, INVALID_CURSOR' },
      async handle({ query }) {
        const page = await store.listMessages({
          customerId: query.customer_id,
          journeyId: query.journey_id,
          channel: query.channel,
          status: query.status,
          limit: query.limit,
          cursor: query.cursor,
        });
        return {
          status: 200,
          body: { items: page.items.map(messageJson), next_cursor: page.nextCursor },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/enrollments',
      operationId: 'listEnrollments',
      summary: 'List enrollments, oldest first',
      tag: 'records',
      query: z.strictObject({
        journey_id: identifierSchema.optional(),
        customer_id: identifierSchema.optional(),
        status: enrollmentStatus.optional(),
        limit: limitSchema,
        cursor: cursorSchema,
      }),
      responses: { 200: { description: 'A page of enrollments.', schema: enrollmentPageSchema } },
      errors: { 400: 'INVALID_INPUT, INVALID_CURSOR' },
      async handle({ query }) {
        const page = await store.listEnrollments({
          journeyId: query.journey_id,
          customerId: query.customer_id,
          status: query.status,
          limit: query.limit,
          cursor: query.cursor,
        });
        return {
          status: 200,
          body: { items: page.items.map(enrollmentJson), next_cursor: page.nextCursor },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/tasks',
      operationId: 'listTasks',
      summary: 'List tasks, newest first',
      description: `The latest \`limit\` tasks; next_cursor is always null. assignee and overdue=true (open tasks past their due_at) are applied to the latest ${TASK_FILTER_WINDOW.toLocaleString('en')} tasks that match the other filters, so an older match can be missing.`,
      tag: 'records',
      query: z.strictObject({
        customer_id: identifierSchema.optional(),
        status: taskStatus.optional(),
        assignee: identifierSchema.optional(),
        overdue: z.enum(['true', 'false']).optional(),
        limit: limitSchema,
      }),
      responses: { 200: { description: 'Tasks.', schema: taskListSchema } },
      errors: { 400: 'INVALID_INPUT' },
      async handle({ query }) {
        const overdue = query.overdue === 'true';
        // An overdue task is an open one; asking for overdue done tasks finds none.
        const status = overdue ? 'open' : query.status;
        if (overdue && query.status !== undefined && query.status !== 'open') {
          return { status: 200, body: { items: [], next_cursor: null } };
        }
        // The store filters by customer and status only; the other filters run here, over a
        // bounded window of the newest tasks (see the description).
        const filtered = query.assignee !== undefined || overdue;
        const tasks = await store.listTasks({
          ...(query.customer_id === undefined ? {} : { customerId: query.customer_id }),
          ...(status === undefined ? {} : { status }),
          limit: filtered ? TASK_FILTER_WINDOW : query.limit,
        });
        const now = ctx.engine.clock.now();
        const items = tasks
          .filter((t) => query.assignee === undefined || t.assignee === query.assignee)
          .filter((t) => !overdue || (t.dueAt !== null && t.dueAt < now))
          .slice(0, query.limit);
        return { status: 200, body: { items: items.map(taskJson), next_cursor: null } };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/alerts',
      operationId: 'listAlerts',
      summary: 'List alerts, newest first',
      description: 'The latest `limit` alerts; next_cursor is always null.',
      tag: 'records',
      query: z.strictObject({ status: alertStatus.optional(), limit: limitSchema }),
      responses: { 200: { description: 'Alerts.', schema: alertListSchema } },
      errors: { 400: 'INVALID_INPUT' },
      async handle({ query }) {
        const alerts = await store.listAlerts({
          ...(query.status === undefined ? {} : { status: query.status }),
          limit: query.limit,
        });
        return { status: 200, body: { items: alerts.map(alertJson), next_cursor: null } };
      },
    }),
  ];
}

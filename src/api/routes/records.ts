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
      description: 'The latest `limit` tasks; next_cursor is always null.',
      tag: 'records',
      query: z.strictObject({
        customer_id: identifierSchema.optional(),
        status: taskStatus.optional(),
        limit: limitSchema,
      }),
      responses: { 200: { description: 'Tasks.', schema: taskListSchema } },
      errors: { 400: 'INVALID_INPUT' },
      async handle({ query }) {
        const tasks = await store.listTasks({
          ...(query.customer_id === undefined ? {} : { customerId: query.customer_id }),
          ...(query.status === undefined ? {} : { status: query.status }),
          limit: query.limit,
        });
        return { status: 200, body: { items: tasks.map(taskJson), next_cursor: null } };
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

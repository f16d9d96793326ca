import { z } from 'zod';
import { NotFoundError, WaymarkError, type TaskRecord } from '../../core/index.js';
import type { ApiContext } from '../context.js';
import { identifierSchema } from '../input.js';
import { taskJson, taskSchema } from '../representations.js';
import { defineRoute, type Route } from '../route.js';

const taskParams = z.strictObject({ id: identifierSchema });

/** Longest note a person may leave when closing a task. */
const MAX_NOTE_LENGTH = 4000;

/** Body of complete and cancel; optional as a whole, so a bare POST works. */
const closeBody = z
  .strictObject({
    by: identifierSchema.optional().meta({ description: 'Who closed it (a CSM id or e-mail).' }),
    note: z.string().max(MAX_NOTE_LENGTH).optional().meta({
      description:
        'Why, in a few words. Written to the server log with the change; not stored on the task.',
    }),
  })
  .optional();

/**
 * The CSM task manager: look a task up, complete it, cancel it. Listing is `GET /v1/tasks`
 * (records). Closing is first-come: a task already done or cancelled answers 409 `TASK_NOT_OPEN`,
 * so two CSMs acting on the same task learn that someone else did.
 */
export function taskRoutes(ctx: ApiContext): Route[] {
  const engine = ctx.engine;
  const store = engine.store;
  const item = (t: TaskRecord): z.output<typeof taskSchema> => taskJson(t);

  const close = (status: 'done' | 'cancelled', verb: 'complete' | 'cancel') =>
    defineRoute({
      method: 'POST',
      url: `/v1/tasks/:id/${verb}`,
      operationId: `${verb}Task`,
      summary: verb === 'complete' ? 'Complete an open task' : 'Cancel an open task',
      description: `Sets the task's status to ${status}, with completed_at (now) and completed_by (the body's by, else null).`,
      tag: 'tasks',
      params: taskParams,
      body: closeBody,
      responses: { 200: { description: 'The closed task.', schema: taskSchema } },
      errors: {
        400: 'INVALID_INPUT',
        404: 'NOT_FOUND',
        409: 'TASK_NOT_OPEN: already done or cancelled (details.status says which)',
      },
      async handle({ params, body }) {
        const by = body?.by ?? null;
        const closed = await store.closeTask(params.id, {
          status,
          at: engine.clock.now(),
          by,
        });
        if (closed === null) {
          // closeTask does not say why; a second read does (and a task is never deleted, so an
          // absent one really is unknown).
          const current = await store.getTask(params.id);
          if (current === null) throw new NotFoundError('task', params.id);
          throw new WaymarkError('TASK_NOT_OPEN', `task '${params.id}' is ${current.status}`, {
            details: { id: current.id, status: current.status },
          });
        }
        // The store has no place for the note yet; the log keeps it as the audit of the change.
        ctx.log.info(`task ${verb === 'complete' ? 'completed' : 'cancelled'}`, {
          task: closed.id,
          customer: closed.customerId,
          by,
          ...(body?.note === undefined ? {} : { note: body.note }),
        });
        return { status: 200, body: item(closed) };
      },
    });

  return [
    defineRoute({
      method: 'GET',
      url: '/v1/tasks/:id',
      operationId: 'getTask',
      summary: 'One task',
      tag: 'tasks',
      params: taskParams,
      responses: { 200: { description: 'The task.', schema: taskSchema } },
      errors: { 400: 'INVALID_INPUT', 404: 'NOT_FOUND' },
      async handle({ params }) {
        const task = await store.getTask(params.id);
        if (task === null) throw new NotFoundError('task', params.id);
        return { status: 200, body: item(task) };
      },
    }),
    close('done', 'complete'),
    close('cancelled', 'cancel'),
  ];
}

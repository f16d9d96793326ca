import { z } from 'zod';
import { journeySchema, type LoadedConfig } from '../../config/index.js';
import {
  InvalidInputError,
  type EnrollmentRecord,
  type JsonObject,
  type Store,
} from '../../core/index.js';
import { simulateJourney } from '../../engine/index.js';
import {
  MAX_EVENTS_PER_BATCH,
  parseEventBatch,
  parseInstant,
  payloadProblems,
} from '../../ingest/index.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../http-errors.js';
import { identifierSchema, journeyCustomerParams, journeyParams } from '../input.js';
import {
  customerJourneyStatusSchema,
  enrollmentJson,
  journeyEventJson,
  journeyTestResultSchema,
  messageJson,
  enrollmentSchema,
  iso,
  journeyDetailSchema,
  journeyListSchema,
  journeyMetricsSchema,
  journeySavedSchema,
  journeyStatusSchema,
  journeyVersionJson,
} from '../representations.js';
import { defineRoute, type Route } from '../route.js';
import { collectPages } from './paging.js';

/** Most enrollments of one customer in one journey the status route reads. */
const HISTORY_CAP = 1000;

/** Reasons become a metrics label (`journey_exits_total{reason}`), so they are kept to a small alphabet. */
const exitReasonSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/u, 'expected lower-case letters, digits and _ (e.g. churned)');

/** An instant in a request body: ISO-8601 or epoch milliseconds (as event timestamps). */
const instantInput = z.union([z.string(), z.number()]).transform((value, issue) => {
  const at = parseInstant(value);
  if (at === null) {
    issue.addIssue({ code: 'custom', message: 'expected an ISO-8601 date-time or epoch ms' });
    return z.NEVER;
  }
  return at;
});

/** Body of `POST /v1/journeys/{id}/test`. */
const journeyTestBody = z
  .strictObject({
    customer: z
      .strictObject({
        id: identifierSchema.optional(),
        attributes: z.record(z.string(), z.json()).optional(),
      })
      .optional(),
    /** Events as posted to /v1/events; `customer_id` may be left out. */
    events: z.array(z.unknown()).max(MAX_EVENTS_PER_BATCH).optional(),
    start: instantInput.optional(),
    until: instantInput.optional(),
    seed: z.string().min(1).max(256).optional(),
    /** Entry properties of the enrollment at `start`, as `POST /v1/journeys/{id}/enroll` takes them. */
    entry_properties: z.record(z.string(), z.json()).optional(),
  })
  .optional();

/** Entry properties are stored like an event's properties, so the same rules apply (no NUL). */
function checkEntryProperties(properties: Record<string, unknown> | undefined): void {
  if (properties === undefined) return;
  const problems = payloadProblems(properties, 'entry_properties');
  if (problems.length > 0) {
    throw new InvalidInputError(`entry_properties: ${problems[0]?.message ?? 'invalid'}`, {
      problems,
    });
  }
}

/** Longest simulated horizon of a journey test: five years. */
const MAX_TEST_HORIZON_MS = 5 * 366 * 86_400_000;

/** Every route of the guide's `JourneyAPI`, plus the journey list. */
export function journeyRoutes(ctx: ApiContext, openScratchStore: () => Promise<Store>): Route[] {
  const engine = ctx.engine;
  const store = engine.store;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/journeys',
      operationId: 'listJourneys',
      summary: 'List journeys with their current version and status',
      tag: 'journeys',
      responses: { 200: { description: 'Every journey.', schema: journeyListSchema } },
      errors: {},
      async handle() {
        const states = new Map((await store.listJourneyStates()).map((s) => [s.journeyId, s]));
        const items = engine.journeyIds().map((id) => {
          const journey = engine.describeJourney(id);
          return {
            id,
            name: journey.definition.name ?? null,
            version: journey.version,
            status: journey.paused ? ('paused' as const) : ('active' as const),
            updated_at: ((at) => (at === undefined ? null : iso(at)))(states.get(id)?.updatedAt),
          };
        });
        items.sort((a, b) => a.id.localeCompare(b.id));
        return { status: 200, body: { items } };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/journeys/:id/enroll',
      operationId: 'enrollCustomer',
      summary: 'Enroll a customer',
      description:
        'Enrolls the customer (a bare profile is created when the customer is unknown) and answers once the enrollment has been processed: its first steps have run up to the first wait. `entry_properties` (optional) are the entry properties of the enrollment: the first steps read them as `event.properties.x`, every step as `journey.entry_event.properties.x`. When the journey refuses (journey_paused, already_enrolled, re_entry_not_allowed, cooldown, entry_conditions_not_met, exit_criteria_met) the answer is 409 ENROLLMENT_REJECTED with the reason from the decision log.',
      tag: 'journeys',
      params: journeyParams,
      body: z.strictObject({
        customer_id: identifierSchema,
        /** The enrollment's entry properties: `event.properties.x` / `journey.entry_event.properties.x`. */
        entry_properties: z.record(z.string(), z.json()).optional(),
      }),
      responses: {
        201: {
          description: 'Enrolled (the enrollment may already have completed).',
          schema: enrollmentSchema,
        },
      },
      errors: {
        400: 'INVALID_INPUT',
        404: 'NOT_FOUND: unknown journey',
        409: 'ENROLLMENT_REJECTED: details.reason says why (details.enrollment: the active one when already_enrolled)',
        503: 'TIMEOUT: accepted but not processed in time; check the status later',
      },
      async handle({ params, body }) {
        checkEntryProperties(body.entry_properties);
        const outcome = await engine.enroll(params.id, body.customer_id, {
          entryProperties: body.entry_properties,
        });
        if (outcome.decision === 'enrolled' && outcome.enrollment) {
          return { status: 201, body: enrollmentJson(outcome.enrollment) };
        }
        const reason = outcome.reason ?? 'unknown';
        throw new ApiError(
          409,
          'ENROLLMENT_REJECTED',
          `customer '${body.customer_id}' was not enrolled in '${params.id}': ${reason}`,
          {
            reason,
            ...(reason === 'already_enrolled' && outcome.enrollment
              ? { enrollment: enrollmentJson(outcome.enrollment) }
              : {}),
          },
        );
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/v1/journeys/:id/customers/:customer_id',
      operationId: 'unenrollCustomer',
      summary: 'Remove a customer from a journey',
      description:
        "Ends the customer's active enrollment (journey.exited with the reason, default removed_by_api); pending waits are cancelled.",
      tag: 'journeys',
      params: journeyCustomerParams,
      query: z.strictObject({ reason: exitReasonSchema.optional() }),
      responses: { 200: { description: 'The ended enrollment.', schema: enrollmentSchema } },
      errors: {
        400: 'INVALID_INPUT',
        404: 'NOT_FOUND: unknown journey, or no active enrollment',
        503: 'TIMEOUT',
      },
      async handle({ params, query }) {
        const enrollment = await engine.unenroll(params.id, params.customer_id, query.reason);
        return { status: 200, body: enrollmentJson(enrollment) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/journeys/:id/customers/:customer_id/status',
      operationId: 'getCustomerJourneyStatus',
      summary: "A customer's status in a journey",
      tag: 'journeys',
      params: journeyCustomerParams,
      responses: {
        200: { description: 'The status.', schema: customerJourneyStatusSchema },
      },
      errors: { 400: 'INVALID_INPUT', 404: 'NOT_FOUND: unknown journey' },
      async handle({ params }) {
        engine.describeJourney(params.id);
        const all = await collectPages(
          (cursor, limit) =>
            store.listEnrollments({
              journeyId: params.id,
              customerId: params.customer_id,
              cursor,
              limit,
            }),
          HISTORY_CAP,
        );
        const history = [...all.items].sort(
          (a, b) => b.enrolledAt - a.enrolledAt || b.id.localeCompare(a.id),
        );
        const current: EnrollmentRecord | null =
          history.find((e) => e.status === 'active') ?? history[0] ?? null;
        return {
          status: 200,
          body: {
            journey_id: params.id,
            customer_id: params.customer_id,
            status: current?.status ?? 'not_enrolled',
            enrollment: current === null ? null : enrollmentJson(current),
            history: history.map(enrollmentJson),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/journeys/:id/metrics',
      operationId: 'getJourneyMetrics',
      summary: "A journey's enrollment counts",
      tag: 'journeys',
      params: journeyParams,
      responses: { 200: { description: 'The metrics.', schema: journeyMetricsSchema } },
      errors: { 400: 'INVALID_INPUT', 404: 'NOT_FOUND: unknown journey' },
      async handle({ params }) {
        return { status: 200, body: await engine.journeyMetrics(params.id) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/journeys/:id/pause',
      operationId: 'pauseJourney',
      summary: 'Pause a journey',
      description: 'Nobody new enrolls; enrolled customers keep their place and carry on.',
      tag: 'journeys',
      params: journeyParams,
      responses: { 200: { description: 'Paused.', schema: journeyStatusSchema } },
      errors: { 400: 'INVALID_INPUT', 404: 'NOT_FOUND: unknown journey' },
      async handle({ params }) {
        await engine.pause(params.id);
        return { status: 200, body: { id: params.id, status: 'paused' } };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/journeys/:id/resume',
      operationId: 'resumeJourney',
      summary: 'Resume a paused journey',
      tag: 'journeys',
      params: journeyParams,
      responses: { 200: { description: 'Enrolling again.', schema: journeyStatusSchema } },
      errors: { 400: 'INVALID_INPUT', 404: 'NOT_FOUND: unknown journey' },
      async handle({ params }) {
        await engine.resume(params.id);
        return { status: 200, body: { id: params.id, status: 'active' } };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/journeys/:id/customers/:customer_id/advance',
      operationId: 'advanceCustomer',
      summary: 'Move a customer to a stage, or the next one',
      tag: 'journeys',
      params: journeyCustomerParams,
      body: z.strictObject({ stage: identifierSchema.optional() }).optional(),
      responses: {
        200: { description: 'The enrollment after the move.', schema: enrollmentSchema },
      },
      errors: {
        400: 'INVALID_INPUT (including a stage the journey does not have)',
        404: 'NOT_FOUND: unknown journey, or no active enrollment',
        503: 'TIMEOUT',
      },
      async handle({ params, body }) {
        const enrollment = await engine.advanceCustomer(params.id, params.customer_id, body?.stage);
        return { status: 200, body: enrollmentJson(enrollment) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/journeys/:id',
      operationId: 'getJourney',
      summary: 'A journey: definition, version, status and stored versions',
      tag: 'journeys',
      params: journeyParams,
      responses: { 200: { description: 'The journey.', schema: journeyDetailSchema } },
      errors: { 400: 'INVALID_INPUT', 404: 'NOT_FOUND: unknown journey' },
      async handle({ params }) {
        const journey = engine.describeJourney(params.id);
        const versions = await store.listJourneyVersions(params.id);
        return {
          status: 200,
          body: {
            id: journey.id,
            name: journey.definition.name ?? null,
            version: journey.version,
            status: journey.paused ? 'paused' : 'active',
            definition: JSON.parse(JSON.stringify(journey.definition)) as JsonObject,
            versions: versions.map(journeyVersionJson),
          },
        };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/v1/journeys/:id',
      operationId: 'putJourney',
      summary: 'Create or replace a journey definition',
      description:
        'The body is a journey as written in YAML, in JSON (see docs/journeys.md); `id` may be left out and is then taken from the path. It is validated like config and stored as a new version when it changed; customers already enrolled finish on their version.',
      tag: 'journeys',
      params: journeyParams,
      bodyDoc: {
        id: 'JourneyDefinitionInput',
        schema: journeySchema,
        description: 'A journey definition, as in the journeys: section of the config.',
      },
      responses: { 200: { description: 'Stored.', schema: journeySavedSchema } },
      errors: {
        400: 'INVALID_INPUT (located problems), JOURNEY_INVALID, CONFIG_INVALID',
      },
      async handle({ params, body }) {
        const definition =
          typeof body === 'object' && body !== null && !Array.isArray(body) && !('id' in body)
            ? { ...body, id: params.id }
            : body;
        const saved = await engine.putJourney(params.id, definition);
        return { status: 200, body: saved };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/journeys/:id/test',
      operationId: 'testJourney',
      summary: 'Run a journey for one customer in simulated time',
      description:
        "Runs the journey's current definition on a throw-away store with a virtual clock: the customer is enrolled at `start` (default now, with `entry_properties` if given, as `POST /v1/journeys/{id}/enroll` takes them), the given events arrive at their timestamps, and time jumps from one due wait to the next until the enrollment ends or `until` (default start + 365 days). Nothing is sent and nothing is stored. The answer is the path taken (journey events) and every message the journey would send.",
      tag: 'journeys',
      params: journeyParams,
      body: journeyTestBody,
      responses: { 200: { description: 'The run.', schema: journeyTestResultSchema } },
      errors: {
        400: 'INVALID_INPUT (located problems)',
        404: 'NOT_FOUND: unknown journey',
      },
      async handle({ params, body }) {
        engine.describeJourney(params.id);
        checkEntryProperties(body?.entry_properties);
        const start = body?.start ?? engine.clock.now();
        const until = body?.until;
        if (until !== undefined && (until < start || until - start > MAX_TEST_HORIZON_MS)) {
          throw new InvalidInputError('until must be after start, and at most five years later', {
            problems: [{ path: 'until', message: 'out of range' }],
          });
        }
        const customerId = body?.customer?.id ?? 'test-customer';
        const rawEvents = (body?.events ?? []).map((e) =>
          typeof e === 'object' && e !== null && !Array.isArray(e) && !('customer_id' in e)
            ? { ...e, customer_id: customerId }
            : e,
        );
        const events = rawEvents.length === 0 ? [] : parseEventBatch({ events: rawEvents }, start);
        const config: LoadedConfig = {
          config: engine.config,
          files: [],
          warnings: [],
          locate: () => undefined,
          sourceOf: () => undefined,
        };
        const result = await simulateJourney({
          config,
          openStore: openScratchStore,
          journeyId: params.id,
          customer: {
            id: customerId,
            attributes: body?.customer?.attributes ?? {},
          },
          events,
          start,
          until,
          seed: body?.seed ?? engine.seed,
          entryProperties: body?.entry_properties,
        });
        return {
          status: 200,
          body: {
            customer_id: result.customer_id,
            status: result.status,
            path: result.path.map(journeyEventJson),
            messages: result.messages.map(messageJson),
            ended_at: iso(result.ended_at),
          },
        };
      },
    }),
  ];
}

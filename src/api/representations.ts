/**
 * What the API sends: the wire form of stored records, as zod schemas (which the OpenAPI document
 * is generated from) and the functions that produce them (typed by those schemas, so the document
 * and the answers cannot drift apart).
 *
 * Wire conventions: snake_case field names, as in the guide's interfaces (`customer_id`,
 * `journey_id`); instants as ISO-8601 UTC strings; absent values as `null`, never omitted.
 */
import { z } from 'zod';
import type {
  AlertRecord,
  CustomerRecord,
  DecisionRecord,
  EnrollmentRecord,
  Instant,
  JourneyEventRecord,
  JourneyVersionRecord,
  MessageRecord,
  TaskRecord,
  TimerRecord,
} from '../core/index.js';
import { toWireJourneyEvent } from '../core/index.js';
import type { Lift } from '../decisions/index.js';

/** Name and description of a schema in the OpenAPI document. */
export interface SchemaName {
  id: string;
  description: string;
}

/** Every named response schema; the OpenAPI document's `components.schemas` come from here. */
export const responseSchemas = z.registry<SchemaName>();

/** The same, enumerable (a zod registry cannot be listed). */
export const namedResponseSchemas: { schema: z.ZodType; name: SchemaName }[] = [];

/** Registers `schema` under `id` (with a description for the document) and returns it. */
function named<S extends z.ZodType>(id: string, description: string, schema: S): S {
  responseSchemas.add(schema, { id, description });
  namedResponseSchemas.push({ schema, name: { id, description } });
  return schema;
}

const instant = z.iso.datetime();
const jsonObject = z.record(z.string(), z.unknown());

/** Epoch milliseconds → ISO-8601. */
export function iso(at: Instant): string {
  return new Date(at).toISOString();
}

function isoOrNull(at: Instant | null): string | null {
  return at === null ? null : iso(at);
}

/** The error body of every non-2xx answer. */
export const errorBodySchema = named(
  'Error',
  'Every error answer: a stable code to branch on, a message for people, structured details.',
  z.object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown(),
    }),
  }),
);
/** The error body of every non-2xx answer. */
export type ErrorBody = z.output<typeof errorBodySchema>;

/** A customer profile. */
export const customerSchema = named(
  'Customer',
  'A customer profile: the attributes conditions and templates read.',
  z.object({
    id: z.string(),
    attributes: jsonObject,
    created_at: instant,
    updated_at: instant,
  }),
);

/** Wire form of a customer. */
export function customerJson(c: CustomerRecord): z.output<typeof customerSchema> {
  return {
    id: c.id,
    attributes: c.attributes,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
  };
}

/** One customer's run through one journey version. */
export const enrollmentSchema = named(
  'Enrollment',
  "One customer's run through one version of a journey (a row of journey_enrollments).",
  z.object({
    id: z.string(),
    journey_id: z.string(),
    journey_version: z.number().int(),
    customer_id: z.string(),
    status: z.enum(['active', 'completed', 'exited']),
    stage: z.string(),
    step_id: z.string().nullable(),
    holdout: z.boolean(),
    enrolled_at: instant,
    updated_at: instant,
    ended_at: instant.nullable(),
    exit_reason: z.string().nullable(),
  }),
);

/**
 * Wire form of an enrollment. The runtime's `state` (waits, split assignments, goal bookkeeping)
 * is left out on purpose: its layout belongs to the journey runtime and may change between
 * releases; what a client needs of it is public elsewhere (the step it is at here, its pending
 * waits in the customer's timeline).
 */
export function enrollmentJson(e: EnrollmentRecord): z.output<typeof enrollmentSchema> {
  return {
    id: e.id,
    journey_id: e.journeyId,
    journey_version: e.journeyVersion,
    customer_id: e.customerId,
    status: e.status,
    stage: e.stage,
    step_id: e.stepId,
    holdout: e.holdout,
    enrolled_at: iso(e.enrolledAt),
    updated_at: iso(e.updatedAt),
    ended_at: isoOrNull(e.endedAt),
    exit_reason: e.exitReason,
  };
}

/** A message to a customer. */
export const messageSchema = named(
  'Message',
  'A message to a customer and what delivery did with it (a row of messages).',
  z.object({
    id: z.string(),
    customer_id: z.string(),
    journey_id: z.string().nullable(),
    enrollment_id: z.string().nullable(),
    step_id: z.string().nullable(),
    channel: z.string(),
    priority: z.enum(['critical', 'high', 'normal', 'low']),
    status: z.enum([
      'queued',
      'sent',
      'delivered',
      'failed',
      'suppressed',
      'deferred',
      'dead_lettered',
      'simulated',
    ]),
    content: jsonObject,
    idempotency_key: z.string(),
    created_at: instant,
    sent_at: instant.nullable(),
    updated_at: instant,
    error: z.string().nullable(),
    attempts: z.number().int(),
    provider: z.string().nullable(),
    provider_message_id: z.string().nullable(),
    read_at: instant.nullable(),
    engaged_at: instant.nullable(),
    expires_at: instant.nullable(),
  }),
);

/** Wire form of a message. */
export function messageJson(m: MessageRecord): z.output<typeof messageSchema> {
  return {
    id: m.id,
    customer_id: m.customerId,
    journey_id: m.journeyId,
    enrollment_id: m.enrollmentId,
    step_id: m.stepId,
    channel: m.channel,
    priority: m.priority,
    status: m.status,
    content: m.content,
    idempotency_key: m.idempotencyKey,
    created_at: iso(m.createdAt),
    sent_at: isoOrNull(m.sentAt),
    updated_at: iso(m.updatedAt),
    error: m.error,
    attempts: m.attempts ?? 0,
    provider: m.provider ?? null,
    provider_message_id: m.providerMessageId ?? null,
    read_at: isoOrNull(m.readAt ?? null),
    engaged_at: isoOrNull(m.engagedAt ?? null),
    expires_at: isoOrNull(m.expiresAt ?? null),
  };
}

/** The guide's `JourneyEvent`. */
export const journeyEventSchema = named(
  'JourneyEvent',
  "The guide's JourneyEvent: what webhooks receive and the dashboard counts.",
  z.object({
    type: z.string(),
    journey_id: z.string(),
    customer_id: z.string(),
    timestamp: instant,
    data: jsonObject,
  }),
);

/** Wire form of a journey event. */
export function journeyEventJson(e: JourneyEventRecord): z.output<typeof journeyEventSchema> {
  return toWireJourneyEvent(e);
}

/** A logged decision with its explanation. */
export const decisionSchema = named(
  'Decision',
  'A logged decision (trigger fired, rules evaluated, enrollment accepted or rejected) with its explanation.',
  z.object({
    id: z.string(),
    customer_id: z.string(),
    kind: z.string(),
    at: instant,
    subject: z.string().nullable(),
    explanation: jsonObject,
  }),
);

/** Wire form of a decision. */
export function decisionJson(d: DecisionRecord): z.output<typeof decisionSchema> {
  return {
    id: d.id,
    customer_id: d.customerId,
    kind: d.kind,
    at: iso(d.at),
    subject: d.subject,
    explanation: d.explanation,
  };
}

/** A pending durable wake-up. */
export const timerSchema = named(
  'Timer',
  'A durable wake-up of an enrollment (a wait, a wait timeout, a delayed action, a goal window).',
  z.object({
    id: z.string(),
    enrollment_id: z.string().nullable(),
    kind: z.string(),
    due_at: instant,
    status: z.string(),
    payload: jsonObject,
  }),
);

/** Wire form of a timer. */
export function timerJson(t: TimerRecord): z.output<typeof timerSchema> {
  return {
    id: t.id,
    enrollment_id: t.enrollmentId,
    kind: t.kind,
    due_at: iso(t.dueAt),
    status: t.status,
    payload: t.payload,
  };
}

/** A CSM task. */
export const taskSchema = named(
  'Task',
  'A task for a person (create_task action or task step).',
  z.object({
    id: z.string(),
    customer_id: z.string(),
    journey_id: z.string().nullable(),
    title: z.string(),
    assignee: z.string().nullable(),
    due_at: instant.nullable(),
    status: z.enum(['open', 'done', 'cancelled']),
    created_at: instant,
    data: jsonObject,
    completed_at: instant.nullable(),
    completed_by: z.string().nullable(),
  }),
);

/** Wire form of a task. */
export function taskJson(t: TaskRecord): z.output<typeof taskSchema> {
  return {
    id: t.id,
    customer_id: t.customerId,
    journey_id: t.journeyId,
    title: t.title,
    assignee: t.assignee,
    due_at: isoOrNull(t.dueAt),
    status: t.status,
    created_at: iso(t.createdAt),
    data: t.data,
    completed_at: isoOrNull(t.completedAt ?? null),
    completed_by: t.completedBy ?? null,
  };
}

/** An alert. */
export const alertSchema = named(
  'Alert',
  'An alert (create_alert action or alert step).',
  z.object({
    id: z.string(),
    customer_id: z.string().nullable(),
    journey_id: z.string().nullable(),
    severity: z.string(),
    message: z.string(),
    assignee: z.string().nullable(),
    status: z.enum(['open', 'acknowledged', 'resolved']),
    created_at: instant,
    data: jsonObject,
  }),
);

/** Wire form of an alert. */
export function alertJson(a: AlertRecord): z.output<typeof alertSchema> {
  return {
    id: a.id,
    customer_id: a.customerId,
    journey_id: a.journeyId,
    severity: a.severity,
    message: a.message,
    assignee: a.assignee,
    status: a.status,
    created_at: iso(a.createdAt),
    data: a.data,
  };
}

/** A page of items with the cursor of the next page (null on the last page). */
function pageOf<S extends z.ZodType>(id: string, what: string, item: S) {
  return named(
    id,
    `A page of ${what}; pass next_cursor as ?cursor= for the next page (null: last page).`,
    z.object({ items: z.array(item), next_cursor: z.string().nullable() }),
  );
}

/** `GET /v1/customers` */
export const customerPageSchema = pageOf('CustomerPage', 'customers', customerSchema);
/** `GET /v1/enrollments` */
export const enrollmentPageSchema = pageOf('EnrollmentPage', 'enrollments', enrollmentSchema);
/** `GET /v1/messages` */
export const messagePageSchema = pageOf('MessagePage', 'messages', messageSchema);
/** `GET /v1/tasks` (newest first; one page) */
export const taskListSchema = pageOf('TaskList', 'tasks, newest first,', taskSchema);
/** `GET /v1/alerts` (newest first; one page) */
export const alertListSchema = pageOf('AlertList', 'alerts, newest first,', alertSchema);

/** `GET /v1/customers/{id}` */
export const customerDetailSchema = named(
  'CustomerDetail',
  'A customer profile with their enrollments (newest first).',
  z.object({ customer: customerSchema, enrollments: z.array(enrollmentSchema) }),
);

/** One entry of a customer's timeline. */
export const timelineEntrySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('journey_event'), at: instant, journey_event: journeyEventSchema }),
  z.object({ kind: z.literal('message'), at: instant, message: messageSchema }),
  z.object({ kind: z.literal('decision'), at: instant, decision: decisionSchema }),
]);
/** One entry of a customer's timeline. */
export type TimelineEntry = z.output<typeof timelineEntrySchema>;

/** `GET /v1/customers/{id}/timeline` */
export const timelineSchema = named(
  'Timeline',
  "Everything that happened to a customer, oldest first: journey events, messages and the decisions that explain them. 'truncated' says older entries were left out (see limit). 'pending_timers' are the waits still to come.",
  z.object({
    customer_id: z.string(),
    entries: z.array(timelineEntrySchema),
    truncated: z.boolean(),
    pending_timers: z.array(timerSchema),
  }),
);

/** `POST /v1/events` */
export const ingestResultSchema = named(
  'IngestResult',
  'What happened to each posted event, in the order posted; given once the events are durably stored.',
  z.object({
    accepted: z.number().int(),
    duplicates: z.number().int(),
    results: z.array(z.object({ id: z.string(), status: z.enum(['accepted', 'duplicate']) })),
  }),
);

/** One journey in `GET /v1/journeys`. */
export const journeySummarySchema = named(
  'JourneySummary',
  'A journey: its current version and whether it is enrolling (active) or paused.',
  z.object({
    id: z.string(),
    name: z.string().nullable(),
    version: z.number().int(),
    status: z.enum(['active', 'paused']),
    updated_at: instant.nullable(),
  }),
);

/** `GET /v1/journeys` */
export const journeyListSchema = named(
  'JourneyList',
  'Every journey of the project.',
  z.object({ items: z.array(journeySummarySchema) }),
);

/** `GET /v1/journeys/{id}` */
export const journeyDetailSchema = named(
  'JourneyDetail',
  'A journey with its current definition (as validated and normalised: defaults filled in, durations compiled) and its stored versions.',
  z.object({
    id: z.string(),
    name: z.string().nullable(),
    version: z.number().int(),
    status: z.enum(['active', 'paused']),
    definition: jsonObject,
    versions: z.array(
      z.object({ version: z.number().int(), hash: z.string(), created_at: instant }),
    ),
  }),
);

/** Wire form of a stored version. */
export function journeyVersionJson(v: JourneyVersionRecord): {
  version: number;
  hash: string;
  created_at: string;
} {
  return { version: v.version, hash: v.hash, created_at: iso(v.createdAt) };
}

/** `PUT /v1/journeys/{id}` */
export const journeySavedSchema = named(
  'JourneySaved',
  'The current version after the PUT; created is false when the definition was unchanged. warnings: what waymark validate would warn about in it (stored anyway), e.g. a step reading event.… where a run has no event.',
  z.object({
    version: z.number().int(),
    created: z.boolean(),
    warnings: z.array(z.object({ path: z.string(), message: z.string() })),
  }),
);

/** `POST /v1/journeys/{id}/pause` and `/resume` */
export const journeyStatusSchema = named(
  'JourneyStatus',
  'Whether the journey enrolls new customers.',
  z.object({ id: z.string(), status: z.enum(['active', 'paused']) }),
);

/** `GET /v1/journeys/{id}/customers/{customer_id}/status` */
export const customerJourneyStatusSchema = named(
  'CustomerJourneyStatus',
  "A customer's place in a journey: the active enrollment, else the latest ended one; not_enrolled when they never entered it. history lists every enrollment, newest first.",
  z.object({
    journey_id: z.string(),
    customer_id: z.string(),
    status: z.enum(['active', 'completed', 'exited', 'not_enrolled']),
    enrollment: enrollmentSchema.nullable(),
    history: z.array(enrollmentSchema),
  }),
);

/** `GET /v1/journeys/{id}/metrics` */
export const journeyMetricsSchema = named(
  'JourneyMetrics',
  'Enrollment counts of a journey; completion_rate is completed / ended (null before anyone ended).',
  z.object({
    journey_id: z.string(),
    version: z.number().int(),
    status: z.enum(['active', 'paused']),
    enrollments: z.object({
      active: z.number().int(),
      completed: z.number().int(),
      exited: z.number().int(),
      total: z.number().int(),
    }),
    active_by_stage: z.record(z.string(), z.number().int()),
    completion_rate: z.number().nullable(),
  }),
);

/** `POST /v1/journeys/{id}/test` */
export const journeyTestResultSchema = named(
  'JourneyTestResult',
  "A simulated run: the enrollment's final status (active when the horizon came first; not_enrolled when the journey refused), the journey events in order and the messages it would send.",
  z.object({
    customer_id: z.string(),
    status: z.string(),
    path: z.array(journeyEventSchema),
    messages: z.array(messageSchema),
    ended_at: instant,
  }),
);

/** `GET /openapi.json` */
export const openApiDocumentSchema = named(
  'OpenApiDocument',
  'This document.',
  z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }),
);

/** `GET /healthz` */
export const healthSchema = named(
  'Health',
  "The server answers and its store is reachable; each channel provider's circuit; each stream source's state; each model's loaded version and endpoint circuit.",
  z.object({
    status: z.literal('ok'),
    providers: z.array(
      z.object({
        channel: z.string(),
        provider: z.string(),
        kind: z.string(),
        circuit: z.enum(['closed', 'half_open', 'open']),
        problem: z.string().nullable(),
      }),
    ),
    sources: z.array(
      z.object({
        name: z.string(),
        type: z.literal('nats'),
        state: z.enum(['starting', 'running', 'reconnecting', 'retrying', 'stopped']),
        stream: z.string(),
        durable: z.string(),
        pending: z.number().int().nullable().meta({
          description:
            'Messages in the stream not yet delivered to the consumer (null: unknown now).',
        }),
        ack_pending: z.number().int().nullable().meta({
          description: 'Messages delivered but not yet acknowledged (null: unknown now).',
        }),
        last_error: z.string().nullable(),
      }),
    ),
    models: z.array(
      z.object({
        name: z.string(),
        version: z.number().int().nullable().meta({
          description: 'The registry version this process scores with (null: none loaded).',
        }),
        endpoint: z
          .object({ circuit: z.enum(['closed', 'half_open', 'open']) })
          .nullable()
          .meta({ description: "The model's own HTTP endpoint, if it has one, and its circuit." }),
        problem: z.string().nullable().meta({ description: 'Why its predictions idle.' }),
      }),
    ),
  }),
);

/** The guide's `DeadLetterItem`, with the channel, category and retry link Waymark adds. */
export const deadLetterSchema = named(
  'DeadLetterItem',
  "The guide's DeadLetterItem: a message no channel could deliver, kept for review.",
  z.object({
    id: z.string(),
    message_id: z.string(),
    customer_id: z.string(),
    channel: z.string(),
    original_message: jsonObject,
    failure_reason: z.string(),
    category: z.string(),
    attempt_count: z.number().int(),
    timestamps: z.object({ first_attempt: instant, last_attempt: instant }),
    status: z.enum(['pending_review', 'retrying', 'abandoned']),
    tried_channels: z.array(z.unknown()),
    retry_message_id: z.string().nullable(),
    created_at: instant,
    updated_at: instant,
  }),
);

/** `GET /v1/dead-letters` */
export const deadLetterPageSchema = pageOf('DeadLetterPage', 'dead letters', deadLetterSchema);

/** One message of a customer's in-app inbox, as an inbox UI shows it. */
export const inboxItemSchema = named(
  'InboxItem',
  "A message in a customer's in-app inbox. priority_level is one of the channel's priority_levels: the message's own content.priority_level when the channel lists it, else mapped from priority (critical and high: the first level; normal: 'normal' when listed, else the middle one; low: the last).",
  z.object({
    id: z.string(),
    channel: z.string(),
    journey_id: z.string().nullable(),
    priority: messageSchema.shape.priority,
    priority_level: z.string(),
    title: z.string().nullable(),
    body: z.string().nullable(),
    url: z.string().nullable(),
    data: jsonObject,
    created_at: instant,
    read_at: instant.nullable(),
    expires_at: instant.nullable(),
  }),
);

/** `GET /v1/customers/{customer_id}/inbox` */
export const inboxPageSchema = named(
  'InboxPage',
  "A page of a customer's in-app inbox, newest first; pass next_cursor as ?cursor= for the next page (null: last page). unread_count is counted on the first page only (null with a cursor) and stops at 1,000 (unread_count_capped: there are more).",
  z.object({
    items: z.array(inboxItemSchema),
    next_cursor: z.string().nullable(),
    unread_count: z.number().int().nullable(),
    unread_count_capped: z.boolean(),
  }),
);

/** `POST /v1/customers/{customer_id}/inbox/{message_id}/read` */
export const inboxReadSchema = named(
  'InboxRead',
  "The read is recorded in the customer's log (accepted) or was already (duplicate); read_at and message.engaged follow once the engine applies it.",
  z.object({ message_id: z.string(), status: z.enum(['accepted', 'duplicate']) }),
);

/** `POST /v1/decisions/next-best-action` */
export const nextBestActionSchema = named(
  'NBActionResponse',
  "The spec's NBActionResponse: the recommended action (confidence = its P(response)), the alternatives best first, and when to act; plus the logged decision's id, the actions left out and why, and the customer's time zone.",
  z.object({
    decision_id: z.string(),
    customer_id: z.string(),
    recommended_action: z.object({
      action_type: z.string().meta({ description: "A catalogue action, or 'none'." }),
      action_params: jsonObject,
      confidence: z.number(),
      reasoning: z.string(),
      expected_value: z.number(),
      channel: z.string().nullable(),
    }),
    alternatives: z.array(
      z.object({
        action_type: z.string(),
        confidence: z.number(),
        expected_value: z.number(),
        reasoning: z.string(),
      }),
    ),
    excluded: z.array(z.object({ action: z.string(), reason: z.string() })),
    timing: z.object({
      optimal_time: instant,
      time_window: z.object({ start: instant, end: instant }),
      timezone: z.string(),
    }),
  }),
);

/** One model version in the registry. */
export const modelSummarySchema = named(
  'ModelVersion',
  'A version of a registered model with its evaluation (the model body itself is not sent).',
  z.object({
    name: z.string(),
    version: z.number().int(),
    kind: z.string(),
    registered_at: instant,
    source: z.string(),
    metrics: jsonObject,
  }),
);

/** `GET /v1/models` */
export const modelListSchema = named(
  'ModelList',
  'Registered models, newest version first per name.',
  z.object({ models: z.array(modelSummarySchema) }),
);

/** `GET /v1/customers/{id}/predictions` */
export const customerPredictionsSchema = named(
  'CustomerPredictions',
  "Each configured prediction's live score of the customer (probability, 0–100 score, whether it is at or above the threshold, top factors), and the AIPrediction records of past threshold crossings, newest first.",
  z.object({
    customer_id: z.string(),
    scores: z.array(
      z.object({
        prediction: z.string(),
        model: z.string().nullable(),
        probability: z.number().nullable(),
        score: z.number().nullable(),
        threshold: z.number().nullable(),
        above_threshold: z.boolean().nullable(),
        factors: z.array(z.string()),
        notes: z.array(z.string()),
      }),
    ),
    history: z.array(decisionSchema),
  }),
);

const groupRateSchema = z.object({
  customers: z.number().int(),
  conversions: z.number().int(),
  rate: z.number().nullable(),
  ci95: z.tuple([z.number(), z.number()]).nullable(),
});

/** Treated against holdout, with the lift's 95% interval. */
export const liftSchema = named(
  'Lift',
  "Treated against holdout: each group's conversion rate (Wilson 95% interval), the absolute lift with Newcombe's 95% interval, the relative lift (null when the holdout never converted) and a two-sided p-value.",
  z.object({
    treated: groupRateSchema,
    holdout: groupRateSchema,
    absolute_lift: z.number().nullable(),
    ci95: z.tuple([z.number(), z.number()]).nullable(),
    relative_lift: z.number().nullable(),
    p_value: z.number().nullable(),
  }),
);

/** Wire form of a lift. */
export function liftJson(lift: Lift): z.output<typeof liftSchema> {
  const group = (g: Lift['treated']): z.output<typeof groupRateSchema> => ({
    customers: g.customers,
    conversions: g.conversions,
    rate: g.rate,
    ci95: g.ci95 === null ? null : [g.ci95[0], g.ci95[1]],
  });
  return {
    treated: group(lift.treated),
    holdout: group(lift.holdout),
    absolute_lift: lift.absolute,
    ci95: lift.ci95 === null ? null : [lift.ci95[0], lift.ci95[1]],
    relative_lift: lift.relative,
    p_value: lift.pValue,
  };
}

/** `GET /v1/journeys/{id}/uplift` */
export const journeyUpliftSchema = named(
  'JourneyUplift',
  'Per goal: enrollments that ran the journey against those held out (journey and global holdout). Goals with a window count only enrollments whose window has closed; the rest are pending.',
  z.object({
    journey_id: z.string(),
    holdout: z.number(),
    global_holdout: z.number(),
    enrollments: z.number().int(),
    goals: z.array(
      z.object({
        goal: z.string(),
        window_ms: z.number().nullable(),
        pending: z.number().int(),
        lift: liftSchema,
      }),
    ),
  }),
);

/** `GET /v1/uplift` */
export const globalUpliftSchema = named(
  'GlobalUplift',
  "The global holdout (defaults.global_holdout): per journey taking part, 'any goal reached' among customers who ran it against the global holdout's members, and the same pooled over those journeys.",
  z.object({
    fraction: z.number(),
    journeys: z.array(
      z.object({ journey_id: z.string(), pending: z.number().int(), lift: liftSchema }),
    ),
    pooled: liftSchema,
  }),
);

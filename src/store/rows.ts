/**
 * How rows map to records, for both backends. The tables have the same columns on SQLite and on
 * PostgreSQL, and a row differs between the two only in how the driver hands over a JSON column
 * (SQLite: TEXT; PostgreSQL: the parsed `jsonb`) and a boolean one (SQLite: 0/1; PostgreSQL:
 * boolean). So the row types take those as type parameters — `J` for JSON columns, `F` for flags —
 * and `rowMappers` takes the backend's decoding of them; everything else is written once, here.
 */
import type {
  AlertRecord,
  CustomerRecord,
  DeadLetterRecord,
  DecisionRecord,
  EnrollmentRecord,
  EnrollmentStatus,
  EventStatus,
  JourneyEventRecord,
  JourneyStateRecord,
  JourneyVersionRecord,
  JsonObject,
  MessageRecord,
  ModelRecord,
  OutboxEntry,
  SchedulePlanRecord,
  StoredEvent,
  TaskRecord,
  TimerKind,
  TimerRecord,
  TimerStatus,
  TriggerExecutionRecord,
} from './contract.js';

/** How a backend's driver hands over JSON columns (`J`) and boolean columns (`F`). */
export interface ColumnDecoding<J, F> {
  json(value: J): JsonObject;
  flag(value: F): boolean;
}

/** `customers` row. */
export interface CustomerRow<J> {
  id: string;
  attributes: J;
  created_at: number;
  updated_at: number;
}

/** `events` row. */
export interface EventRow<J> {
  seq: number;
  id: string;
  idempotency_key: string | null;
  customer_id: string;
  type: string;
  occurred_at: number;
  received_at: number;
  payload: J;
  status: EventStatus;
  error: string | null;
}

/** `timers` row. */
export interface TimerRow<J> {
  id: string;
  customer_id: string;
  enrollment_id: string | null;
  kind: TimerKind;
  due_at: number;
  payload: J;
  status: TimerStatus;
}

/** `schedule_plans` row. */
export interface SchedulePlanRow {
  customer_id: string;
  trigger_name: string;
  timer_id: string | null;
  anchor: string | null;
  fired_anchor: string | null;
}

/** `journey_enrollments` row. */
export interface EnrollmentRow<J, F> {
  id: string;
  journey_id: string;
  journey_version: number;
  customer_id: string;
  status: EnrollmentStatus;
  stage: string;
  step_id: string | null;
  state: J;
  holdout: F;
  enrolled_at: number;
  updated_at: number;
  ended_at: number | null;
  exit_reason: string | null;
}

/** `messages` row. */
export interface MessageRow<J> {
  id: string;
  customer_id: string;
  journey_id: string | null;
  enrollment_id: string | null;
  step_id: string | null;
  channel: string;
  priority: MessageRecord['priority'];
  status: MessageRecord['status'];
  content: J;
  idempotency_key: string;
  created_at: number;
  sent_at: number | null;
  updated_at: number;
  error: string | null;
  attempts: number;
  provider: string | null;
  provider_message_id: string | null;
  send_at: number | null;
  read_at: number | null;
  engaged_at: number | null;
  expires_at: number | null;
}

/** `outbox` row. */
export interface OutboxRow<J> {
  seq: number;
  kind: OutboxEntry['kind'];
  idempotency_key: string;
  payload: J;
  available_at: number;
  attempts: number;
  status: OutboxEntry['status'];
  lane: string | null;
}

/** `dead_letters` row. */
export interface DeadLetterRow<J> {
  id: string;
  message_id: string;
  customer_id: string;
  channel: string;
  original_message: J;
  failure_reason: string;
  category: string;
  attempt_count: number;
  first_attempt_at: number;
  last_attempt_at: number;
  status: DeadLetterRecord['status'];
  created_at: number;
  updated_at: number;
  retry_message_id: string | null;
}

/** `journey_events` row. */
export interface JourneyEventRow<J> {
  seq: number;
  type: string;
  journey_id: string;
  customer_id: string;
  occurred_at: number;
  data: J;
}

/** `trigger_executions` row. */
export interface TriggerExecutionRow<F> {
  trigger_name: string;
  customer_id: string;
  event_seq: number | null;
  executed_at: number;
  processing_time_ms: number;
  fired: F;
}

/** `decisions` row. */
export interface DecisionRow<J> {
  id: string;
  customer_id: string;
  kind: string;
  at: number;
  subject: string | null;
  explanation: J;
}

/** `models` row. */
export interface ModelRow<J> {
  name: string;
  version: number;
  kind: string;
  created_at: number;
  body: J;
  metrics: J;
  source: string;
}

/** `tasks` row. */
export interface TaskRow<J> {
  id: string;
  customer_id: string;
  journey_id: string | null;
  title: string;
  assignee: string | null;
  due_at: number | null;
  status: TaskRecord['status'];
  created_at: number;
  data: J;
  completed_at: number | null;
  completed_by: string | null;
}

/** `alerts` row. */
export interface AlertRow<J> {
  id: string;
  customer_id: string | null;
  journey_id: string | null;
  severity: string;
  message: string;
  assignee: string | null;
  status: AlertRecord['status'];
  created_at: number;
  data: J;
}

/** `journey_versions` row. */
export interface JourneyVersionRow<J> {
  journey_id: string;
  version: number;
  hash: string;
  definition: J;
  created_at: number;
}

/** `journeys` row. */
export interface JourneyStateRow {
  journey_id: string;
  current_version: number;
  status: JourneyStateRecord['status'];
  updated_at: number;
}

/** Record mappers for a backend, given how its driver hands over JSON and boolean columns. */
export function rowMappers<J, F>(d: ColumnDecoding<J, F>) {
  return {
    /** Customer record from its row. */
    customerFromRow: (row: CustomerRow<J>): CustomerRecord => ({
      id: row.id,
      attributes: d.json(row.attributes),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    }),

    /** Stored event from its row. */
    eventFromRow: (row: EventRow<J>): StoredEvent => ({
      seq: row.seq,
      id: row.id,
      idempotencyKey: row.idempotency_key,
      customerId: row.customer_id,
      type: row.type,
      occurredAt: row.occurred_at,
      receivedAt: row.received_at,
      payload: d.json(row.payload),
      status: row.status,
      error: row.error,
    }),

    /** Timer record from its row. */
    timerFromRow: (row: TimerRow<J>): TimerRecord => ({
      id: row.id,
      customerId: row.customer_id,
      enrollmentId: row.enrollment_id,
      kind: row.kind,
      dueAt: row.due_at,
      payload: d.json(row.payload),
      status: row.status,
    }),

    /** Schedule plan from its row. */
    schedulePlanFromRow: (row: SchedulePlanRow): SchedulePlanRecord => ({
      customerId: row.customer_id,
      triggerName: row.trigger_name,
      timerId: row.timer_id,
      anchor: row.anchor,
      firedAnchor: row.fired_anchor,
    }),

    /** Enrollment record from its row. */
    enrollmentFromRow: (row: EnrollmentRow<J, F>): EnrollmentRecord => ({
      id: row.id,
      journeyId: row.journey_id,
      journeyVersion: row.journey_version,
      customerId: row.customer_id,
      status: row.status,
      stage: row.stage,
      stepId: row.step_id,
      state: d.json(row.state),
      holdout: d.flag(row.holdout),
      enrolledAt: row.enrolled_at,
      updatedAt: row.updated_at,
      endedAt: row.ended_at,
      exitReason: row.exit_reason,
    }),

    /** Message record from its row. */
    messageFromRow: (row: MessageRow<J>): MessageRecord => ({
      id: row.id,
      customerId: row.customer_id,
      journeyId: row.journey_id,
      enrollmentId: row.enrollment_id,
      stepId: row.step_id,
      channel: row.channel,
      priority: row.priority,
      status: row.status,
      content: d.json(row.content),
      idempotencyKey: row.idempotency_key,
      createdAt: row.created_at,
      sentAt: row.sent_at,
      updatedAt: row.updated_at,
      error: row.error,
      sendAt: row.send_at,
      readAt: row.read_at,
      engagedAt: row.engaged_at,
      expiresAt: row.expires_at,
      attempts: row.attempts,
      provider: row.provider,
      providerMessageId: row.provider_message_id,
    }),

    /** Outbox entry from its row. */
    outboxFromRow: (row: OutboxRow<J>): OutboxEntry => ({
      seq: row.seq,
      kind: row.kind,
      key: row.idempotency_key,
      payload: d.json(row.payload),
      availableAt: row.available_at,
      attempts: row.attempts,
      status: row.status,
      lane: row.lane,
    }),

    /** Dead letter from its row. */
    deadLetterFromRow: (row: DeadLetterRow<J>): DeadLetterRecord => ({
      id: row.id,
      messageId: row.message_id,
      customerId: row.customer_id,
      channel: row.channel,
      originalMessage: d.json(row.original_message),
      failureReason: row.failure_reason,
      category: row.category,
      attemptCount: row.attempt_count,
      firstAttemptAt: row.first_attempt_at,
      lastAttemptAt: row.last_attempt_at,
      status: row.status,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      retryMessageId: row.retry_message_id,
    }),

    /** Journey event record from its row. */
    journeyEventFromRow: (row: JourneyEventRow<J>): JourneyEventRecord => ({
      seq: row.seq,
      type: row.type,
      journeyId: row.journey_id,
      customerId: row.customer_id,
      timestamp: row.occurred_at,
      data: d.json(row.data),
    }),

    /** Trigger execution record from its row. */
    triggerExecutionFromRow: (row: TriggerExecutionRow<F>): TriggerExecutionRecord => ({
      triggerName: row.trigger_name,
      customerId: row.customer_id,
      eventSeq: row.event_seq,
      executedAt: row.executed_at,
      processingTimeMs: row.processing_time_ms,
      fired: d.flag(row.fired),
    }),

    /** Decision record from its row. */
    decisionFromRow: (row: DecisionRow<J>): DecisionRecord => ({
      id: row.id,
      customerId: row.customer_id,
      kind: row.kind,
      at: row.at,
      subject: row.subject,
      explanation: d.json(row.explanation),
    }),

    /** Model record from its row. */
    modelFromRow: (row: ModelRow<J>): ModelRecord => ({
      name: row.name,
      version: row.version,
      kind: row.kind,
      createdAt: row.created_at,
      body: d.json(row.body),
      metrics: d.json(row.metrics),
      source: row.source,
    }),

    /** Task record from its row. */
    taskFromRow: (row: TaskRow<J>): TaskRecord => ({
      id: row.id,
      customerId: row.customer_id,
      journeyId: row.journey_id,
      title: row.title,
      assignee: row.assignee,
      dueAt: row.due_at,
      status: row.status,
      createdAt: row.created_at,
      data: d.json(row.data),
      completedAt: row.completed_at,
      completedBy: row.completed_by,
    }),

    /** Alert record from its row. */
    alertFromRow: (row: AlertRow<J>): AlertRecord => ({
      id: row.id,
      customerId: row.customer_id,
      journeyId: row.journey_id,
      severity: row.severity,
      message: row.message,
      assignee: row.assignee,
      status: row.status,
      createdAt: row.created_at,
      data: d.json(row.data),
    }),

    /** Journey version record from its row. */
    journeyVersionFromRow: (row: JourneyVersionRow<J>): JourneyVersionRecord => ({
      journeyId: row.journey_id,
      version: row.version,
      hash: row.hash,
      definition: d.json(row.definition),
      createdAt: row.created_at,
    }),

    /** Journey control state from its row. */
    journeyStateFromRow: (row: JourneyStateRow): JourneyStateRecord => ({
      journeyId: row.journey_id,
      currentVersion: row.current_version,
      status: row.status,
      updatedAt: row.updated_at,
    }),
  };
}

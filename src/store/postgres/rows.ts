/**
 * How records map to PostgreSQL rows and back. The driver has already turned `timestamptz` into
 * epoch ms, `bigint` into numbers and `jsonb` into objects (see `driver.ts`), so a row differs from
 * its record only in column names.
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
  TaskRecord,
  TimerKind,
  TimerRecord,
  TimerStatus,
  TriggerExecutionRecord,
  StoredEvent,
} from '../contract.js';

/** JSON text of a stored object, for a `jsonb` parameter. */
export function toJson(value: JsonObject): string {
  return JSON.stringify(value);
}

/** `customers` row. */
export interface CustomerRow {
  id: string;
  attributes: JsonObject;
  created_at: number;
  updated_at: number;
}

/** Customer record from its row. */
export function customerFromRow(row: CustomerRow): CustomerRecord {
  return {
    id: row.id,
    attributes: row.attributes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** `events` row. */
export interface EventRow {
  seq: number;
  id: string;
  idempotency_key: string | null;
  customer_id: string;
  type: string;
  occurred_at: number;
  received_at: number;
  payload: JsonObject;
  status: EventStatus;
  error: string | null;
}

/** Stored event from its row. */
export function eventFromRow(row: EventRow): StoredEvent {
  return {
    seq: row.seq,
    id: row.id,
    idempotencyKey: row.idempotency_key,
    customerId: row.customer_id,
    type: row.type,
    occurredAt: row.occurred_at,
    receivedAt: row.received_at,
    payload: row.payload,
    status: row.status,
    error: row.error,
  };
}

/** `timers` row. */
export interface TimerRow {
  id: string;
  customer_id: string;
  enrollment_id: string | null;
  kind: TimerKind;
  due_at: number;
  payload: JsonObject;
  status: TimerStatus;
}

/** Timer record from its row. */
export function timerFromRow(row: TimerRow): TimerRecord {
  return {
    id: row.id,
    customerId: row.customer_id,
    enrollmentId: row.enrollment_id,
    kind: row.kind,
    dueAt: row.due_at,
    payload: row.payload,
    status: row.status,
  };
}

/** `schedule_plans` row. */
export interface SchedulePlanRow {
  customer_id: string;
  trigger_name: string;
  timer_id: string | null;
  anchor: string | null;
  fired_anchor: string | null;
}

/** Schedule plan from its row. */
export function schedulePlanFromRow(row: SchedulePlanRow): SchedulePlanRecord {
  return {
    customerId: row.customer_id,
    triggerName: row.trigger_name,
    timerId: row.timer_id,
    anchor: row.anchor,
    firedAnchor: row.fired_anchor,
  };
}

/** `journey_enrollments` row. */
export interface EnrollmentRow {
  id: string;
  journey_id: string;
  journey_version: number;
  customer_id: string;
  status: EnrollmentStatus;
  stage: string;
  step_id: string | null;
  state: JsonObject;
  holdout: boolean;
  enrolled_at: number;
  updated_at: number;
  ended_at: number | null;
  exit_reason: string | null;
}

/** Enrollment record from its row. */
export function enrollmentFromRow(row: EnrollmentRow): EnrollmentRecord {
  return {
    id: row.id,
    journeyId: row.journey_id,
    journeyVersion: row.journey_version,
    customerId: row.customer_id,
    status: row.status,
    stage: row.stage,
    stepId: row.step_id,
    state: row.state,
    holdout: row.holdout,
    enrolledAt: row.enrolled_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
    exitReason: row.exit_reason,
  };
}

/** `messages` row. */
export interface MessageRow {
  id: string;
  customer_id: string;
  journey_id: string | null;
  enrollment_id: string | null;
  step_id: string | null;
  channel: string;
  priority: MessageRecord['priority'];
  status: MessageRecord['status'];
  content: JsonObject;
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

/** Message record from its row. */
export function messageFromRow(row: MessageRow): MessageRecord {
  return {
    id: row.id,
    customerId: row.customer_id,
    journeyId: row.journey_id,
    enrollmentId: row.enrollment_id,
    stepId: row.step_id,
    channel: row.channel,
    priority: row.priority,
    status: row.status,
    content: row.content,
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
  };
}

/** `outbox` row. */
export interface OutboxRow {
  seq: number;
  kind: OutboxEntry['kind'];
  idempotency_key: string;
  payload: JsonObject;
  available_at: number;
  attempts: number;
  status: OutboxEntry['status'];
  lane: string | null;
}

/** Outbox entry from its row. */
export function outboxFromRow(row: OutboxRow): OutboxEntry {
  return {
    seq: row.seq,
    kind: row.kind,
    key: row.idempotency_key,
    payload: row.payload,
    availableAt: row.available_at,
    attempts: row.attempts,
    status: row.status,
    lane: row.lane,
  };
}

/** `dead_letters` row. */
export interface DeadLetterRow {
  id: string;
  message_id: string;
  customer_id: string;
  channel: string;
  original_message: JsonObject;
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

/** Dead letter from its row. */
export function deadLetterFromRow(row: DeadLetterRow): DeadLetterRecord {
  return {
    id: row.id,
    messageId: row.message_id,
    customerId: row.customer_id,
    channel: row.channel,
    originalMessage: row.original_message,
    failureReason: row.failure_reason,
    category: row.category,
    attemptCount: row.attempt_count,
    firstAttemptAt: row.first_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    retryMessageId: row.retry_message_id,
  };
}

/** `journey_events` row. */
export interface JourneyEventRow {
  seq: number;
  type: string;
  journey_id: string;
  customer_id: string;
  occurred_at: number;
  data: JsonObject;
}

/** Journey event record from its row. */
export function journeyEventFromRow(row: JourneyEventRow): JourneyEventRecord {
  return {
    seq: row.seq,
    type: row.type,
    journeyId: row.journey_id,
    customerId: row.customer_id,
    timestamp: row.occurred_at,
    data: row.data,
  };
}

/** `trigger_executions` row. */
export interface TriggerExecutionRow {
  trigger_name: string;
  customer_id: string;
  event_seq: number | null;
  executed_at: number;
  processing_time_ms: number;
  fired: boolean;
}

/** Trigger execution record from its row. */
export function triggerExecutionFromRow(row: TriggerExecutionRow): TriggerExecutionRecord {
  return {
    triggerName: row.trigger_name,
    customerId: row.customer_id,
    eventSeq: row.event_seq,
    executedAt: row.executed_at,
    processingTimeMs: row.processing_time_ms,
    fired: row.fired,
  };
}

/** `decisions` row. */
export interface DecisionRow {
  id: string;
  customer_id: string;
  kind: string;
  at: number;
  subject: string | null;
  explanation: JsonObject;
}

/** Decision record from its row. */
export function decisionFromRow(row: DecisionRow): DecisionRecord {
  return {
    id: row.id,
    customerId: row.customer_id,
    kind: row.kind,
    at: row.at,
    subject: row.subject,
    explanation: row.explanation,
  };
}

/** `models` row. */
export interface ModelRow {
  name: string;
  version: number;
  kind: string;
  created_at: number;
  body: JsonObject;
  metrics: JsonObject;
  source: string;
}

/** Model record from its row. */
export function modelFromRow(row: ModelRow): ModelRecord {
  return {
    name: row.name,
    version: row.version,
    kind: row.kind,
    createdAt: row.created_at,
    body: row.body,
    metrics: row.metrics,
    source: row.source,
  };
}

/** `tasks` row. */
export interface TaskRow {
  id: string;
  customer_id: string;
  journey_id: string | null;
  title: string;
  assignee: string | null;
  due_at: number | null;
  status: TaskRecord['status'];
  created_at: number;
  data: JsonObject;
  completed_at: number | null;
  completed_by: string | null;
}

/** Task record from its row. */
export function taskFromRow(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    customerId: row.customer_id,
    journeyId: row.journey_id,
    title: row.title,
    assignee: row.assignee,
    dueAt: row.due_at,
    status: row.status,
    createdAt: row.created_at,
    data: row.data,
    completedAt: row.completed_at,
    completedBy: row.completed_by,
  };
}

/** `alerts` row. */
export interface AlertRow {
  id: string;
  customer_id: string | null;
  journey_id: string | null;
  severity: string;
  message: string;
  assignee: string | null;
  status: AlertRecord['status'];
  created_at: number;
  data: JsonObject;
}

/** Alert record from its row. */
export function alertFromRow(row: AlertRow): AlertRecord {
  return {
    id: row.id,
    customerId: row.customer_id,
    journeyId: row.journey_id,
    severity: row.severity,
    message: row.message,
    assignee: row.assignee,
    status: row.status,
    createdAt: row.created_at,
    data: row.data,
  };
}

/** `journey_versions` row. */
export interface JourneyVersionRow {
  journey_id: string;
  version: number;
  hash: string;
  definition: JsonObject;
  created_at: number;
}

/** Journey version record from its row. */
export function journeyVersionFromRow(row: JourneyVersionRow): JourneyVersionRecord {
  return {
    journeyId: row.journey_id,
    version: row.version,
    hash: row.hash,
    definition: row.definition,
    createdAt: row.created_at,
  };
}

/** `journeys` row. */
export interface JourneyStateRow {
  journey_id: string;
  current_version: number;
  status: JourneyStateRecord['status'];
  updated_at: number;
}

/** Journey control state from its row. */
export function journeyStateFromRow(row: JourneyStateRow): JourneyStateRecord {
  return {
    journeyId: row.journey_id,
    currentVersion: row.current_version,
    status: row.status,
    updatedAt: row.updated_at,
  };
}

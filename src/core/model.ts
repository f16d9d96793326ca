/**
 * The engine's stored records. These are what the `Store` contract reads and writes; the pure
 * runtime (triggers, rules, journeys) works on them and returns new ones plus effects.
 *
 * Glossary
 * - customer: a profile (JSON attributes) keyed by the caller's `customer_id`.
 * - event: something that happened to a customer; ingested once (idempotency key), processed once, in order.
 * - enrollment: one customer's run through one version of one journey (`journey_enrollments`).
 * - stage / step: a journey is a list of stages, each a list of steps; an enrollment points at one step.
 * - timer: a durable wake-up (`wait`, a wait timeout, a delayed action); fires once, survives restarts.
 * - outbox: effects committed with the state change that caused them, executed afterwards, idempotently.
 * - journey event: the guide's `JourneyEvent`, recorded for every transition (`journey.enrolled`, ...).
 */
import type { Instant } from './spec.js';

/** A JSON value as stored. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object as stored. */
export type JsonObject = { [key: string]: JsonValue };

/** A customer profile. */
export interface CustomerRecord {
  id: string;
  attributes: JsonObject;
  createdAt: Instant;
  updatedAt: Instant;
}

/** An event as accepted by ingestion, before it is stored. */
export interface NewEvent {
  /** Caller's id for the event if given; otherwise the store assigns one. */
  id?: string | undefined;
  type: string;
  customerId: string;
  /** When it happened (the event's `timestamp`); defaults to the receive time. */
  occurredAt: Instant;
  /** Deduplication key: a second event with the same key is reported as a duplicate and not stored. */
  idempotencyKey?: string | undefined;
  /** The event's own fields other than type/customer_id/timestamp (`properties`, `changes`, `service_id`, ...). */
  payload: JsonObject;
}

/** Processing state of a stored event. */
export type EventStatus = 'pending' | 'processed' | 'failed';

/** An event in the event log. `seq` orders events globally in receive order. */
export interface StoredEvent extends Required<Omit<NewEvent, 'idempotencyKey'>> {
  seq: number;
  idempotencyKey: string | null;
  receivedAt: Instant;
  status: EventStatus;
  error: string | null;
}

/** Result of appending one event: stored, or a duplicate of an already-stored one. */
export type AppendResult =
  | { status: 'accepted'; id: string; seq: number }
  | { status: 'duplicate'; id: string; seq: number };

/** Lifecycle of an enrollment. */
export type EnrollmentStatus = 'active' | 'completed' | 'exited';

/** One customer's run through one journey version (table `journey_enrollments`). */
export interface EnrollmentRecord {
  id: string;
  journeyId: string;
  journeyVersion: number;
  customerId: string;
  status: EnrollmentStatus;
  /** Current stage id (`stage` column, as in the guide's diagnostic queries). */
  stage: string;
  /** Id of the step the enrollment is at (waiting on, or about to run). */
  stepId: string | null;
  /** Runtime state owned by the journey runtime: waits, split assignments, goals. */
  state: JsonObject;
  /** True when the customer fell in the journey's holdout group (enrolled for measurement, no steps run). */
  holdout: boolean;
  enrolledAt: Instant;
  updatedAt: Instant;
  endedAt: Instant | null;
  exitReason: string | null;
}

/** Why a timer exists. */
export type TimerKind = 'wait' | 'wait_timeout' | 'delayed_action' | 'goal_window' | 'schedule';

/** Lifecycle of a timer. */
export type TimerStatus = 'pending' | 'fired' | 'cancelled';

/** A durable wake-up. */
export interface TimerRecord {
  id: string;
  customerId: string;
  enrollmentId: string | null;
  kind: TimerKind;
  dueAt: Instant;
  payload: JsonObject;
  status: TimerStatus;
}

/** Lifecycle of a message. */
export type MessageStatus =
  | 'queued'
  | 'sent'
  | 'delivered'
  | 'failed'
  | 'suppressed'
  | 'deferred'
  | 'dead_lettered'
  | 'simulated';

/** A message to a customer (table `messages`). */
export interface MessageRecord {
  id: string;
  customerId: string;
  journeyId: string | null;
  enrollmentId: string | null;
  stepId: string | null;
  channel: string;
  priority: 'critical' | 'high' | 'normal' | 'low';
  status: MessageStatus;
  /** Rendered content (subject, body, ...). */
  content: JsonObject;
  /** Key a provider sees, so a retry never sends twice. */
  idempotencyKey: string;
  createdAt: Instant;
  sentAt: Instant | null;
  updatedAt: Instant;
  error: string | null;
  /**
   * When it goes out: the creation instant, or the end of what held it (quiet hours, a contact
   * cap). Contact caps count messages by this instant. Default `createdAt`.
   */
  sendAt?: Instant | null | undefined;
  /** Delivery attempts made so far (0 until the dispatcher tries). */
  attempts?: number | undefined;
  /** Name of the provider that took (or last refused) the message. */
  provider?: string | null | undefined;
  /** The provider's id for the message, for delivery callbacks. */
  providerMessageId?: string | null | undefined;
  /** When the customer read it (in-app inbox). */
  readAt?: Instant | null | undefined;
  /** When the customer first engaged with it (open, click, read). */
  engagedAt?: Instant | null | undefined;
  /** When it leaves the in-app inbox (the channel's `persistence`); null: never. */
  expiresAt?: Instant | null | undefined;
}

/** What the customer or the provider said about a message after it was sent. */
export type FeedbackKind =
  | 'delivered'
  | 'failed'
  | 'bounced'
  | 'complained'
  | 'unsubscribed'
  | 'opened'
  | 'clicked'
  | 'read';

/** Review state of a dead letter (the guide's `DeadLetterItem.status`). */
export type DeadLetterStatus = 'pending_review' | 'retrying' | 'abandoned';

/**
 * A message that could not be delivered on any channel it was allowed to try (table
 * `dead_letters`, the guide's `DeadLetterItem`). Kept until someone retries or abandons it.
 */
export interface DeadLetterRecord {
  id: string;
  messageId: string;
  customerId: string;
  channel: string;
  /** The message as queued: the record and what rendering needs, to send it again. */
  originalMessage: JsonObject;
  failureReason: string;
  /** The last failure's category: transient, permanent, partial or system. */
  category: string;
  attemptCount: number;
  firstAttemptAt: Instant;
  lastAttemptAt: Instant;
  status: DeadLetterStatus;
  createdAt: Instant;
  updatedAt: Instant;
  /** The message a retry created, once retried. */
  retryMessageId: string | null;
}

/** A journey event as stored in the journey event log (ordered by `seq`). */
export interface JourneyEventRecord {
  seq?: number;
  type: string;
  journeyId: string;
  customerId: string;
  timestamp: Instant;
  data: JsonObject;
}

/** What the outbox carries; executed after commit by a dispatcher. */
export type OutboxKind =
  | 'journey_event'
  | 'message'
  | 'webhook'
  | 'task'
  | 'alert'
  /** A customer to be scored by a model behind an HTTP endpoint. */
  | 'model_request';

/** One effect waiting to be executed. */
export interface OutboxEntry {
  seq?: number;
  kind: OutboxKind;
  /** Idempotency key of the effect; a second entry with the same key is ignored. */
  key: string;
  payload: JsonObject;
  availableAt: Instant;
  attempts: number;
  status: 'pending' | 'done' | 'failed';
  /**
   * The delivery lane: the channel name of a `message` entry, so each channel is claimed on its
   * own and a slow provider holds back only its own channel. Null for other kinds.
   */
  lane?: string | null | undefined;
}

/** A record of one trigger evaluation (table `trigger_executions`). */
export interface TriggerExecutionRecord {
  triggerName: string;
  customerId: string;
  eventSeq: number | null;
  executedAt: Instant;
  processingTimeMs: number;
  fired: boolean;
}

/**
 * Where a customer stands on one schedule trigger: the durable timer of its next fire, and the
 * anchor that fire was computed from (the zone for a cron schedule, the date value for an anchored
 * one). `firedAnchor` is the anchor value last fired for, so a schedule never fires twice for it.
 */
export interface SchedulePlanRecord {
  customerId: string;
  triggerName: string;
  /** The `schedule` timer carrying the next fire (its row has the due time), or null. */
  timerId: string | null;
  anchor: string | null;
  firedAnchor: string | null;
}

/** A logged decision: rules fired, trigger results, model scores, with the reasoning. */
export interface DecisionRecord {
  id: string;
  customerId: string;
  kind: string;
  at: Instant;
  subject: string | null;
  explanation: JsonObject;
}

/**
 * A trained model in the registry: one version of a named model (`churn_predictor_v2`), with the
 * model file it was trained into and the evaluation saved beside it. Versions of a name count up
 * from 1; the newest is the one the engine scores with.
 */
export interface ModelRecord {
  name: string;
  version: number;
  /** The model file's `kind` (`churn` for any binary scorer, `nba` for a next-best-action policy). */
  kind: string;
  createdAt: Instant;
  /** The model file as trained (`waymark models train ... --out`). */
  body: JsonObject;
  /** Its evaluation (cross-validated AUC, calibration, policy value, ...). */
  metrics: JsonObject;
  /** Where it came from: a file name, `scheduled training`, ... */
  source: string;
}

/** A CSM task (create_task action, task step). */
export interface TaskRecord {
  id: string;
  customerId: string;
  journeyId: string | null;
  title: string;
  assignee: string | null;
  dueAt: Instant | null;
  status: 'open' | 'done' | 'cancelled';
  createdAt: Instant;
  data: JsonObject;
  /** When it was completed or cancelled, and by whom. */
  completedAt?: Instant | null | undefined;
  completedBy?: string | null | undefined;
}

/** An alert (create_alert action, alert step). */
export interface AlertRecord {
  id: string;
  customerId: string | null;
  journeyId: string | null;
  severity: string;
  message: string;
  assignee: string | null;
  status: 'open' | 'acknowledged' | 'resolved';
  createdAt: Instant;
  data: JsonObject;
}

/** A stored journey definition version. */
export interface JourneyVersionRecord {
  journeyId: string;
  version: number;
  /** Content hash of the definition: an unchanged definition is not a new version. */
  hash: string;
  definition: JsonObject;
  createdAt: Instant;
}

/** Journey-level control state. */
export interface JourneyStateRecord {
  journeyId: string;
  currentVersion: number;
  status: 'active' | 'paused';
  updatedAt: Instant;
}

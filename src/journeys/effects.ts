/**
 * What the runtime asks the world to do. The runtime decides; the orchestrator commits the new
 * enrollment together with these effects in one transaction (outbox) and executes them afterwards.
 * A consumer switches over `type` exhaustively (`assertNever` in the default), so a new effect is a
 * compile error there rather than something silently dropped.
 */
import type {
  AlertRecord,
  JourneyEventRecord,
  JsonObject,
  JsonValue,
  MessageRecord,
  TaskRecord,
  TimerRecord,
} from '../core/index.js';

/** Queue a message. `message.idempotencyKey` is `${enrollmentId}:${stepId}:${visit}`. */
export interface SendMessageEffect {
  readonly type: 'send_message';
  /** A `queued` message record, content rendered (see `template`). */
  readonly message: MessageRecord;
  /**
   * The template the step named. When the journey was compiled without the template library the
   * content is empty and delivery renders this template.
   */
  readonly template: string | null;
  /** The template variant chosen, when the template has variants. */
  readonly variant: string | null;
  /** The step's urgency, for channel selection. */
  readonly urgency: 'high' | 'normal' | 'low' | null;
  /** Whether the message waits for the customer's business hours. */
  readonly businessHours: boolean;
  /** Placeholders that had no value (rendered as empty text). */
  readonly missing: readonly string[];
}

/** Store a durable timer; when due, the orchestrator calls `advance` with `{kind: 'timer'}`. */
export interface ScheduleTimerEffect {
  readonly type: 'schedule_timer';
  readonly timer: TimerRecord;
}

/** Cancel a timer this enrollment scheduled earlier (the wait it ended is over). */
export interface CancelTimerEffect {
  readonly type: 'cancel_timer';
  readonly timerId: string;
}

/** Record (and publish) a journey event. */
export interface JourneyEventEffect {
  readonly type: 'journey_event';
  readonly event: JourneyEventRecord;
}

/** Create a CSM task. */
export interface CreateTaskEffect {
  readonly type: 'create_task';
  readonly task: TaskRecord;
  readonly idempotencyKey: string;
  readonly missing: readonly string[];
}

/** Raise an alert. */
export interface CreateAlertEffect {
  readonly type: 'create_alert';
  readonly alert: AlertRecord;
  readonly idempotencyKey: string;
  readonly missing: readonly string[];
}

/** A webhook call a journey step asks for. */
export interface WebhookCall {
  /** Name of a top-level `webhooks` entry, or null for an inline url. */
  readonly webhook: string | null;
  /** Rendered url, or null when `webhook` names the target. */
  readonly url: string | null;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: JsonValue;
  readonly journeyId: string;
  readonly enrollmentId: string;
  readonly customerId: string;
  readonly stepId: string;
}

/** Call a webhook (sent as `Idempotency-Key` so a retried call is recognisable). */
export interface CallWebhookEffect {
  readonly type: 'call_webhook';
  readonly call: WebhookCall;
  readonly idempotencyKey: string;
  readonly missing: readonly string[];
}

/** Every effect the runtime emits. */
export type JourneyEffect =
  | SendMessageEffect
  | ScheduleTimerEffect
  | CancelTimerEffect
  | JourneyEventEffect
  | CreateTaskEffect
  | CreateAlertEffect
  | CallWebhookEffect;

/** An effect's type name. */
export type JourneyEffectType = JourneyEffect['type'];

/**
 * The journey event types this runtime emits. `message.*` events come from delivery;
 * `task.created` and `alert.created` from whoever stores those records.
 */
export const RUNTIME_EVENT_TYPES = [
  'journey.enrolled',
  'journey.stage_changed',
  'journey.goal_reached',
  'journey.completed',
  'journey.exited',
  'step.completed',
  'step.skipped',
] as const;

/** A journey event type this runtime emits. */
export type RuntimeEventType = (typeof RUNTIME_EVENT_TYPES)[number];

/** One operation on the customer's profile, in the order the steps ran. */
export type ProfileOperation =
  | { readonly op: 'set'; readonly path: readonly string[]; readonly value: JsonValue }
  | { readonly op: 'unset'; readonly path: readonly string[] };

/**
 * What `update_customer` steps did to the profile in one run: the operations in order, and the
 * resulting attributes (the input attributes with the operations applied), which later steps of
 * the same run already saw.
 */
export interface CustomerPatch {
  readonly operations: readonly ProfileOperation[];
  readonly attributes: JsonObject;
}

/**
 * What the runtime is given: the customer, the inputs that move an enrollment, and the injected
 * sources of time, ids and randomness. Nothing here is read from the environment.
 */
import type { IdSource, Instant, JsonObject, TimerRecord } from '../core/index.js';
import type { CompiledJourney } from './compile.js';

/** The customer as the runtime sees it: id and profile attributes (a `CustomerRecord` fits). */
export interface JourneyCustomer {
  readonly id: string;
  readonly attributes: JsonObject;
}

/** An event delivered to an enrollment (a `StoredEvent` fits). */
export interface JourneyInputEvent {
  readonly type: string;
  readonly customerId: string;
  /** When it happened; goal windows are measured on this. */
  readonly occurredAt: Instant;
  readonly receivedAt: Instant;
  /** The event's own fields (`properties`, `changes`, ...); conditions read them as `event.x`. */
  readonly payload: JsonObject;
  /** Global receive order. */
  readonly seq: number;
}

/**
 * What moves an enrollment.
 * - `event`: an event of the customer arrived.
 * - `timer`: a timer this enrollment scheduled is due (ignored unless it is the one the current
 *   wait is waiting for, or the holdout's end-of-measurement timer).
 * - `profile_changed`: the profile changed (exit criteria, condition goals, `until_field` waits).
 * - `advance_stage`: move to `stage`'s first step, or to the next stage when omitted (the spec's
 *   `advance_stage` action and `POST /journeys/{id}/customers/{customer_id}/advance`).
 * - `exit`: leave the journey (`DELETE /journeys/{id}/customers/{customer_id}`, `exit_journey`).
 * - `migrate`: move the enrollment to another version of its journey.
 */
export type JourneyInput =
  | { readonly kind: 'event'; readonly event: JourneyInputEvent }
  | { readonly kind: 'timer'; readonly timer: TimerRecord }
  | { readonly kind: 'profile_changed' }
  | { readonly kind: 'advance_stage'; readonly stage?: string | undefined }
  | { readonly kind: 'exit'; readonly reason: string }
  | { readonly kind: 'migrate'; readonly toJourney: CompiledJourney };

/** An input's kind. */
export type JourneyInputKind = JourneyInput['kind'];

/** The injected world of one call. */
export interface RuntimeContext {
  /** The instant the input is applied at; every record and journey event is stamped with it. */
  readonly now: Instant;
  /** Where record and timer ids come from (`sequentialIds()` in tests and simulation). */
  readonly ids: IdSource;
  /**
   * Seed of every random choice (holdouts, splits, template variants). Keep it fixed per
   * installation: changing it reshuffles who is in which group.
   */
  readonly seed: string;
  /** Most steps one call may run before the enrollment exits with `loop_detected`; default 1000. */
  readonly maxSteps?: number | undefined;
}

/** Steps one call may run by default: far above any real journey, low enough to stop a cycle fast. */
export const DEFAULT_MAX_STEPS = 1000;

/**
 * A scenario: one customer's enrollment driven through inputs over virtual time, with its timers
 * kept and fired in order. It is the smallest faithful orchestrator (effects applied, timers fired
 * by due time, events before timers at the same instant), for journey tests, `POST
 * /journeys/{id}/test` and simulations of a single customer. It keeps everything in memory.
 */
import {
  assertNever,
  sequentialIds,
  WaymarkError,
  type EnrollmentRecord,
  type IdSource,
  type JourneyEventRecord,
  type JsonObject,
  type TimerRecord,
} from '../core/index.js';
import { advance, type AdvanceResult } from './advance.js';
import type { CompiledJourney } from './compile.js';
import type { JourneyEffect } from './effects.js';
import { enroll, type EnrollResult, type EnrollmentTrigger } from './enroll.js';
import type { JourneyCustomer, JourneyInput, JourneyInputEvent } from './inputs.js';

/** Options of a scenario. */
export interface ScenarioOptions {
  /** Virtual start instant (epoch ms). */
  readonly start: number;
  /** Default `scenario`. */
  readonly seed?: string | undefined;
  /** Default `sequentialIds()`. */
  readonly ids?: IdSource | undefined;
  readonly maxSteps?: number | undefined;
}

/** Drives one customer through one journey. */
export class JourneyScenario {
  journey: CompiledJourney;
  customer: JourneyCustomer;
  enrollment: EnrollmentRecord | null = null;
  /** Every effect, in order. */
  readonly effects: JourneyEffect[] = [];
  /** Pending timers by id. */
  readonly timers = new Map<string, TimerRecord>();
  /** Ids of timers fired or cancelled, with what happened to them. */
  readonly settledTimers = new Map<string, 'fired' | 'cancelled'>();
  #now: number;
  #seq = 0;
  readonly #seed: string;
  readonly #ids: IdSource;
  readonly #maxSteps: number | undefined;

  constructor(journey: CompiledJourney, customer: JourneyCustomer, options: ScenarioOptions) {
    this.journey = journey;
    this.customer = customer;
    this.#now = options.start;
    this.#seed = options.seed ?? 'scenario';
    this.#ids = options.ids ?? sequentialIds();
    this.#maxSteps = options.maxSteps;
  }

  /** The virtual now. */
  get now(): number {
    return this.#now;
  }

  /** The journey events emitted so far. */
  get journeyEvents(): JourneyEventRecord[] {
    return this.effects.flatMap((e) => (e.type === 'journey_event' ? [e.event] : []));
  }

  /** The journey event types emitted so far, in order. */
  get eventTypes(): string[] {
    return this.journeyEvents.map((e) => e.type);
  }

  #context() {
    return { now: this.#now, ids: this.#ids, seed: this.#seed, maxSteps: this.#maxSteps };
  }

  /** Enrols the customer now. */
  enroll(
    trigger: EnrollmentTrigger = { source: 'scenario' },
    extra: { previous?: readonly EnrollmentRecord[]; paused?: boolean } = {},
  ): EnrollResult {
    const result = enroll(this.journey, this.customer, { ...this.#context(), trigger, ...extra });
    if (result.decision === 'enrolled') {
      this.enrollment = result.enrollment;
      this.#absorb(result.effects, result.customerPatch?.attributes);
    }
    return result;
  }

  /** Applies an input now to the current enrollment. */
  apply(input: JourneyInput): AdvanceResult {
    const enrollment = this.enrollment;
    if (enrollment === null) {
      throw new WaymarkError('SCENARIO_NOT_ENROLLED', 'no enrollment: call enroll() first');
    }
    const result = advance(this.journey, enrollment, this.customer, input, this.#context());
    // A delivered timer is spent whether it applied or was stale, as in the store.
    if (input.kind === 'timer' && this.timers.delete(input.timer.id)) {
      this.settledTimers.set(input.timer.id, 'fired');
    }
    if (input.kind === 'migrate' && result.enrollment.journeyVersion === input.toJourney.version) {
      this.journey = input.toJourney;
    }
    this.enrollment = result.enrollment;
    this.#absorb(result.effects, result.customerPatch?.attributes);
    return result;
  }

  /**
   * Moves virtual time to `instant`, firing every timer due strictly before it — or at it too when
   * `inclusive` — in due order (ties by id).
   */
  advanceTo(instant: number, inclusive = true): AdvanceResult[] {
    const results: AdvanceResult[] = [];
    for (;;) {
      const next = [...this.timers.values()]
        .filter((t) => (inclusive ? t.dueAt <= instant : t.dueAt < instant))
        .sort((a, b) => a.dueAt - b.dueAt || a.id.localeCompare(b.id))[0];
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.dueAt);
      results.push(this.fire(next));
    }
    this.#now = Math.max(this.#now, instant);
    return results;
  }

  /** Moves time forward by `ms` (firing due timers). */
  wait(ms: number): AdvanceResult[] {
    return this.advanceTo(this.#now + ms);
  }

  /** Fires one timer now (even a stale or unknown one: the runtime decides). */
  fire(timer: TimerRecord): AdvanceResult {
    return this.apply({ kind: 'timer', timer });
  }

  /**
   * Delivers an event at `at` (default now). Timers due before `at` fire first; a timer due at the
   * same instant fires after the event, as the orchestrator orders them.
   */
  event(type: string, payload: JsonObject = {}, at: number = this.#now): AdvanceResult {
    this.advanceTo(at, false);
    this.#seq += 1;
    const event: JourneyInputEvent = {
      type,
      customerId: this.customer.id,
      occurredAt: at,
      receivedAt: at,
      payload,
      seq: this.#seq,
    };
    return this.apply({ kind: 'event', event });
  }

  /** Replaces profile attributes (merged) and delivers `profile_changed`. */
  updateProfile(attributes: JsonObject): AdvanceResult {
    this.customer = {
      ...this.customer,
      attributes: { ...this.customer.attributes, ...attributes },
    };
    return this.apply({ kind: 'profile_changed' });
  }

  #absorb(effects: readonly JourneyEffect[], attributes: JsonObject | undefined): void {
    if (attributes !== undefined) this.customer = { ...this.customer, attributes };
    for (const effect of effects) {
      this.effects.push(effect);
      switch (effect.type) {
        case 'schedule_timer':
          this.timers.set(effect.timer.id, effect.timer);
          break;
        case 'cancel_timer':
          if (this.timers.delete(effect.timerId))
            this.settledTimers.set(effect.timerId, 'cancelled');
          break;
        case 'journey_event':
        case 'send_message':
        case 'create_task':
        case 'create_alert':
        case 'call_webhook':
          break;
        default:
          assertNever(effect, 'effect');
      }
    }
  }
}

/**
 * The runtime's part of an enrollment, stored as JSON in `EnrollmentRecord.state` and committed
 * with the enrollment row. Because the wait an enrollment is in (and the id of the timer that ends
 * it) is part of this state, a timer and an event racing for the same wait cannot both win: the
 * first input applied changes the state, and the other one no longer matches it.
 */
import type { JsonObject, JsonValue, TimerKind } from '../core/index.js';

/** Version of the stored layout, so a later layout can read an older one. */
export const STATE_LAYOUT = 1;

/** The wait an enrollment is in. */
export interface WaitState {
  /** Step id of the wait. */
  readonly step: string;
  /** Visit number of that step (see `RuntimeState.visits`). */
  readonly visit: number;
  readonly kind: 'wait' | 'wait_for_event';
  /** The timer that ends the wait; null for a `wait_for_event` without timeout. */
  readonly timer: string | null;
  /** When that timer is due; null without timer. */
  readonly due: number | null;
  /** When the wait began. */
  readonly since: number;
}

/** A timer this enrollment scheduled and has neither seen fire nor cancelled. */
export interface PendingTimer {
  readonly id: string;
  readonly kind: TimerKind;
  readonly due: number;
}

/**
 * The event that enrolled the customer, kept for steps after the first wait
 * (`journey.entry_event`). Only journeys that read it keep it: it is a copy of the event's fields
 * in every enrollment row.
 */
export interface EntryEventState {
  readonly type: string;
  readonly occurredAt: number;
  /** The event's own fields (`properties`, `changes`, ...). */
  readonly payload: JsonObject;
}

/** The runtime state. Plain data; copied, never shared, between inputs. */
export interface RuntimeState {
  wait: WaitState | null;
  /**
   * How many times each step has started. A step's n-th run uses `n` in its idempotency key, so the
   * same run replayed yields the same keys (and no duplicate message) while a loop back through a
   * step yields new ones.
   */
  visits: Record<string, number>;
  /** Variant chosen per split step id (`holdout` for its holdout); kept for loops and reporting. */
  splits: Record<string, string>;
  /** Goal name → instant it was reached. */
  goals: Record<string, number>;
  /** Timer ledger: empty once the enrollment has ended. */
  timers: PendingTimer[];
  /** The holdout's end-of-measurement timer (see docs/journeys.md, "Holdout"). */
  goalTimer: string | null;
  /** The enrolling event, for journeys that read `journey.entry_event`; null otherwise. */
  entryEvent: EntryEventState | null;
}

/** A fresh state. */
export function initialState(): RuntimeState {
  return {
    wait: null,
    visits: {},
    splits: {},
    goals: {},
    timers: [],
    goalTimer: null,
    entryEvent: null,
  };
}

/** A deep copy, so a failed or discarded run never changes its input. */
export function copyState(state: RuntimeState): RuntimeState {
  return {
    wait: state.wait,
    visits: { ...state.visits },
    splits: { ...state.splits },
    goals: { ...state.goals },
    timers: [...state.timers],
    goalTimer: state.goalTimer,
    // Never changed after enrollment, so shared.
    entryEvent: state.entryEvent,
  };
}

/** The stored form. */
export function writeState(state: RuntimeState): JsonObject {
  const wait: JsonValue =
    state.wait === null
      ? null
      : {
          step: state.wait.step,
          visit: state.wait.visit,
          kind: state.wait.kind,
          timer: state.wait.timer,
          due: state.wait.due,
          since: state.wait.since,
        };
  const stored: JsonObject = {
    layout: STATE_LAYOUT,
    wait,
    visits: { ...state.visits },
    splits: { ...state.splits },
    goals: { ...state.goals },
    timers: state.timers.map((t) => ({ id: t.id, kind: t.kind, due: t.due })),
    goal_timer: state.goalTimer,
  };
  // Absent rather than null when not kept: most journeys never read it.
  const entry = state.entryEvent;
  if (entry !== null) {
    stored['entry_event'] = {
      type: entry.type,
      occurred_at: entry.occurredAt,
      payload: entry.payload,
    };
  }
  return stored;
}

const TIMER_KINDS: ReadonlySet<string> = new Set([
  'wait',
  'wait_timeout',
  'delayed_action',
  'goal_window',
  'schedule',
]);

/**
 * Reads the stored form. Tolerant by design: a field that is missing or malformed (a hand-edited
 * row, an enrollment created by an older release) reads as its empty value instead of failing the
 * customer's whole batch.
 */
export function readState(stored: JsonObject): RuntimeState {
  const state = initialState();
  const wait = asObject(stored['wait']);
  if (wait !== null) {
    const step = wait['step'];
    const kind = wait['kind'];
    if (typeof step === 'string' && (kind === 'wait' || kind === 'wait_for_event')) {
      state.wait = {
        step,
        kind,
        visit: asNumber(wait['visit']) ?? 1,
        timer: typeof wait['timer'] === 'string' ? wait['timer'] : null,
        due: asNumber(wait['due']),
        since: asNumber(wait['since']) ?? 0,
      };
    }
  }
  state.visits = numberRecord(stored['visits']);
  state.goals = numberRecord(stored['goals']);
  const splits = asObject(stored['splits']);
  if (splits !== null) {
    for (const [key, value] of Object.entries(splits)) {
      if (typeof value === 'string') state.splits[key] = value;
    }
  }
  const timers = stored['timers'];
  if (Array.isArray(timers)) {
    for (const item of timers) {
      const timer = asObject(item);
      const id = timer?.['id'];
      const kind = timer?.['kind'];
      const due = asNumber(timer?.['due']);
      if (
        typeof id === 'string' &&
        typeof kind === 'string' &&
        TIMER_KINDS.has(kind) &&
        due !== null
      ) {
        state.timers.push({ id, kind: kind as TimerKind, due });
      }
    }
  }
  state.goalTimer = typeof stored['goal_timer'] === 'string' ? stored['goal_timer'] : null;
  const entry = asObject(stored['entry_event']);
  const entryType = entry?.['type'];
  const entryAt = asNumber(entry?.['occurred_at']);
  if (typeof entryType === 'string' && entryAt !== null) {
    state.entryEvent = {
      type: entryType,
      occurredAt: entryAt,
      payload: asObject(entry?.['payload']) ?? {},
    };
  }
  return state;
}

function asObject(value: JsonValue | undefined): JsonObject | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
}

function asNumber(value: JsonValue | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function numberRecord(value: JsonValue | undefined): Record<string, number> {
  const result: Record<string, number> = {};
  const object = asObject(value);
  if (object === null) return result;
  for (const [key, member] of Object.entries(object)) {
    const n = asNumber(member);
    if (n !== null) result[key] = n;
  }
  return result;
}

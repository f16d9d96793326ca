/**
 * Enrolling a customer: the journey's gate (paused, already in it, re-entry policy, entry
 * conditions, exit criteria), the holdout draw, then the first steps up to the first wait.
 */
import type { EnrollmentRecord, JsonObject } from '../core/index.js';
import type { CompiledJourney } from './compile.js';
import type { CustomerPatch, JourneyEffect } from './effects.js';
import { unitInterval } from './hashing.js';
import type { JourneyCustomer, JourneyInputEvent, RuntimeContext } from './inputs.js';
import { Run } from './machine.js';
import { initialState, writeState } from './state.js';
import { executeStep } from './steps.js';

/** What caused an enrollment; recorded in `journey.enrolled`'s data. */
export interface EnrollmentTrigger {
  /** `event`, `rule`, `trigger`, `api`, `schedule`, `prediction`, `simulation`, ... */
  readonly source: string;
  /** The rule id, trigger name, ... that enrolled. */
  readonly name?: string | undefined;
  /**
   * The event that enrolled, if any: entry conditions and the steps up to the first wait see it as
   * `event`, every step as `journey.entry_event` (see `Run.enter`).
   */
  readonly event?: JourneyInputEvent | undefined;
}

/** Options of one enrollment attempt. */
export interface EnrollOptions extends RuntimeContext {
  readonly trigger: EnrollmentTrigger;
  /** Id for the new enrollment; default `ids.next('enr')`. */
  readonly enrollmentId?: string | undefined;
  /**
   * The customer's earlier enrollments (any journey, any version; others are ignored): an active
   * one blocks, ended ones feed the re-entry policy.
   */
  readonly previous?: readonly EnrollmentRecord[] | undefined;
  /** The journey is paused (`POST /journeys/{id}/pause`): nobody enrols. */
  readonly paused?: boolean | undefined;
}

/** Why an enrollment was refused. */
export type RejectionReason =
  | 'journey_paused'
  | 'already_enrolled'
  | 're_entry_not_allowed'
  | 'cooldown'
  | 'entry_conditions_not_met'
  | 'exit_criteria_met';

/** The outcome of `enroll`. */
export type EnrollResult =
  | {
      readonly decision: 'enrolled';
      /** The new enrollment after its first run (it may already have completed or exited). */
      readonly enrollment: EnrollmentRecord;
      readonly effects: readonly JourneyEffect[];
      readonly customerPatch?: CustomerPatch;
    }
  | {
      readonly decision: 'rejected';
      readonly reason: RejectionReason;
      /** Specifics, e.g. `{ until }` for a cooldown, `{ enrollment_id }` for an active enrollment. */
      readonly details: JsonObject;
      readonly effects: readonly JourneyEffect[];
    };

/**
 * Whether `customerId` is held out of the journey: in its own holdout (hash(seed, journey id,
 * customer id) < holdout) or in the global holdout (see `inGlobalHoldout`) of a journey that takes
 * part in it.
 */
export function inJourneyHoldout(
  journey: CompiledJourney,
  customerId: string,
  seed: string,
): boolean {
  return (
    (journey.holdout > 0 && unitInterval(seed, journey.id, customerId) < journey.holdout) ||
    inGlobalHoldout(customerId, seed, journey.globalHoldout)
  );
}

/**
 * Whether `customerId` is in the global holdout of size `fraction`: one hash per customer, not per
 * journey, so the same customers are held out of every journey, and growing the fraction only adds
 * customers to the group. The key cannot collide with a journey id (ids never contain `*`).
 */
export function inGlobalHoldout(customerId: string, seed: string, fraction: number): boolean {
  return fraction > 0 && unitInterval(seed, GLOBAL_HOLDOUT_KEY, customerId) < fraction;
}

/** Hash key of the global holdout draw. */
const GLOBAL_HOLDOUT_KEY = '*global-holdout*';

/**
 * Tries to enrol `customer` in `journey`. Pure: time, ids and the random seed come in `options`.
 *
 * Checks, in order: paused → active enrollment in this journey → re-entry policy over ended ones
 * (`never`; `cooldown` from the latest end; `always`) → entry conditions → exit criteria already
 * met. Then the holdout draw: a holdout enrollment runs no steps (see docs/journeys.md, "Holdout").
 * Everyone else runs from the first step of the first stage until the first wait or the end.
 */
export function enroll(
  journey: CompiledJourney,
  customer: JourneyCustomer,
  options: EnrollOptions,
): EnrollResult {
  const rejected = (reason: RejectionReason, details: JsonObject = {}): EnrollResult => ({
    decision: 'rejected',
    reason,
    details,
    effects: [],
  });
  if (options.paused === true) return rejected('journey_paused');

  const mine = (options.previous ?? []).filter(
    (e) => e.journeyId === journey.id && e.customerId === customer.id,
  );
  const active = mine.find((e) => e.status === 'active');
  if (active !== undefined) return rejected('already_enrolled', { enrollment_id: active.id });
  const ended = mine.filter((e) => e.status !== 'active');
  if (ended.length > 0) {
    switch (journey.reEntry) {
      case 'never':
        return rejected('re_entry_not_allowed', { previous: ended.length });
      case 'cooldown': {
        const lastEnd = Math.max(...ended.map((e) => e.endedAt ?? e.updatedAt));
        const until = lastEnd + (journey.cooldownMs ?? 0);
        if (options.now < until) return rejected('cooldown', { until, last_ended_at: lastEnd });
        break;
      }
      case 'always':
        break;
    }
  }

  const stage = journey.stages[0];
  const enrollmentId = options.enrollmentId ?? options.ids.next('enr');
  const holdout = inJourneyHoldout(journey, customer.id, options.seed);
  const enrollment: EnrollmentRecord = {
    id: enrollmentId,
    journeyId: journey.id,
    journeyVersion: journey.version,
    customerId: customer.id,
    status: 'active',
    stage: stage?.id ?? '',
    stepId: stage?.steps[0]?.id ?? null,
    state: writeState(initialState()),
    holdout,
    enrolledAt: options.now,
    updatedAt: options.now,
    endedAt: null,
    exitReason: null,
  };
  const run = new Run(journey, enrollment, customer, options, executeStep);
  run.enter(options.trigger.event ?? null);
  const context = run.context();
  if (journey.entryConditions !== null && !journey.entryConditions(context)) {
    return rejected('entry_conditions_not_met');
  }
  if (journey.exitConditions?.(context) === true) return rejected('exit_criteria_met');

  run.emitEvent('journey.enrolled', {
    step_id: enrollment.stepId,
    holdout,
    trigger: {
      source: options.trigger.source,
      name: options.trigger.name ?? null,
      event: options.trigger.event?.type ?? null,
    },
  });
  if (holdout) startHoldout(run, journey);
  else run.runFrom({ stage: 0, step: 0 });
  return { decision: 'enrolled', ...run.finish() };
}

/**
 * A holdout enrollment stays active for measurement: until the longest goal window ends (a
 * `goal_window` timer), until every goal is reached, or until exit criteria; with goals without a
 * window it stays until one of the latter. A journey without goals has nothing to measure, so the
 * holdout enrollment completes at once (it still counts as enrolled).
 */
function startHoldout(run: Run, journey: CompiledJourney): void {
  if (journey.goals.length === 0) {
    run.end('completed', 'holdout_no_goals');
    return;
  }
  const windows = journey.goals.map((g) => g.windowMs);
  if (windows.every((w): w is number => w !== null)) {
    const due = run.now + Math.max(...windows);
    run.state.goalTimer = run.scheduleTimer('goal_window', due, { holdout: true });
  }
}

/**
 * Applying one input to an enrollment. For every input that applies: exit criteria first, then
 * goals, then what the input does to the step machine. An input that does not apply (the
 * enrollment has ended, a stale timer, an unknown stage) changes nothing and emits nothing, and
 * says why in `ignored`.
 */
import type { EnrollmentRecord, JsonObject, TimerRecord } from '../core/index.js';
import type { CompiledJourney, CompiledStep } from './compile.js';
import type { CustomerPatch, JourneyEffect } from './effects.js';
import type { JourneyCustomer, JourneyInput, JourneyInputEvent, RuntimeContext } from './inputs.js';
import { Run } from './machine.js';
import { executeStep, waitTarget } from './steps.js';

/** Why an input changed nothing. */
export type IgnoredReason =
  | 'not_active'
  | 'journey_mismatch'
  | 'version_mismatch'
  | 'stale_timer'
  | 'unknown_stage'
  | 'holdout';

/** The outcome of `advance`. */
export interface AdvanceResult {
  /**
   * The enrollment after the input. When the input changed nothing (ignored, or an event no wait
   * was waiting for) this is the input object itself, `updatedAt` untouched: compare by identity
   * to skip the write.
   */
  readonly enrollment: EnrollmentRecord;
  readonly effects: readonly JourneyEffect[];
  /** Present when `update_customer` steps ran; the orchestrator stores it with the enrollment. */
  readonly customerPatch?: CustomerPatch;
  /** Set when the input did not apply. */
  readonly ignored?: IgnoredReason;
}

/**
 * Applies `input` to `enrollment` of `journey` (the compiled version the enrollment is on). Pure
 * and total: it never throws for any input, and a replay from the same enrollment, customer, input
 * and context yields the same result.
 */
export function advance(
  journey: CompiledJourney,
  enrollment: EnrollmentRecord,
  customer: JourneyCustomer,
  input: JourneyInput,
  ctx: RuntimeContext,
): AdvanceResult {
  const ignored = (reason: IgnoredReason): AdvanceResult => ({
    enrollment,
    effects: [],
    ignored: reason,
  });
  if (enrollment.status !== 'active') return ignored('not_active');
  if (enrollment.journeyId !== journey.id) return ignored('journey_mismatch');
  if (enrollment.journeyVersion !== journey.version) return ignored('version_mismatch');

  const run = new Run(journey, enrollment, customer, ctx, executeStep);
  switch (input.kind) {
    case 'event':
      onEvent(run, input.event);
      break;
    case 'timer': {
      const outcome = onTimer(run, input.timer);
      if (outcome !== null) return ignored(outcome);
      break;
    }
    case 'profile_changed':
      if (run.checkExit()) break;
      run.checkGoals();
      if (run.isActive() && !run.enrollment.holdout) rescheduleFieldWait(run);
      break;
    case 'advance_stage': {
      if (enrollment.holdout) return ignored('holdout');
      const target = stageTarget(journey, enrollment.stage, input.stage);
      if (target === null) return ignored('unknown_stage');
      if (run.checkExit()) break;
      run.checkGoals();
      if (!run.isActive()) break;
      run.clearWait();
      if (target === 'complete') {
        run.end('completed', 'end_of_journey', { advanced: true });
        break;
      }
      run.enterStage(target, 'advanced');
      run.runFrom({ stage: target, step: 0 });
      break;
    }
    case 'exit':
      run.end('exited', input.reason, { requested: true });
      break;
    case 'migrate':
      if (input.toJourney.id !== journey.id) return ignored('journey_mismatch');
      migrate(run, input.toJourney);
      break;
  }
  return run.finish();
}

function onEvent(run: Run, event: JourneyInputEvent): void {
  run.event = event;
  if (run.checkExit()) return;
  run.checkGoals();
  if (!run.isActive() || run.enrollment.holdout) return;
  const wait = run.state.wait;
  if (wait?.kind !== 'wait_for_event') return;
  const step = run.journey.steps.get(wait.step);
  if (step?.type !== 'wait_for_event') return;
  const context = run.context();
  const matched = step.events.find(
    (awaited) => awaited.event === event.type && (awaited.when === null || awaited.when(context)),
  );
  if (matched === undefined) return;
  run.clearWait();
  run.completeStep(step, wait.visit, {
    outcome: 'event',
    event: event.type,
    waited_ms: run.now - wait.since,
  });
  const next = run.follow(matched.target, step);
  if (next !== null) run.runFrom(next);
}

/**
 * A timer applies only if it is the one the current wait is waiting for, or the holdout's
 * measurement timer. Any other (a wait already ended by an event that won the race, a wait left by
 * `advance_stage` or migration) is stale: returns the reason to ignore it.
 */
function onTimer(run: Run, timer: TimerRecord): 'stale_timer' | null {
  const wait = run.state.wait;
  if (wait !== null && wait.timer === timer.id) {
    run.timerFired(timer.id);
    if (run.checkExit()) return null;
    run.checkGoals();
    if (!run.isActive()) return null;
    run.state.wait = null;
    const step = run.journey.steps.get(wait.step);
    if (step === undefined) return null;
    resumeAfterWait(run, step, wait.visit, wait.since);
    return null;
  }
  if (run.state.goalTimer !== null && run.state.goalTimer === timer.id) {
    run.timerFired(timer.id);
    if (run.checkExit()) return null;
    run.checkGoals();
    run.end('completed', 'holdout_measured');
    return null;
  }
  return 'stale_timer';
}

function resumeAfterWait(run: Run, step: CompiledStep, visit: number, since: number): void {
  const waited = { waited_ms: run.now - since };
  if (step.type === 'wait_for_event') {
    run.completeStep(step, visit, { outcome: 'timeout', ...waited });
    const next = run.follow(step.onTimeout, step);
    if (next !== null) run.runFrom(next);
    return;
  }
  run.completeStep(step, visit, { outcome: 'elapsed', ...waited });
  run.runFrom({ stage: step.stageIndex, step: step.index + 1 });
}

/**
 * A `wait` on a customer field follows the field: when the profile changes the end is computed
 * again; a new end replaces the timer, an end already passed continues at once. A field that
 * became missing or invalid leaves the wait as it was (the last known date still stands).
 */
function rescheduleFieldWait(run: Run): void {
  const wait = run.state.wait;
  if (wait?.kind !== 'wait') return;
  const step = run.journey.steps.get(wait.step);
  if (step?.type !== 'wait' || step.mode.kind !== 'field') return;
  const target = waitTarget(run, step, wait.since);
  if ('problem' in target || target.due === wait.due) return;
  run.clearWait();
  if (target.due <= run.now) {
    run.completeStep(step, wait.visit, { outcome: 'target_passed', due_at: target.due });
    run.runFrom({ stage: step.stageIndex, step: step.index + 1 });
    return;
  }
  const timer = run.scheduleTimer('wait', target.due, { step_id: step.id, visit: wait.visit });
  run.state.wait = { ...wait, timer, due: target.due };
}

/** The stage index `advance_stage` goes to, `complete` past the last stage, null if unknown. */
function stageTarget(
  journey: CompiledJourney,
  current: string,
  requested: string | undefined,
): number | 'complete' | null {
  if (requested !== undefined) return journey.stageIndex.get(requested) ?? null;
  const index = journey.stageIndex.get(current);
  if (index === undefined) return null;
  return index + 1 < journey.stages.length ? index + 1 : 'complete';
}

/**
 * Moves the enrollment to another version of its journey (an explicit operator action; enrollments
 * otherwise finish on the version they started). The new version's exit criteria apply at once.
 * Then: the same step id, if the new version has it and it is the same kind of wait, keeps the
 * wait and its timer; the same step id otherwise runs from that step; a missing step but the same
 * stage id runs from that stage's first step; a stage that no longer exists exits the enrollment
 * on its old version with `migration_stage_removed` (restarting the journey would repeat messages
 * already sent).
 */
function migrate(run: Run, to: CompiledJourney): void {
  const reason = { from_version: run.journey.version, to_version: to.version };
  const wait = run.state.wait;
  const stepId = wait?.step ?? run.enrollment.stepId;
  const step = stepId === null ? undefined : to.steps.get(stepId);
  const stageIndex = step?.stageIndex ?? to.stageIndex.get(run.enrollment.stage);
  if (stageIndex === undefined && !run.enrollment.holdout) {
    // Exits on the version it is on: its stage does not exist in the new one.
    run.end('exited', 'migration_stage_removed', reason);
    return;
  }
  run.journey = to;
  run.enrollment.journeyVersion = to.version;
  if (run.checkExit()) return;
  if (run.enrollment.holdout) {
    // A holdout runs no steps; it only needs a stage that exists in the new version.
    run.enrollment.stage = to.stages[stageIndex ?? 0]?.id ?? run.enrollment.stage;
    return;
  }
  if (step !== undefined && wait !== null && step.type === wait.kind) {
    moveStageQuietly(run, step.stageIndex, reason);
    return;
  }
  run.clearWait();
  if (step !== undefined) {
    moveStageQuietly(run, step.stageIndex, reason);
    run.runFrom({ stage: step.stageIndex, step: step.index });
    return;
  }
  const index = stageIndex ?? 0;
  run.enterStage(index, 'migrated', reason);
  run.runFrom({ stage: index, step: 0 });
}

/** Sets the stage a migrated step lives in (it may have moved between stages). */
function moveStageQuietly(run: Run, stageIndex: number, data: JsonObject): void {
  const stage = run.journey.stages[stageIndex];
  if (stage === undefined || stage.id === run.enrollment.stage) return;
  const stepId = run.enrollment.stepId;
  run.enterStage(stageIndex, 'migrated', data);
  run.enrollment.stepId = stepId;
}

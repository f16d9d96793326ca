/**
 * The step machine: one `Run` applies one input (or an enrollment) to a copy of an enrollment and
 * collects the effects. It runs steps until the enrollment waits or ends, never touches the world,
 * and leaves its inputs unchanged.
 *
 * Invariants a run keeps (the property tests check them):
 * - an active enrollment that is not a holdout is always in exactly one wait when the run returns;
 * - `state.timers` lists every timer scheduled and neither fired nor cancelled; it is empty once
 *   the enrollment has ended;
 * - nothing is emitted after the enrollment's `journey.completed` / `journey.exited` event.
 */
import type {
  EnrollmentRecord,
  EnrollmentStatus,
  JsonObject,
  JsonValue,
  TimerKind,
} from '../core/index.js';
import type { CompiledJourney, CompiledStage, CompiledStep, ResolvedTarget } from './compile.js';
import { copyFields, eventView, isoInstant, type RenderContext } from './content.js';
import type {
  CustomerPatch,
  JourneyEffect,
  ProfileOperation,
  RuntimeEventType,
} from './effects.js';
import {
  DEFAULT_MAX_STEPS,
  type JourneyCustomer,
  type JourneyInputEvent,
  type RuntimeContext,
} from './inputs.js';
import { copyState, readState, writeState, type RuntimeState } from './state.js';
import { customerZone } from '../scheduling/index.js';

/** A place in a journey: a stage and a step index in it (may equal the stage's length = its end). */
export interface Position {
  readonly stage: number;
  readonly step: number;
}

/** How a step ended, as far as the loop is concerned. */
export type StepOutcome =
  | { readonly kind: 'next' }
  | { readonly kind: 'target'; readonly target: ResolvedTarget }
  | { readonly kind: 'waiting' }
  | { readonly kind: 'ended' };

/** Runs one step; implemented per step type in steps.ts. */
export type StepExecutor = (run: Run, step: CompiledStep) => StepOutcome;

/** Why a run ended the enrollment as completed. */
export type CompletionReason =
  | 'end_of_journey'
  | 'complete_target'
  | 'holdout_measured'
  | 'holdout_goals_reached'
  | 'holdout_no_goals';

/** One application of input to an enrollment. */
export class Run {
  readonly effects: JourneyEffect[] = [];
  readonly operations: ProfileOperation[] = [];
  readonly state: RuntimeState;
  readonly enrollment: EnrollmentRecord;
  readonly customerId: string;
  readonly ctx: RuntimeContext;
  journey: CompiledJourney;
  /** The event being applied, if the input is one; conditions see it as `event`. */
  event: JourneyInputEvent | null = null;
  #attributes: JsonObject;
  readonly #original: EnrollmentRecord;
  #attributesCopied = false;
  /** The customer as conditions see it (attributes plus `id`); reset by profile updates. */
  #customerView: Record<string, unknown> | null = null;
  /** The event as conditions see it, built once per event rather than per step. */
  #eventView: { event: JourneyInputEvent; view: Record<string, unknown> } | null = null;
  /** The enrolling event while `enroll` runs (see `enter`); null in every later run. */
  #entering: JourneyInputEvent | null = null;
  /** A kept `journey.entry_event` as conditions see it (later runs): built once; null if none. */
  #entryView: Record<string, unknown> | null | undefined = undefined;
  #steps = 0;
  #closed = false;
  readonly #execute: StepExecutor;

  constructor(
    journey: CompiledJourney,
    enrollment: EnrollmentRecord,
    customer: JourneyCustomer,
    ctx: RuntimeContext,
    execute: StepExecutor,
  ) {
    this.journey = journey;
    this.#original = enrollment;
    this.enrollment = { ...enrollment };
    this.state = copyState(readState(enrollment.state));
    this.customerId = customer.id;
    this.#attributes = customer.attributes;
    this.ctx = ctx;
    this.#execute = execute;
  }

  /**
   * Starts an enrollment's first run with the event that enrolled it (null for an API or scheduled
   * enrollment). The event is no input to this enrollment — exit events, event goals and waits only
   * see later events — but the gate, and the steps up to the first wait, read it as `event`, and
   * every step as `journey.entry_event` (kept in the state when the journey reads it).
   */
  enter(event: JourneyInputEvent | null): void {
    this.#entering = event;
    if (event !== null && this.journey.keepsEntryEvent) {
      this.state.entryEvent = {
        type: event.type,
        occurredAt: event.occurredAt,
        payload: event.payload,
      };
    }
  }

  /** True until the enrollment completes or exits. */
  isActive(): boolean {
    return this.enrollment.status === 'active' && !this.#closed;
  }

  get now(): number {
    return this.ctx.now;
  }

  /** The customer's attributes as later steps see them (with this run's updates). */
  get attributes(): JsonObject {
    return this.#attributes;
  }

  /** The customer's time zone for calendar arithmetic. */
  get zone(): string {
    return customerZone(this.#attributes, this.journey.defaultTimezone);
  }

  /**
   * What conditions and templates see. The journey part is rebuilt per use (stage, step and
   * variants move during a run); the customer part only when the profile changed.
   */
  context(): RenderContext {
    if (this.#customerView === null) {
      this.#customerView = copyFields({}, this.#attributes);
      this.#customerView['id'] = this.customerId;
    }
    const event = this.event ?? this.#entering;
    const enrolledAt = this.enrollment.enrolledAt;
    return {
      customer: this.#customerView,
      event: event === null ? undefined : this.#viewOf(event),
      journey: {
        id: this.journey.id,
        version: this.journey.version,
        name: this.journey.name,
        current_stage: this.enrollment.stage,
        stage: this.enrollment.stage,
        step_id: this.enrollment.stepId,
        enrollment_id: this.enrollment.id,
        // Formatted when read: few conditions read it, and formatting every step's context showed
        // in profiles.
        get enrolled_at() {
          return isoInstant(enrolledAt);
        },
        holdout: this.enrollment.holdout,
        variants: { ...this.state.splits },
        goals: Object.keys(this.state.goals),
        // Only a journey that mentions it can read it (see `keepsEntryEvent`).
        entry_event: this.journey.keepsEntryEvent ? this.#entryEventView() : undefined,
      },
    };
  }

  #viewOf(event: JourneyInputEvent): Record<string, unknown> {
    if (this.#eventView?.event !== event) this.#eventView = { event, view: eventView(event) };
    return this.#eventView.view;
  }

  #entryEventView(): Record<string, unknown> | undefined {
    if (this.#entering !== null) return this.#viewOf(this.#entering);
    if (this.#entryView === undefined) {
      const kept = this.state.entryEvent;
      this.#entryView = kept === null ? null : eventView({ ...kept, customerId: this.customerId });
    }
    return this.#entryView ?? undefined;
  }

  /** Starts a step: counts the visit and points the enrollment at it. */
  visit(step: CompiledStep): number {
    const visit = (this.state.visits[step.id] ?? 0) + 1;
    this.state.visits[step.id] = visit;
    this.enrollment.stepId = step.id;
    return visit;
  }

  /** `${enrollmentId}:${stepId}:${visit}`: a replay of the same run yields the same key. */
  idempotencyKey(step: CompiledStep, visit: number): string {
    return `${this.enrollment.id}:${step.id}:${visit}`;
  }

  /** Emits a journey event with the fields every event carries. */
  emitEvent(type: RuntimeEventType, data: JsonObject): void {
    if (this.#closed) return;
    this.effects.push({
      type: 'journey_event',
      event: {
        type,
        journeyId: this.journey.id,
        customerId: this.customerId,
        timestamp: this.now,
        data: {
          enrollment_id: this.enrollment.id,
          version: this.journey.version,
          stage: this.enrollment.stage,
          ...data,
        },
      },
    });
  }

  /** Adds an effect other than a journey event or a timer; dropped once the enrollment ended. */
  emit(effect: JourneyEffect): void {
    if (!this.#closed) this.effects.push(effect);
  }

  /** `step.completed` for a step; `data.step_type` is what step-completion metrics group by. */
  completeStep(step: CompiledStep, visit: number, data: JsonObject = {}): void {
    this.emitEvent('step.completed', {
      step_id: step.id,
      step_type: step.type,
      visit,
      ...data,
    });
  }

  /** Schedules a timer owned by this enrollment and records it in the ledger. */
  scheduleTimer(kind: TimerKind, dueAt: number, payload: JsonObject): string {
    const id = this.ctx.ids.next('tmr');
    this.state.timers.push({ id, kind, due: dueAt });
    this.emit({
      type: 'schedule_timer',
      timer: {
        id,
        customerId: this.customerId,
        enrollmentId: this.enrollment.id,
        kind,
        dueAt,
        payload: { journey_id: this.journey.id, version: this.journey.version, ...payload },
        status: 'pending',
      },
    });
    return id;
  }

  /** Cancels a pending timer of this enrollment (no-op for one it does not hold). */
  cancelTimer(id: string): void {
    const before = this.state.timers.length;
    this.state.timers = this.state.timers.filter((t) => t.id !== id);
    if (this.state.timers.length !== before) this.emit({ type: 'cancel_timer', timerId: id });
  }

  /** Records that a timer fired: it leaves the ledger without a cancel effect. */
  timerFired(id: string): void {
    this.state.timers = this.state.timers.filter((t) => t.id !== id);
    if (this.state.wait?.timer === id) this.state.wait = { ...this.state.wait, timer: null };
    if (this.state.goalTimer === id) this.state.goalTimer = null;
  }

  /** Leaves the current wait, cancelling its timer if it has not fired. */
  clearWait(): void {
    const wait = this.state.wait;
    if (wait === null) return;
    if (wait.timer !== null) this.cancelTimer(wait.timer);
    this.state.wait = null;
  }

  /** Ends the enrollment: cancels every pending timer, then emits the final journey event. */
  end(status: Exclude<EnrollmentStatus, 'active'>, reason: string, data: JsonObject = {}): void {
    if (!this.isActive()) return;
    for (const timer of [...this.state.timers]) this.cancelTimer(timer.id);
    this.state.wait = null;
    this.state.goalTimer = null;
    this.enrollment.status = status;
    this.enrollment.endedAt = this.now;
    this.enrollment.exitReason = status === 'exited' ? reason : null;
    if (status === 'completed') this.enrollment.stepId = null;
    const type = status === 'completed' ? 'journey.completed' : 'journey.exited';
    this.emitEvent(type, {
      reason,
      step_id: this.enrollment.stepId,
      holdout: this.enrollment.holdout,
      duration_ms: this.now - this.enrollment.enrolledAt,
      ...data,
    });
    this.#closed = true;
  }

  /** Moves to a stage, emitting `journey.stage_changed` when it differs from the current one. */
  enterStage(index: number, reason: string, data: JsonObject = {}): void {
    const stage = this.journey.stages[index];
    if (stage === undefined || !this.isActive()) return;
    const from = this.enrollment.stage;
    this.enrollment.stage = stage.id;
    this.enrollment.stepId = stage.steps[0]?.id ?? null;
    if (from !== stage.id)
      this.emitEvent('journey.stage_changed', { from, to: stage.id, reason, ...data });
  }

  /** Applies a `next` target reached from `step`; returns where to continue, or null if ended. */
  follow(target: ResolvedTarget, step: CompiledStep): Position | null {
    switch (target.kind) {
      case 'continue':
        return { stage: step.stageIndex, step: step.index + 1 };
      case 'stage':
        this.enterStage(target.stageIndex, 'next', { from_step: step.id });
        return { stage: target.stageIndex, step: 0 };
      case 'exit':
        this.end('exited', 'exit_target', { from_step: step.id });
        return null;
      case 'complete':
        this.end('completed', 'complete_target', { from_step: step.id });
        return null;
    }
  }

  /**
   * Runs steps from `position` until a wait or the end. Falling off a stage enters the next one;
   * falling off the last completes the enrollment. More than `maxSteps` steps in one call means a
   * cycle without a wait: the enrollment exits with `loop_detected` instead of spinning.
   */
  runFrom(position: Position): void {
    const maxSteps = this.ctx.maxSteps ?? DEFAULT_MAX_STEPS;
    let at: Position | null = position;
    while (at !== null && this.isActive()) {
      const stage: CompiledStage | undefined = this.journey.stages[at.stage];
      if (stage === undefined) {
        this.end('completed', 'end_of_journey');
        return;
      }
      const step: CompiledStep | undefined = stage.steps[at.step];
      if (step === undefined) {
        if (at.stage + 1 >= this.journey.stages.length) {
          this.end('completed', 'end_of_journey');
          return;
        }
        this.enterStage(at.stage + 1, 'stage_completed');
        at = { stage: at.stage + 1, step: 0 };
        continue;
      }
      this.#steps += 1;
      if (this.#steps > maxSteps) {
        this.end('exited', 'loop_detected', { max_steps: maxSteps, at_step: step.id });
        return;
      }
      const outcome = this.#execute(this, step);
      switch (outcome.kind) {
        case 'next':
          at = { stage: step.stageIndex, step: step.index + 1 };
          break;
        case 'target':
          at = this.follow(outcome.target, step);
          break;
        case 'waiting':
        case 'ended':
          return;
      }
    }
  }

  /** Applies a profile update; later steps and conditions in this run see it. */
  updateProfile(operation: ProfileOperation): void {
    if (!this.#attributesCopied) {
      this.#attributes = structuredClone(this.#attributes);
      this.#attributesCopied = true;
    }
    applyOperation(this.#attributes, operation);
    this.#customerView = null;
    this.operations.push(operation);
  }

  /** Checks exit criteria (the event's type, then conditions); exits and returns true when met. */
  checkExit(): boolean {
    if (!this.isActive()) return true;
    if (this.event !== null && this.journey.exitEvents.has(this.event.type)) {
      this.end('exited', 'exit_event', { event: this.event.type });
      return true;
    }
    if (this.journey.exitConditions?.(this.context()) === true) {
      this.end('exited', 'exit_conditions');
      return true;
    }
    return false;
  }

  /**
   * Checks goals not yet reached. An event goal needs this run's event (of its type, within the
   * window measured on the event's `occurredAt`); a conditions-only goal is checked at `now`.
   * A holdout enrollment completes once every goal is reached: nothing is left to measure.
   */
  checkGoals(): void {
    if (!this.isActive()) return;
    for (const goal of this.journey.goals) {
      if (!this.isActive()) return;
      if (this.state.goals[goal.name] !== undefined) continue;
      let at: number;
      if (goal.event !== null) {
        if (this.event?.type !== goal.event) continue;
        at = this.event.occurredAt;
      } else {
        at = this.now;
      }
      if (goal.windowMs !== null && at > this.enrollment.enrolledAt + goal.windowMs) continue;
      if (goal.when !== null && !goal.when(this.context())) continue;
      this.state.goals[goal.name] = at;
      this.emitEvent('journey.goal_reached', {
        goal: goal.name,
        step_id: this.enrollment.stepId,
        holdout: this.enrollment.holdout,
        after_ms: at - this.enrollment.enrolledAt,
        ...(goal.event === null ? {} : { event: goal.event }),
      });
      if (goal.exit) this.end('exited', 'goal_reached', { goal: goal.name });
    }
    if (
      this.isActive() &&
      this.enrollment.holdout &&
      this.journey.goals.length > 0 &&
      this.journey.goals.every((g) => this.state.goals[g.name] !== undefined)
    ) {
      this.end('completed', 'holdout_goals_reached');
    }
  }

  /** The run's result: the enrollment with its state written back, the effects, the patch. */
  finish(): {
    enrollment: EnrollmentRecord;
    effects: JourneyEffect[];
    customerPatch?: CustomerPatch;
  } {
    const state = writeState(this.state);
    if (this.effects.length === 0 && this.operations.length === 0 && this.#unchanged(state)) {
      // Nothing happened: hand back the input itself, `updatedAt` included, so the engine can skip
      // the write and an enrollment that only sees irrelevant events still looks stuck to the
      // guide's "stuck journeys" query (`updated_at < NOW() - INTERVAL '7 days'`).
      return { enrollment: this.#original, effects: [] };
    }
    const enrollment: EnrollmentRecord = {
      ...this.enrollment,
      journeyVersion: this.journey.version,
      state,
      updatedAt: this.now,
    };
    if (this.operations.length === 0) return { enrollment, effects: this.effects };
    return {
      enrollment,
      effects: this.effects,
      customerPatch: { operations: [...this.operations], attributes: this.#attributes },
    };
  }

  #unchanged(state: JsonObject): boolean {
    const before = this.#original;
    const after = this.enrollment;
    return (
      before.status === after.status &&
      before.stage === after.stage &&
      before.stepId === after.stepId &&
      before.journeyVersion === this.journey.version &&
      JSON.stringify(writeState(readState(before.state))) === JSON.stringify(state)
    );
  }
}

/** Applies one operation to attributes in place; intermediate objects are created as needed. */
export function applyOperation(attributes: JsonObject, operation: ProfileOperation): void {
  const path = operation.path;
  let target: JsonObject = attributes;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i] as string;
    const next: JsonValue | undefined = Object.hasOwn(target, segment)
      ? target[segment]
      : undefined;
    if (next !== null && typeof next === 'object' && !Array.isArray(next)) {
      target = next;
    } else if (operation.op === 'set') {
      const created: JsonObject = {};
      target[segment] = created;
      target = created;
    } else {
      return;
    }
  }
  const last = path[path.length - 1];
  if (last === undefined) return;
  if (operation.op === 'set') target[last] = operation.value;
  else if (Object.hasOwn(target, last)) Reflect.deleteProperty(target, last);
}

/**
 * Property: for random journeys (random steps with gotos, branches, splits, waits) and random input
 * sequences, the runtime never throws, the enrollment stays valid, every timer it scheduled ends
 * up fired or cancelled (the state's ledger and the "store" agree), and nothing is emitted after
 * the enrollment ended.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EnrollmentRecord, JsonObject, TimerRecord } from '../core/index.js';
import {
  compileJourney,
  JourneyScenario,
  readRuntimeState,
  type AdvanceResult,
  type CompiledJourney,
  type JourneyDefinition,
  type JourneyEffect,
  type StepDefinition,
} from './index.js';

const START = Date.parse('2026-01-05T15:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const EVENTS = ['e1', 'e2', 'e3', 'e_exit', 'goal'] as const;

const flagIs = (value: string) => ({
  logic: 'AND' as const,
  conditions: [{ field: 'flag', operator: 'eq' as const, value }],
});
const flag = fc.constantFrom('a', 'b', 'c');

function stepArb(stageIds: readonly string[]): fc.Arbitrary<StepDefinition> {
  const target = fc.option(fc.constantFrom(...stageIds, 'exit', 'complete'), { nil: undefined });
  const stage = fc.constantFrom(...stageIds, 'exit', 'complete');
  const duration = fc
    .integer({ min: 1, max: 72 })
    .map((h) => ({ ms: h * HOUR, amount: h, unit: 'hour' }));
  return fc.oneof(
    fc.constant<StepDefinition>({
      type: 'send',
      channel: 'email',
      content: { body: 'hi {{customer.flag}}' },
    }),
    duration.map((d): StepDefinition => ({ type: 'wait', duration: d })),
    fc.integer({ min: -3, max: 3 }).map((n): StepDefinition => ({
      type: 'wait',
      until_field: 'renewal',
      offset: { ms: n * DAY, amount: n, unit: 'day' },
      at: '09:00',
    })),
    fc
      .record({
        events: fc.array(
          fc.record({
            event: fc.constantFrom('e1', 'e2', 'e3'),
            next: target,
            conditions: fc.option(flag.map(flagIs), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        timeout: fc.option(duration, { nil: undefined }),
        next: target,
      })
      .map(({ events, timeout, next }): StepDefinition => ({
        type: 'wait_for_event',
        events,
        timeout,
        on_timeout: { next },
      })),
    fc
      .record({
        branches: fc.array(fc.record({ value: flag, next: target }), {
          minLength: 1,
          maxLength: 3,
        }),
        fallback: target,
      })
      .map(({ branches, fallback }): StepDefinition => ({
        type: 'branch',
        branches: branches.map((b, i) => ({
          name: `b${i}`,
          conditions: flagIs(b.value),
          next: b.next,
        })),
        default: { next: fallback },
      })),
    fc
      .record({
        variants: fc.array(fc.record({ weight: fc.integer({ min: 1, max: 5 }), next: target }), {
          minLength: 1,
          maxLength: 3,
        }),
        holdout: fc.constantFrom(0, 0.2),
      })
      .map(({ variants, holdout }): StepDefinition => ({
        type: 'split',
        holdout,
        variants: variants.map((v, i) => ({ name: `v${i}`, weight: v.weight, next: v.next })),
      })),
    flag.map((value): StepDefinition => ({ type: 'update_customer', set: { flag: value } })),
    stage.map((s): StepDefinition => ({ type: 'goto', stage: s })),
    fc.constant<StepDefinition>({ type: 'exit', reason: 'step' }),
    fc.constant<StepDefinition>({
      type: 'task',
      title: 'Call {{customer.flag}}',
      due: { ms: DAY },
    }),
    fc.constant<StepDefinition>({ type: 'alert', severity: 'high', message: 'm' }),
    fc.constant<StepDefinition>({ type: 'webhook', url: 'https://x.example/{{customer.flag}}' }),
  );
}

const journeyArb: fc.Arbitrary<JourneyDefinition> = fc.integer({ min: 1, max: 4 }).chain((n) => {
  const ids = Array.from({ length: n }, (_, i) => `s${i}`);
  return fc
    .record({
      stages: fc.tuple(
        ...ids.map((id) =>
          fc.array(stepArb(ids), { maxLength: 5 }).map((steps) => ({ id, steps })),
        ),
      ),
      exitOnFlag: fc.boolean(),
      goals: fc.boolean(),
      holdout: fc.constantFrom(0, 0, 0.3),
    })
    .map(({ stages, exitOnFlag, goals, holdout }): JourneyDefinition => ({
      id: 'random',
      holdout,
      exit: { events: ['e_exit'], ...(exitOnFlag ? { conditions: flagIs('c') } : {}) },
      goals: goals
        ? [
            { name: 'g_event', event: 'goal', window: { ms: 5 * DAY } },
            { name: 'g_flag', conditions: flagIs('b'), exit: true },
          ]
        : [],
      stages,
    }));
});

type Action =
  | { kind: 'event'; type: (typeof EVENTS)[number]; dt: number }
  | { kind: 'tick'; dt: number }
  | { kind: 'profile'; flag: string; renewal: number }
  | { kind: 'advance_stage'; stage: string | undefined }
  | { kind: 'exit' }
  | { kind: 'stale_timer' }
  | { kind: 'migrate' };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    kind: fc.constant('event' as const),
    type: fc.constantFrom(...EVENTS),
    dt: fc.integer({ min: 0, max: 2 * DAY }),
  }),
  fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 4 * DAY }) }),
  fc.record({
    kind: fc.constant('profile' as const),
    flag: fc.constantFrom('a', 'b', 'c'),
    renewal: fc.integer({ min: -5, max: 20 }),
  }),
  fc.record({
    kind: fc.constant('advance_stage' as const),
    stage: fc.option(fc.constantFrom('s0', 's1', 's2', 's3', 'nope'), { nil: undefined }),
  }),
  fc.constant({ kind: 'exit' as const }),
  fc.constant({ kind: 'stale_timer' as const }),
  fc.constant({ kind: 'migrate' as const }),
);

/** Checks the invariants of one result against the enrollment before it. */
function checkResult(
  before: EnrollmentRecord,
  result: AdvanceResult | { enrollment: EnrollmentRecord; effects: readonly JourneyEffect[] },
  journey: CompiledJourney,
): void {
  const after = result.enrollment;
  if (before.status !== 'active') {
    // Nothing happens to an ended enrollment.
    expect(result.effects).toEqual([]);
    expect(after).toEqual(before);
    return;
  }
  expect(['active', 'completed', 'exited']).toContain(after.status);
  checkEffectsEnd(result.effects, after);
  expect(journey.stageIndex.has(after.stage)).toBe(true);
}

/** No effect after the final journey event; an ended enrollment emitted exactly one. */
function checkEffectsEnd(effects: readonly JourneyEffect[], after: EnrollmentRecord): void {
  const finals = effects
    .map((e, i) => ({ e, i }))
    .filter(
      ({ e }) =>
        e.type === 'journey_event' &&
        (e.event.type === 'journey.completed' || e.event.type === 'journey.exited'),
    );
  if (after.status === 'active') {
    expect(finals).toEqual([]);
    return;
  }
  expect(finals).toHaveLength(1);
  expect(finals[0]?.i).toBe(effects.length - 1);
  expect(after.endedAt).not.toBeNull();
}

/** The store's pending timers for the enrollment equal the state's ledger; waits are consistent. */
function checkLedger(s: JourneyScenario): void {
  const enrollment = s.enrollment;
  if (enrollment === null) return;
  const state = readRuntimeState(enrollment.state);
  expect(state.timers.map((t) => t.id).sort()).toEqual([...s.timers.keys()].sort());
  if (enrollment.status !== 'active') {
    expect(state.timers).toEqual([]);
    expect(state.wait).toBeNull();
    return;
  }
  expect(s.journey.stageIndex.has(enrollment.stage)).toBe(true);
  if (enrollment.holdout) return;
  // An active enrollment that is not a holdout is always in exactly one wait, at that step.
  expect(state.wait).not.toBeNull();
  expect(enrollment.stepId).toBe(state.wait?.step);
  const step = s.journey.steps.get(state.wait?.step ?? '');
  expect(step?.type).toBe(state.wait?.kind);
  expect(s.journey.stages[step?.stageIndex ?? -1]?.id).toBe(enrollment.stage);
  if (state.wait?.timer != null) expect(s.timers.has(state.wait.timer)).toBe(true);
}

describe('journey runtime (property)', () => {
  it('never throws, stays valid, settles every timer and emits nothing after the end', () => {
    fc.assert(
      fc.property(
        journeyArb,
        journeyArb,
        fc.array(actionArb, { maxLength: 25 }),
        fc.string(),
        (def1, def2, actions, seed) => {
          const v1 = compileJourney(def1, 1);
          const v2 = compileJourney(def2, 2);
          const attributes: JsonObject = {
            flag: 'a',
            renewal: new Date(START + 3 * DAY).toISOString(),
          };
          const s = new JourneyScenario(
            v1,
            { id: 'cus_1', attributes },
            { start: START, seed, maxSteps: 200 },
          );
          const enrolled = s.enroll();
          if (enrolled.decision !== 'enrolled') return;
          checkEffectsEnd(enrolled.effects, enrolled.enrollment);
          checkLedger(s);
          let staleCount = 0;
          const scheduled = new Set<string>();
          const collect = () => {
            for (const e of s.effects) if (e.type === 'schedule_timer') scheduled.add(e.timer.id);
          };
          const step = (apply: () => AdvanceResult | AdvanceResult[]) => {
            const before = s.enrollment as EnrollmentRecord;
            const journey = s.journey;
            const results = [apply()].flat();
            let previous = before;
            for (const result of results) {
              checkResult(previous, result, result.ignored === undefined ? s.journey : journey);
              previous = result.enrollment;
            }
            if (before.status !== 'active') expect(s.enrollment).toEqual(before);
            checkLedger(s);
            collect();
          };
          for (const action of actions) {
            switch (action.kind) {
              case 'event': {
                const at = s.now + action.dt;
                // Timers due before the event fire first (each checked), then the event.
                step(() => s.advanceTo(at, false));
                step(() => s.event(action.type, { properties: { n: 1 } }, at));
                break;
              }
              case 'tick':
                step(() => s.wait(action.dt));
                break;
              case 'profile':
                step(() =>
                  s.updateProfile({
                    flag: action.flag,
                    renewal: new Date(s.now + action.renewal * DAY).toISOString(),
                  }),
                );
                break;
              case 'advance_stage':
                step(() => s.apply({ kind: 'advance_stage', stage: action.stage }));
                break;
              case 'exit':
                step(() => s.apply({ kind: 'exit', reason: 'test' }));
                break;
              case 'stale_timer': {
                staleCount += 1;
                const stale: TimerRecord = {
                  id: `tmr_stale_${staleCount}`,
                  customerId: 'cus_1',
                  enrollmentId: s.enrollment?.id ?? null,
                  kind: 'wait',
                  dueAt: s.now,
                  payload: {},
                  status: 'pending',
                };
                step(() => {
                  const result = s.fire(stale);
                  if (s.enrollment?.status === 'active') expect(result.ignored).toBe('stale_timer');
                  return result;
                });
                break;
              }
              case 'migrate':
                step(() =>
                  s.apply({ kind: 'migrate', toJourney: s.journey.version === 1 ? v2 : v1 }),
                );
                break;
            }
          }
          // Drain: fire whatever is due, far into the future (waits may cycle, so bounded).
          for (let i = 0; i < 20 && s.timers.size > 0; i++) step(() => s.wait(30 * DAY));
          collect();
          // Every timer ever scheduled is fired, cancelled, or still the one an active wait holds.
          for (const id of scheduled) {
            const settled = s.settledTimers.get(id);
            if (settled === undefined) {
              expect(s.enrollment?.status).toBe('active');
              expect(s.timers.has(id)).toBe(true);
            }
          }
          // Nothing applies to an ended enrollment.
          if (s.enrollment?.status !== 'active') {
            const after = s.apply({ kind: 'profile_changed' });
            expect(after).toMatchObject({ ignored: 'not_active', effects: [] });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

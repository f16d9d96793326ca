import { describe, expect, it } from 'vitest';
import { sequentialIds, type TimerRecord } from '../core/index.js';
import {
  advance,
  compileJourney,
  JourneyScenario,
  readRuntimeState,
  type JourneyDefinition,
  type JourneyEffect,
} from './index.js';

const START = Date.parse('2026-01-05T15:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const days = (n: number) => ({ text: `${n} days`, amount: n, unit: 'day', ms: n * DAY });
const lt = (field: string, value: number) => ({
  logic: 'AND' as const,
  conditions: [{ field, operator: 'lt' as const, value }],
});

const definition: JourneyDefinition = {
  id: 'adoption',
  exit: { conditions: lt('health_score', 30), events: ['customer.deleted'] },
  goals: [
    { name: 'activated', event: 'login.first', window: days(14) },
    {
      name: 'expanded',
      conditions: { logic: 'AND', conditions: [{ field: 'seats', operator: 'gte', value: 10 }] },
      exit: true,
    },
  ],
  stages: [
    {
      id: 'welcome',
      steps: [
        { id: 'hello', type: 'send', channel: 'email', content: { body: 'hello' } },
        {
          id: 'await_login',
          type: 'wait_for_event',
          events: [{ event: 'login.first', next: 'activation' }],
          timeout: days(3),
          on_timeout: { next: 'nudge' },
        },
      ],
    },
    {
      id: 'nudge',
      steps: [
        { id: 'nudge_msg', type: 'send', channel: 'email', content: { body: 'nudge' } },
        { id: 'pause', type: 'wait', duration: days(2) },
      ],
    },
    {
      id: 'activation',
      steps: [
        { id: 'tips', type: 'send', channel: 'in_app', content: { body: 'tips' } },
        { id: 'settle', type: 'wait', duration: days(30) },
      ],
    },
  ],
};

const journey = compileJourney(definition, 1);
const healthy = { id: 'cus_1', attributes: { health_score: 80, seats: 2 } };

function started() {
  const s = new JourneyScenario(journey, healthy, { start: START });
  s.enroll();
  return s;
}

const bodies = (effects: readonly JourneyEffect[]) =>
  effects.flatMap((e) => (e.type === 'send_message' ? [e.message.content['body']] : []));

describe('exit criteria', () => {
  it('exit conditions end the enrollment mid-wait and cancel its timer', () => {
    const s = started();
    const [timer] = [...s.timers.values()];
    const result = s.updateProfile({ health_score: 20 });
    expect(result.effects.map((e) => e.type)).toEqual(['cancel_timer', 'journey_event']);
    expect(result.effects[0]).toEqual({ type: 'cancel_timer', timerId: timer?.id });
    expect(s.enrollment).toMatchObject({
      status: 'exited',
      exitReason: 'exit_conditions',
      endedAt: START,
    });
    expect(readRuntimeState(s.enrollment?.state ?? {}).timers).toEqual([]);
    // The cancelled timer firing anyway (already claimed) changes nothing.
    expect(s.fire(timer as TimerRecord)).toMatchObject({ ignored: 'not_active', effects: [] });
  });

  it('an exit event ends the enrollment before anything else (even an awaited one)', () => {
    const s = started();
    s.event('customer.deleted', {}, START + HOUR);
    expect(s.enrollment).toMatchObject({ status: 'exited', exitReason: 'exit_event' });
    expect(s.journeyEvents.at(-1)?.data).toMatchObject({
      reason: 'exit_event',
      event: 'customer.deleted',
    });
    expect(s.timers.size).toBe(0);
  });

  it('exit conditions are checked before a timer moves the enrollment on', () => {
    const s = started();
    // The profile dropped without a profile_changed input; the due timer sees it first.
    s.customer = { ...s.customer, attributes: { health_score: 10 } };
    const results = s.wait(3 * DAY);
    expect(results[0]?.effects.map((e) => e.type)).toEqual(['journey_event']);
    expect(bodies(s.effects)).toEqual(['hello']);
    expect(s.enrollment?.exitReason).toBe('exit_conditions');
  });

  it('an exit input exits with its reason; later inputs are ignored', () => {
    const s = started();
    s.apply({ kind: 'exit', reason: 'api_delete' });
    expect(s.enrollment).toMatchObject({ status: 'exited', exitReason: 'api_delete' });
    expect(s.event('login.first')).toMatchObject({ ignored: 'not_active', effects: [] });
  });
});

describe('race freedom', () => {
  it('an event at the same instant as the timeout wins; the timer is then stale', () => {
    const s = started();
    const [timeout] = [...s.timers.values()];
    expect(timeout?.dueAt).toBe(START + 3 * DAY);
    // The scenario, like the orchestrator, applies the event before a timer due at the same instant.
    s.event('login.first', {}, START + 3 * DAY);
    expect(s.enrollment?.stage).toBe('activation');
    expect(bodies(s.effects)).toEqual(['hello', 'tips']);
    const late = s.fire(timeout as TimerRecord);
    expect(late).toMatchObject({ ignored: 'stale_timer', effects: [] });
    expect(late.enrollment).toBe(s.enrollment);
  });

  it('the timeout applied first wins; the later event no longer matches the wait', () => {
    const s = started();
    s.wait(3 * DAY);
    expect(s.enrollment?.stage).toBe('nudge');
    const result = s.event('login.first');
    expect(bodies(result.effects)).toEqual([]);
    expect(s.enrollment?.stage).toBe('nudge');
  });

  it('ignores a timer that is not the current wait timer, by id', () => {
    const s = started();
    const [current] = [...s.timers.values()];
    const stranger = { ...(current as TimerRecord), id: 'tmr_other' };
    expect(s.fire(stranger)).toMatchObject({ ignored: 'stale_timer', effects: [] });
    expect(s.enrollment?.stepId).toBe('await_login');
  });

  it('replaying the same input from the same state yields the same effects and keys', () => {
    const s = started();
    const enrollment = s.enrollment;
    if (enrollment === null) throw new Error('not enrolled');
    const event = {
      type: 'login.first',
      customerId: 'cus_1',
      occurredAt: START,
      receivedAt: START,
      payload: {},
      seq: 9,
    };
    const once = advance(
      journey,
      enrollment,
      healthy,
      { kind: 'event', event },
      { now: START, ids: sequentialIds(), seed: 's' },
    );
    const twice = advance(
      journey,
      enrollment,
      healthy,
      { kind: 'event', event },
      { now: START, ids: sequentialIds(), seed: 's' },
    );
    expect(twice).toEqual(once);
    const keys = once.effects.flatMap((e) =>
      e.type === 'send_message' ? [e.message.idempotencyKey] : [],
    );
    expect(keys).toEqual([`${enrollment.id}:tips:1`]);
  });
});

describe('inputs that change nothing', () => {
  it('return the input enrollment itself, updatedAt untouched (stuck journeys stay visible)', () => {
    const s = started();
    const before = s.enrollment;
    const result = s.event('page.viewed', { properties: { path: '/' } }, START + DAY);
    expect(result.effects).toEqual([]);
    expect(result.ignored).toBeUndefined();
    expect(result.enrollment).toBe(before);
    expect(result.enrollment.updatedAt).toBe(START);
    expect(s.updateProfile({ plan: 'pro' }).enrollment).toBe(before);
  });
});

describe('goals', () => {
  it('an event goal within the window emits journey.goal_reached once', () => {
    const s = started();
    s.event('login.first', {}, START + 2 * DAY);
    s.event('login.first', {}, START + 2 * DAY + HOUR);
    const reached = s.journeyEvents.filter((e) => e.type === 'journey.goal_reached');
    expect(reached).toHaveLength(1);
    expect(reached[0]?.data).toMatchObject({
      goal: 'activated',
      after_ms: 2 * DAY,
      event: 'login.first',
    });
    expect(s.enrollment?.status).toBe('active');
  });

  it('an event after the window is not a conversion', () => {
    const s = started();
    s.advanceTo(START + 20 * DAY);
    s.event('login.first', {}, START + 20 * DAY);
    expect(s.eventTypes).not.toContain('journey.goal_reached');
  });

  it('a conditions goal with exit: true ends the enrollment, after the goal event', () => {
    const s = started();
    s.updateProfile({ seats: 12 });
    expect(s.eventTypes.slice(-2)).toEqual(['journey.goal_reached', 'journey.exited']);
    expect(s.enrollment).toMatchObject({ status: 'exited', exitReason: 'goal_reached' });
    expect(s.timers.size).toBe(0);
  });

  it('exit criteria take precedence over goals on the same input', () => {
    const s = started();
    s.updateProfile({ seats: 12, health_score: 5 });
    expect(s.eventTypes).not.toContain('journey.goal_reached');
    expect(s.enrollment?.exitReason).toBe('exit_conditions');
  });
});

describe('advance_stage', () => {
  it('moves to the named stage, leaving the wait', () => {
    const s = started();
    const result = s.apply({ kind: 'advance_stage', stage: 'activation' });
    expect(result.effects.map((e) => (e.type === 'journey_event' ? e.event.type : e.type))).toEqual(
      ['cancel_timer', 'journey.stage_changed', 'send_message', 'step.completed', 'schedule_timer'],
    );
    expect(s.journeyEvents.find((e) => e.type === 'journey.stage_changed')?.data).toMatchObject({
      from: 'welcome',
      to: 'activation',
      reason: 'advanced',
    });
  });

  it('without a stage goes to the next one, and past the last completes', () => {
    const s = started();
    s.apply({ kind: 'advance_stage' });
    expect(s.enrollment?.stage).toBe('nudge');
    s.apply({ kind: 'advance_stage' });
    expect(s.enrollment?.stage).toBe('activation');
    s.apply({ kind: 'advance_stage' });
    expect(s.enrollment).toMatchObject({ status: 'completed' });
    expect(s.timers.size).toBe(0);
  });

  it('ignores an unknown stage', () => {
    const s = started();
    expect(s.apply({ kind: 'advance_stage', stage: 'nowhere' })).toMatchObject({
      ignored: 'unknown_stage',
      effects: [],
    });
  });
});

describe('versions and migration', () => {
  it('ignores an input for another version or journey', () => {
    const s = started();
    const v2 = compileJourney(definition, 2);
    const enrollment = s.enrollment;
    if (enrollment === null) throw new Error('not enrolled');
    const ctx = { now: START, ids: sequentialIds(), seed: 's' };
    expect(advance(v2, enrollment, healthy, { kind: 'profile_changed' }, ctx).ignored).toBe(
      'version_mismatch',
    );
    const other = compileJourney({ ...definition, id: 'other' }, 1);
    expect(advance(other, enrollment, healthy, { kind: 'profile_changed' }, ctx).ignored).toBe(
      'journey_mismatch',
    );
    expect(s.apply({ kind: 'migrate', toJourney: other }).ignored).toBe('journey_mismatch');
  });

  it('keeps a wait whose step id survives, with its timer', () => {
    const s = started();
    const timers = [...s.timers.keys()];
    const v2 = compileJourney(
      {
        ...definition,
        stages: [
          { id: 'intro', steps: [definition.stages[0]?.steps[1] ?? { type: 'exit' }] },
          ...definition.stages.slice(1),
        ],
      },
      2,
    );
    const result = s.apply({ kind: 'migrate', toJourney: v2 });
    expect(result.enrollment).toMatchObject({
      journeyVersion: 2,
      stage: 'intro',
      stepId: 'await_login',
    });
    expect([...s.timers.keys()]).toEqual(timers);
    expect(s.journeyEvents.at(-1)).toMatchObject({
      type: 'journey.stage_changed',
      data: { from: 'welcome', to: 'intro', reason: 'migrated', from_version: 1 },
    });
    // The kept timer still ends the wait under the new version.
    s.wait(3 * DAY);
    expect(s.enrollment?.stage).toBe('nudge');
  });

  it('runs from the stage start when the step is gone, and exits when the stage is gone', () => {
    const s = started();
    const v2 = compileJourney(
      {
        ...definition,
        stages: [
          { id: 'welcome', steps: [{ id: 'new_wait', type: 'wait', duration: days(1) }] },
          ...definition.stages.slice(1),
        ],
      },
      2,
    );
    s.apply({ kind: 'migrate', toJourney: v2 });
    expect(s.enrollment).toMatchObject({ journeyVersion: 2, stage: 'welcome', stepId: 'new_wait' });
    expect([...s.timers.values()].map((t) => t.dueAt)).toEqual([START + DAY]);
    expect(s.effects.filter((e) => e.type === 'cancel_timer')).toHaveLength(1);

    const t = started();
    const v3 = compileJourney({ ...definition, stages: definition.stages.slice(1) }, 3);
    t.apply({ kind: 'migrate', toJourney: v3 });
    expect(t.enrollment).toMatchObject({
      status: 'exited',
      exitReason: 'migration_stage_removed',
      // It exits on the version it was on: its stage does not exist in version 3.
      journeyVersion: 1,
      stage: 'welcome',
    });
    expect(t.journeyEvents.at(-1)?.data).toMatchObject({ from_version: 1, to_version: 3 });
    expect(t.timers.size).toBe(0);
  });
});

describe('loop guard', () => {
  it('exits with loop_detected on a goto cycle without a wait', () => {
    const looping = compileJourney(
      {
        id: 'loop',
        stages: [
          {
            id: 'a',
            steps: [
              { type: 'send', channel: 'email', content: { body: 'x' } },
              { type: 'goto', stage: 'b' },
            ],
          },
          { id: 'b', steps: [{ type: 'goto', stage: 'a' }] },
        ],
      },
      1,
    );
    const s = new JourneyScenario(looping, healthy, { start: START, maxSteps: 50 });
    const result = s.enroll();
    expect(result.decision === 'enrolled' && result.enrollment).toMatchObject({
      status: 'exited',
      exitReason: 'loop_detected',
    });
    expect(s.journeyEvents.at(-1)?.data).toMatchObject({ reason: 'loop_detected', max_steps: 50 });
    // Each send of the loop has its own visit, so its own idempotency key.
    const keys = s.effects.flatMap((e) =>
      e.type === 'send_message' ? [e.message.idempotencyKey] : [],
    );
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBeGreaterThan(10);
  });

  it('the default cap is 1,000 steps', () => {
    const looping = compileJourney(
      { id: 'loop', stages: [{ id: 'a', steps: [{ type: 'goto', stage: 'a' }] }] },
      1,
    );
    const s = new JourneyScenario(looping, healthy, { start: START });
    s.enroll();
    expect(s.eventTypes.filter((t) => t === 'step.completed')).toHaveLength(1000);
    expect(s.enrollment?.exitReason).toBe('loop_detected');
  });

  it('a cycle through a wait is not a loop', () => {
    const cycling = compileJourney(
      {
        id: 'cycle',
        stages: [
          {
            id: 'a',
            steps: [
              { type: 'wait', duration: days(1) },
              { type: 'goto', stage: 'a' },
            ],
          },
        ],
      },
      1,
    );
    const s = new JourneyScenario(cycling, healthy, { start: START });
    s.enroll();
    s.wait(100 * DAY);
    expect(s.enrollment?.status).toBe('active');
    expect(readRuntimeState(s.enrollment?.state ?? {}).visits['a.0']).toBe(101);
  });
});

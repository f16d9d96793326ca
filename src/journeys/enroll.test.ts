import { describe, expect, it } from 'vitest';
import { sequentialIds, type EnrollmentRecord } from '../core/index.js';
import {
  compileJourney,
  enroll,
  inJourneyHoldout,
  JourneyScenario,
  type JourneyDefinition,
  type ReEntryPolicy,
} from './index.js';

const START = Date.parse('2026-01-05T15:00:00Z');
const DAY = 86_400_000;
const days = (n: number) => ({ text: `${n} days`, amount: n, unit: 'day', ms: n * DAY });
const customer = { id: 'cus_1', attributes: { type: 'paid', health_score: 80 } };
const ctx = { now: START, ids: sequentialIds(), seed: 'seed' };

function journeyWith(extra: Partial<JourneyDefinition>) {
  return compileJourney(
    {
      id: 'onboarding',
      stages: [
        {
          id: 'welcome',
          steps: [
            { type: 'send', channel: 'email', content: { body: 'hi' } },
            { type: 'wait', duration: days(7) },
          ],
        },
      ],
      ...extra,
    },
    1,
  );
}

function ended(endedAt: number, overrides: Partial<EnrollmentRecord> = {}): EnrollmentRecord {
  return {
    id: 'enr_old',
    journeyId: 'onboarding',
    journeyVersion: 1,
    customerId: 'cus_1',
    status: 'completed',
    stage: 'welcome',
    stepId: null,
    state: {},
    holdout: false,
    enrolledAt: endedAt - DAY,
    updatedAt: endedAt,
    endedAt,
    exitReason: null,
    ...overrides,
  };
}

describe('enroll', () => {
  it('enrols, emits journey.enrolled and runs to the first wait', () => {
    const result = enroll(journeyWith({}), customer, {
      ...ctx,
      enrollmentId: 'enr_given',
      trigger: { source: 'rule', name: 'onboarding_enrollment' },
    });
    expect(result.decision).toBe('enrolled');
    if (result.decision !== 'enrolled') return;
    expect(result.enrollment).toMatchObject({
      id: 'enr_given',
      journeyId: 'onboarding',
      journeyVersion: 1,
      status: 'active',
      stage: 'welcome',
      stepId: 'welcome.1',
      holdout: false,
      enrolledAt: START,
    });
    const types = result.effects.map((e) => (e.type === 'journey_event' ? e.event.type : e.type));
    expect(types).toEqual(['journey.enrolled', 'send_message', 'step.completed', 'schedule_timer']);
    const enrolled = result.effects[0];
    expect(enrolled?.type === 'journey_event' && enrolled.event.data).toMatchObject({
      enrollment_id: 'enr_given',
      stage: 'welcome',
      holdout: false,
      trigger: { source: 'rule', name: 'onboarding_enrollment', event: null },
    });
  });

  it('rejects when the journey is paused or the customer is already in it', () => {
    const journey = journeyWith({});
    expect(
      enroll(journey, customer, { ...ctx, trigger: { source: 'api' }, paused: true }),
    ).toMatchObject({ decision: 'rejected', reason: 'journey_paused', effects: [] });
    const active = ended(START, { status: 'active', endedAt: null, id: 'enr_live' });
    expect(
      enroll(journey, customer, { ...ctx, trigger: { source: 'api' }, previous: [active] }),
    ).toMatchObject({
      decision: 'rejected',
      reason: 'already_enrolled',
      details: { enrollment_id: 'enr_live' },
    });
  });

  it.each<[ReEntryPolicy, number, string]>([
    ['never', 365 * DAY, 'rejected'],
    ['always', 0, 'enrolled'],
    ['cooldown', 29 * DAY, 'rejected'],
    ['cooldown', 30 * DAY, 'enrolled'],
  ])('re_entry %s, previous ended %d ms ago → %s', (policy, ago, decision) => {
    const journey = journeyWith({
      entry: { re_entry: policy, ...(policy === 'cooldown' ? { cooldown: days(30) } : {}) },
    });
    const result = enroll(journey, customer, {
      ...ctx,
      trigger: { source: 'event' },
      previous: [ended(START - ago)],
    });
    expect(result.decision).toBe(decision);
    if (policy === 'cooldown' && result.decision === 'rejected') {
      expect(result.reason).toBe('cooldown');
      expect(result.details).toMatchObject({ until: START - ago + 30 * DAY });
    }
    if (policy === 'never') expect(result).toMatchObject({ reason: 're_entry_not_allowed' });
  });

  it('measures the cooldown from the latest end and ignores other journeys and customers', () => {
    const journey = journeyWith({ entry: { re_entry: 'cooldown', cooldown: days(30) } });
    const previous = [
      ended(START - 100 * DAY),
      ended(START - 10 * DAY, { journeyId: 'other' }),
      ended(START - 10 * DAY, { customerId: 'cus_2' }),
    ];
    expect(enroll(journey, customer, { ...ctx, trigger: { source: 'x' }, previous }).decision).toBe(
      'enrolled',
    );
    previous.push(ended(START - 10 * DAY, { status: 'exited' }));
    expect(enroll(journey, customer, { ...ctx, trigger: { source: 'x' }, previous }).decision).toBe(
      'rejected',
    );
  });

  it('checks entry conditions against the customer and the triggering event', () => {
    const journey = journeyWith({
      entry: {
        event: 'customer.created',
        conditions: {
          logic: 'AND',
          conditions: [
            { field: 'event.type', operator: 'eq', value: 'customer.created' },
            { field: 'customer.type', operator: 'ne', value: 'trial' },
          ],
        },
      },
    });
    expect(journey.entryEvent).toBe('customer.created');
    const event = (type: string) => ({
      type,
      customerId: 'cus_1',
      occurredAt: START,
      receivedAt: START,
      payload: {},
      seq: 1,
    });
    const attempt = (type: string, attributes: Record<string, string>) =>
      enroll(
        journey,
        { id: 'cus_1', attributes },
        { ...ctx, trigger: { source: 'event', event: event(type) } },
      );
    expect(attempt('customer.created', {}).decision).toBe('enrolled');
    expect(attempt('customer.created', { type: 'trial' })).toMatchObject({
      decision: 'rejected',
      reason: 'entry_conditions_not_met',
    });
    expect(attempt('customer.updated', {}).decision).toBe('rejected');
  });

  it('rejects a customer who already meets the exit criteria', () => {
    const journey = journeyWith({
      exit: {
        conditions: {
          logic: 'AND',
          conditions: [{ field: 'health_score', operator: 'gt', value: 50 }],
        },
      },
    });
    expect(enroll(journey, customer, { ...ctx, trigger: { source: 'x' } })).toMatchObject({
      decision: 'rejected',
      reason: 'exit_criteria_met',
    });
  });
});

describe('journey holdout', () => {
  const goals = [{ name: 'activated', event: 'login.first', window: days(14) }];

  it('is stable per customer and close to the configured share over 10,000 customers', () => {
    const journey = journeyWith({ holdout: 0.1, goals });
    let held = 0;
    for (let i = 0; i < 10_000; i++) {
      const id = `cus_${i}`;
      const first = inJourneyHoldout(journey, id, 'seed');
      expect(inJourneyHoldout(journey, id, 'seed')).toBe(first);
      if (first) held += 1;
    }
    // Binomial(10,000, 0.1): sd = 30; allow 5 sd.
    expect(held).toBeGreaterThan(850);
    expect(held).toBeLessThan(1150);
    expect(inJourneyHoldout(journeyWith({ goals }), 'cus_1', 'seed')).toBe(false);
  });

  it('enrols a holdout for measurement: no steps, goals counted, completes at the window end', () => {
    const journey = journeyWith({ holdout: 0.5, goals });
    const heldId = Array.from({ length: 50 }, (_, i) => `cus_${i}`).find((id) =>
      inJourneyHoldout(journey, id, 'scenario'),
    );
    expect(heldId).toBeDefined();
    const s = new JourneyScenario(journey, { id: heldId ?? '', attributes: {} }, { start: START });
    const result = s.enroll();
    expect(result.decision === 'enrolled' && result.enrollment.holdout).toBe(true);
    expect(s.journeyEvents[0]).toMatchObject({ type: 'journey.enrolled', data: { holdout: true } });
    expect(s.effects.some((e) => e.type === 'send_message')).toBe(false);
    expect([...s.timers.values()].map((t) => [t.kind, t.dueAt])).toEqual([
      ['goal_window', START + 14 * DAY],
    ]);
    // Stage advances do not apply to a holdout.
    expect(s.apply({ kind: 'advance_stage' }).ignored).toBe('holdout');
    s.event('feature.used', {}, START + DAY);
    s.wait(14 * DAY);
    expect(s.enrollment).toMatchObject({ status: 'completed' });
    expect(s.journeyEvents.at(-1)).toMatchObject({
      type: 'journey.completed',
      data: { reason: 'holdout_measured', holdout: true },
    });
  });

  it('a holdout completes early when every goal is reached, and at once without goals', () => {
    const journey = journeyWith({ holdout: 0.5, goals });
    const heldId =
      Array.from({ length: 50 }, (_, i) => `cus_${i}`).find((id) =>
        inJourneyHoldout(journey, id, 'scenario'),
      ) ?? '';
    const s = new JourneyScenario(journey, { id: heldId, attributes: {} }, { start: START });
    s.enroll();
    s.event('login.first', {}, START + DAY);
    expect(s.eventTypes.slice(-2)).toEqual(['journey.goal_reached', 'journey.completed']);
    expect(s.journeyEvents.at(-2)?.data).toMatchObject({ goal: 'activated', holdout: true });
    expect(s.timers.size).toBe(0);

    const noGoals = journeyWith({ holdout: 0.5 });
    const other =
      Array.from({ length: 50 }, (_, i) => `cus_${i}`).find((id) =>
        inJourneyHoldout(noGoals, id, 'scenario'),
      ) ?? '';
    const t = new JourneyScenario(noGoals, { id: other, attributes: {} }, { start: START });
    t.enroll();
    expect(t.enrollment).toMatchObject({ status: 'completed', holdout: true });
    expect(t.eventTypes).toEqual(['journey.enrolled', 'journey.completed']);
  });
});

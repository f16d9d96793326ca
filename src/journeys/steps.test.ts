import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../core/index.js';
import {
  compileJourney,
  JourneyScenario,
  type CompileJourneyOptions,
  type JourneyDefinition,
  type JourneyEffect,
  type StepDefinition,
} from './index.js';

const START = Date.parse('2026-01-05T15:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const days = (n: number) => ({ text: `${n} days`, amount: n, unit: 'day', ms: n * DAY });
const hours = (n: number) => ({ text: `${n}h`, amount: n, unit: 'hour', ms: n * HOUR });
const eq = (field: string, value: unknown) => ({
  logic: 'AND' as const,
  conditions: [{ field, operator: 'eq' as const, value }],
});

const ADA: JsonObject = {
  first_name: 'Ada',
  csm_id: 'csm_7',
  plan: 'pro',
  health_score: 40,
  timezone: 'UTC',
};

function scenario(
  stages: JourneyDefinition['stages'],
  extra: Partial<JourneyDefinition> = {},
  options: CompileJourneyOptions = {},
  attributes: JsonObject = ADA,
) {
  const journey = compileJourney({ id: 'j', stages, ...extra }, 1, options);
  return new JourneyScenario(journey, { id: 'cus_1', attributes }, { start: START, seed: 's' });
}

function oneStage(...steps: StepDefinition[]) {
  return scenario([{ id: 'main', steps }]);
}

/** The `step.completed` events of one step. */
function completions(s: JourneyScenario, stepId: string) {
  return s.journeyEvents.filter((e) => e.type === 'step.completed' && e.data['step_id'] === stepId);
}

function ofType<T extends JourneyEffect['type']>(effects: readonly JourneyEffect[], type: T) {
  return effects.filter((e): e is Extract<JourneyEffect, { type: T }> => e.type === type);
}

describe('send', () => {
  it('emits a queued message with rendered content, priority and a stable idempotency key', () => {
    const s = oneStage({
      id: 'hello',
      type: 'send',
      channel: 'email',
      priority: 'high',
      content: {
        subject: 'Hi {{customer.first_name}} & co',
        body: 'Your CSM is {{customer.csm_id}}; {{customer.last_name}}',
        html: '<p>{{customer.first_name}}</p>',
      },
    });
    const result = s.enroll();
    expect(result.decision).toBe('enrolled');
    const [send] = ofType(s.effects, 'send_message');
    expect(send?.message).toMatchObject({
      customerId: 'cus_1',
      journeyId: 'j',
      stepId: 'hello',
      channel: 'email',
      priority: 'high',
      status: 'queued',
      createdAt: START,
      idempotencyKey: `${s.enrollment?.id}:hello:1`,
      content: { subject: 'Hi Ada & co', html: '<p>Ada</p>' },
    });
    expect(send?.message.content['body']).toBe('Your CSM is csm_7; ');
    expect(send?.missing.some((path) => path.includes('last_name'))).toBe(true);
    expect(send?.template).toBeNull();
    const completed = s.journeyEvents.find((e) => e.type === 'step.completed');
    expect(completed?.data).toMatchObject({
      step_id: 'hello',
      step_type: 'send',
      channel: 'email',
    });
  });

  it('renders a named template, choosing a variant deterministically', () => {
    const options: CompileJourneyOptions = {
      templates: {
        welcome: {
          subject: 'Welcome {{customer.first_name}}',
          body: 'base',
          variants: [
            { name: 'short', body: 'Short {{customer.plan}}' },
            { name: 'long', subject: 'Long hello', body: 'Long {{customer.plan}}' },
          ],
        },
      },
    };
    const stages = [
      { id: 'm', steps: [{ type: 'send' as const, channel: 'email', template: 'welcome' }] },
    ];
    const chosen = new Set<string | null>();
    for (let i = 0; i < 20; i++) {
      const journey = compileJourney({ id: 'j', stages }, 1, options);
      const run = (): JourneyEffect[] => {
        const s = new JourneyScenario(
          journey,
          { id: `cus_${i}`, attributes: ADA },
          // Every scenario numbers its enrollments from 1; the seed varies the draw instead.
          { start: START, seed: `seed_${i}` },
        );
        s.enroll();
        return s.effects;
      };
      const [first] = ofType(run(), 'send_message');
      const [again] = ofType(run(), 'send_message');
      expect(again?.variant).toBe(first?.variant);
      chosen.add(first?.variant ?? null);
      if (first?.variant === 'short') {
        expect(first.message.content).toEqual({ subject: 'Welcome Ada', body: 'Short pro' });
      } else {
        expect(first?.message.content).toEqual({ subject: 'Long hello', body: 'Long pro' });
      }
    }
    expect(chosen).toEqual(new Set(['short', 'long']));
  });

  it('leaves a template to delivery when compiled without the library', () => {
    const s = oneStage({ type: 'send', channel: 'email', template: 'welcome' });
    s.enroll();
    const [send] = ofType(s.effects, 'send_message');
    expect(send).toMatchObject({ template: 'welcome', variant: null, missing: [] });
    expect(send?.message.content).toEqual({});
  });
});

describe('wait', () => {
  it('schedules a timer and continues when it fires', () => {
    const s = oneStage(
      { id: 'w', type: 'wait', duration: hours(5) },
      { id: 'after', type: 'send', channel: 'sms', content: { body: 'x' } },
    );
    s.enroll();
    const [timer] = ofType(s.effects, 'schedule_timer');
    expect(timer?.timer).toMatchObject({
      kind: 'wait',
      dueAt: START + 5 * HOUR,
      status: 'pending',
      customerId: 'cus_1',
      enrollmentId: s.enrollment?.id,
    });
    expect(s.enrollment?.stepId).toBe('w');
    expect(ofType(s.effects, 'send_message')).toHaveLength(0);
    s.wait(5 * HOUR);
    expect(ofType(s.effects, 'send_message')).toHaveLength(1);
    const waited = s.journeyEvents.find(
      (e) => e.type === 'step.completed' && e.data['step_id'] === 'w',
    );
    expect(waited?.data).toMatchObject({ outcome: 'elapsed', waited_ms: 5 * HOUR });
    expect(s.enrollment?.status).toBe('completed');
  });

  it('waits until an instant, and passes straight through one already past', () => {
    const future = START + 3 * DAY;
    const s = oneStage(
      { id: 'past', type: 'wait', until: START - DAY },
      { id: 'future', type: 'wait', until: new Date(future).toISOString() },
    );
    s.enroll();
    expect(completions(s, 'past')[0]?.data).toMatchObject({
      outcome: 'target_passed',
    });
    expect(ofType(s.effects, 'schedule_timer').map((t) => t.timer.dueAt)).toEqual([future]);
    expect(s.enrollment?.stepId).toBe('future');
  });
});

describe('wait_for_event', () => {
  const stages = [
    {
      id: 'wait_stage',
      steps: [
        {
          id: 'w',
          type: 'wait_for_event' as const,
          events: [
            { event: 'login.first', conditions: eq('event.plan', 'pro'), next: 'won' },
            { event: 'support.ticket_opened', next: 'exit' },
          ],
          timeout: days(3),
          on_timeout: { next: 'nudge' },
        },
      ],
    },
    { id: 'won', steps: [{ type: 'send' as const, channel: 'email', content: { body: 'won' } }] },
    {
      id: 'nudge',
      steps: [{ type: 'send' as const, channel: 'email', content: { body: 'nudge' } }],
    },
  ];

  it('follows the first awaited event whose conditions hold and cancels the timeout', () => {
    const s = scenario(stages);
    s.enroll();
    const [timeout] = ofType(s.effects, 'schedule_timer');
    expect(timeout?.timer).toMatchObject({ kind: 'wait_timeout', dueAt: START + 3 * DAY });
    s.event('login.first', { properties: { plan: 'free' } }, START + HOUR);
    expect(s.enrollment?.stepId).toBe('w');
    s.event('login.first', { properties: { plan: 'pro' } }, START + 2 * HOUR);
    expect(ofType(s.effects, 'cancel_timer').map((c) => c.timerId)).toEqual([timeout?.timer.id]);
    expect(s.eventTypes).toContain('journey.stage_changed');
    expect(s.journeyEvents.find((e) => e.type === 'journey.stage_changed')?.data).toMatchObject({
      from: 'wait_stage',
      to: 'won',
      reason: 'next',
    });
    expect(ofType(s.effects, 'send_message')[0]?.message.content).toEqual({ body: 'won' });
    expect(s.enrollment?.status).toBe('completed');
  });

  it('takes on_timeout when nothing arrives', () => {
    const s = scenario(stages);
    s.enroll();
    s.wait(3 * DAY);
    expect(ofType(s.effects, 'send_message')[0]?.message.content).toEqual({ body: 'nudge' });
    expect(completions(s, 'w')[0]?.data).toMatchObject({
      outcome: 'timeout',
    });
  });

  it('exits on an awaited event whose next is exit', () => {
    const s = scenario(stages);
    s.enroll();
    s.event('support.ticket_opened', {}, START + HOUR);
    expect(s.enrollment).toMatchObject({ status: 'exited', exitReason: 'exit_target' });
    expect(s.timers.size).toBe(0);
  });

  it('without timeout waits indefinitely and schedules nothing', () => {
    const s = oneStage({ type: 'wait_for_event', events: [{ event: 'x' }] });
    s.enroll();
    expect(ofType(s.effects, 'schedule_timer')).toHaveLength(0);
    s.wait(365 * DAY);
    expect(s.enrollment?.status).toBe('active');
    s.event('x');
    expect(s.enrollment?.status).toBe('completed');
  });
});

describe('branch', () => {
  const stages = (withDefault: boolean) => [
    {
      id: 'b',
      steps: [
        {
          id: 'route',
          type: 'branch' as const,
          branches: [
            { name: 'vip', conditions: eq('plan', 'enterprise'), next: 'vip' },
            { name: 'pro', conditions: eq('customer.plan', 'pro'), next: 'pro' },
          ],
          ...(withDefault ? { default: { next: 'vip' } } : {}),
        },
        { type: 'send' as const, channel: 'email', content: { body: 'fallthrough' } },
      ],
    },
    { id: 'vip', steps: [{ type: 'send' as const, channel: 'email', content: { body: 'vip' } }] },
    { id: 'pro', steps: [{ type: 'send' as const, channel: 'email', content: { body: 'pro' } }] },
  ];
  const bodies = (s: JourneyScenario) =>
    ofType(s.effects, 'send_message').map((m) => m.message.content['body']);

  it('takes the first matching branch', () => {
    const s = scenario(stages(false));
    s.enroll();
    expect(bodies(s)).toEqual(['pro']);
    expect(completions(s, 'route')[0]?.data).toMatchObject({
      branch: 'pro',
    });
  });

  it('takes default when nothing matches, else continues', () => {
    const withDefault = scenario(stages(true), {}, {}, { plan: 'free' });
    withDefault.enroll();
    expect(bodies(withDefault)).toEqual(['vip', 'pro']);
    const without = scenario(stages(false), {}, {}, { plan: 'free' });
    without.enroll();
    // Continuing runs the next step, then falls into the following stages in order.
    expect(bodies(without)).toEqual(['fallthrough', 'vip', 'pro']);
    expect(completions(without, 'route')[0]?.data).toMatchObject({
      branch: 'default',
    });
  });
});

describe('task, alert and webhook', () => {
  it('creates a task with rendered title and assignee, due in the customer zone', () => {
    const s = oneStage({
      id: 't',
      type: 'task',
      title: 'Call {{customer.first_name}}',
      assignee: '{{customer.csm_id}}',
      due: days(2),
      description: 'Plan {{customer.plan}}',
    });
    s.enroll();
    const [task] = ofType(s.effects, 'create_task');
    expect(task?.task).toMatchObject({
      title: 'Call Ada',
      assignee: 'csm_7',
      dueAt: START + 2 * DAY,
      status: 'open',
      journeyId: 'j',
      data: { step_id: 't', description: 'Plan pro' },
    });
    expect(task?.idempotencyKey).toBe(`${s.enrollment?.id}:t:1`);
  });

  it('raises an alert', () => {
    const s = oneStage({
      id: 'a',
      type: 'alert',
      severity: 'high',
      message: 'Health {{customer.health_score}}',
      assignee: '{{customer.csm_id}}',
    });
    s.enroll();
    expect(ofType(s.effects, 'create_alert')[0]?.alert).toMatchObject({
      severity: 'high',
      message: 'Health 40',
      assignee: 'csm_7',
      status: 'open',
    });
  });

  it('calls an inline webhook with a rendered body (exact placeholders keep their type)', () => {
    const s = oneStage({
      id: 'h',
      type: 'webhook',
      url: 'https://crm.example.com/{{customer.csm_id}}',
      method: 'put',
      headers: { 'X-Customer': '{{customer.id}}' },
      body: { score: '{{customer.health_score}}', note: 'plan {{customer.plan}}' },
    });
    s.enroll();
    const [call] = ofType(s.effects, 'call_webhook');
    expect(call?.call).toMatchObject({
      webhook: null,
      url: 'https://crm.example.com/csm_7',
      method: 'PUT',
      headers: { 'X-Customer': 'cus_1' },
      body: { score: 40, note: 'plan pro' },
      stepId: 'h',
    });
    expect(call?.idempotencyKey).toBe(`${s.enrollment?.id}:h:1`);
  });

  it('names a configured webhook', () => {
    const s = oneStage({ type: 'webhook', webhook: 'CRM Sync' });
    s.enroll();
    expect(ofType(s.effects, 'call_webhook')[0]?.call).toMatchObject({
      webhook: 'CRM Sync',
      url: null,
      method: 'POST',
      body: null,
    });
  });
});

describe('update_customer', () => {
  it('returns a patch and later steps see the patched profile', () => {
    const s = oneStage(
      {
        type: 'update_customer',
        set: { onboarded: true, 'contract.stage': 'trial_{{customer.plan}}' },
        unset: ['customer.health_score'],
      },
      { type: 'send', channel: 'email', content: { body: '{{customer.contract.stage}}' } },
      {
        type: 'branch',
        branches: [{ name: 'done', conditions: eq('onboarded', true), next: 'complete' }],
      },
      { type: 'send', channel: 'email', content: { body: 'not reached' } },
    );
    const result = s.enroll();
    expect(result.decision === 'enrolled' && result.customerPatch).toEqual({
      operations: [
        { op: 'set', path: ['onboarded'], value: true },
        { op: 'set', path: ['contract', 'stage'], value: 'trial_pro' },
        { op: 'unset', path: ['health_score'] },
      ],
      attributes: {
        first_name: 'Ada',
        csm_id: 'csm_7',
        plan: 'pro',
        timezone: 'UTC',
        onboarded: true,
        contract: { stage: 'trial_pro' },
      },
    });
    expect(ofType(s.effects, 'send_message').map((m) => m.message.content['body'])).toEqual([
      'trial_pro',
    ]);
    expect(s.enrollment?.status).toBe('completed');
    expect(ADA).not.toHaveProperty('onboarded');
  });

  it('reaches a condition goal set by the update, exiting when the goal says so', () => {
    const s = scenario(
      [
        {
          id: 'm',
          steps: [
            { type: 'update_customer', set: { onboarded: true } },
            { type: 'send', channel: 'email', content: { body: 'never' } },
          ],
        },
      ],
      { goals: [{ name: 'onboarded', conditions: eq('onboarded', true), exit: true }] },
    );
    s.enroll();
    expect(s.eventTypes.slice(-2)).toEqual(['journey.goal_reached', 'journey.exited']);
    expect(s.enrollment).toMatchObject({ status: 'exited', exitReason: 'goal_reached' });
    expect(ofType(s.effects, 'send_message')).toHaveLength(0);
  });

  it('exits at once when the update meets the exit criteria', () => {
    const s = scenario(
      [
        {
          id: 'm',
          steps: [
            { type: 'update_customer', set: { churned: true } },
            { type: 'send', channel: 'email', content: { body: 'never' } },
          ],
        },
      ],
      { exit: { conditions: eq('churned', true) } },
    );
    s.enroll();
    expect(s.enrollment).toMatchObject({ status: 'exited', exitReason: 'exit_conditions' });
    expect(ofType(s.effects, 'send_message')).toHaveLength(0);
  });
});

describe('goto, exit and targets', () => {
  it('goto enters the stage (journey.stage_changed) and the end of the last stage completes', () => {
    const s = scenario([
      { id: 'one', steps: [{ type: 'goto', stage: 'three' }] },
      { id: 'two', steps: [{ type: 'send', channel: 'email', content: { body: 'skipped' } }] },
      { id: 'three', steps: [{ type: 'send', channel: 'email', content: { body: 'three' } }] },
    ]);
    s.enroll();
    expect(s.eventTypes).toEqual([
      'journey.enrolled',
      'step.completed',
      'journey.stage_changed',
      'step.completed',
      'journey.completed',
    ]);
    expect(s.journeyEvents[2]?.data).toMatchObject({ from: 'one', to: 'three' });
    expect(s.journeyEvents[4]?.data).toMatchObject({ reason: 'end_of_journey', stage: 'three' });
    expect(s.enrollment).toMatchObject({ status: 'completed', stage: 'three', endedAt: START });
  });

  it('falling off a stage enters the next with reason stage_completed', () => {
    const s = scenario([
      { id: 'one', steps: [] },
      { id: 'two', steps: [{ type: 'wait', duration: hours(1) }] },
    ]);
    s.enroll();
    expect(s.journeyEvents.find((e) => e.type === 'journey.stage_changed')?.data).toMatchObject({
      from: 'one',
      to: 'two',
      reason: 'stage_completed',
    });
    expect(s.enrollment?.stage).toBe('two');
  });

  it('an exit step exits with its reason; next: complete completes', () => {
    const exiting = oneStage({ type: 'exit', reason: 'not_a_fit' });
    exiting.enroll();
    expect(exiting.enrollment).toMatchObject({ status: 'exited', exitReason: 'not_a_fit' });
    expect(exiting.journeyEvents.at(-1)).toMatchObject({
      type: 'journey.exited',
      data: { reason: 'not_a_fit' },
    });
    const completing = oneStage(
      { type: 'goto', stage: 'complete' },
      { type: 'send', channel: 'email', content: { body: 'never' } },
    );
    completing.enroll();
    expect(completing.enrollment).toMatchObject({ status: 'completed', exitReason: null });
    expect(ofType(completing.effects, 'send_message')).toHaveLength(0);
  });
});

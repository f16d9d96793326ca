import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigFromString, type LoadedConfig } from '../config/index.js';
import { VirtualClock, type JourneyEventRecord, type NewEvent } from '../core/index.js';
import { RecordingProvider } from '../delivery/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';
import { simulate, simulateJourney } from './simulation.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const DAY = 86_400_000;
const memoryStore = () => openStore({ file: ':memory:' });

function event(
  type: string,
  customerId: string,
  at: number,
  extra: Record<string, unknown> = {},
): NewEvent {
  return { type, customerId, occurredAt: at, payload: extra as NewEvent['payload'] };
}

function path(events: JourneyEventRecord[], customerId: string): string[] {
  return events
    .filter((e) => e.customerId === customerId && e.type !== 'step.completed')
    .map(
      (e) =>
        `${e.type}:${e.journeyId}${typeof e.data['to'] === 'string' ? `>${e.data['to']}` : ''}`,
    );
}

let example: LoadedConfig | undefined;
async function exampleConfig(): Promise<LoadedConfig> {
  example ??= await loadConfig(join(import.meta.dirname, '../../examples/customer-success'));
  return example;
}

describe('the example project in simulated time', () => {
  it('enrolls new non-trial customers in onboarding_v2 and sends the in-app welcome', async () => {
    const result = await simulate({
      config: await exampleConfig(),
      openStore: memoryStore,
      customers: [],
      events: [
        event('customer.created', 'c1', T0, { properties: { type: 'paid', first_name: 'Ann' } }),
        event('customer.created', 'c2', T0, { properties: { type: 'trial' } }),
      ],
      until: T0 + DAY,
    });
    expect(path(result.journeyEvents, 'c1').slice(0, 2)).toEqual([
      'journey.enrolled:onboarding_v2',
      'message.sent:onboarding_v2',
    ]);
    expect(path(result.journeyEvents, 'c2')).toEqual([]);
    const welcome = result.messages.find((m) => m.customerId === 'c1');
    expect(welcome?.channel).toBe('in_app');
    expect(welcome?.content['subject']).toBe('Welcome to Acme, Ann!');
  });

  it('progresses welcome → activation by the spec progression rule', async () => {
    const result = await simulate({
      config: await exampleConfig(),
      openStore: memoryStore,
      customers: [],
      events: [
        event('customer.created', 'c1', T0, {
          properties: { type: 'paid', email: 'c1@example.com' },
        }),
        event('login.first', 'c1', T0 + DAY),
        event('customer.updated', 'c1', T0 + DAY + 1000, {
          changes: { first_login: '2026-03-03T12:00:00Z', profile_complete: true },
        }),
      ],
      until: T0 + 2 * DAY,
    });
    // login.first ends the wait (no `next`: the stage goes on to the profile reminder); the profile
    // update then satisfies stage_1_complete, which advances the enrollment to activation. Both
    // e-mails fall at 07:00 in New York (the example's default zone), inside its quiet hours
    // (22:00-08:00): they are held to 08:00 and sent then.
    expect(path(result.journeyEvents, 'c1')).toEqual([
      'journey.enrolled:onboarding_v2',
      'message.sent:onboarding_v2',
      'message.deferred:onboarding_v2',
      'journey.stage_changed:onboarding_v2>activation',
      'message.deferred:onboarding_v2',
      'message.sent:onboarding_v2',
      'message.sent:onboarding_v2',
    ]);
    const sent = result.journeyEvents.filter((e) => e.type === 'message.sent').at(-1);
    expect(new Date(sent?.timestamp ?? 0).toISOString()).toBe('2026-03-03T13:00:00.000Z');
    const emails = result.messages.filter((m) => m.customerId === 'c1').map((m) => m.stepId);
    expect(emails).toEqual(['welcome_in_app', 'profile_reminder', 'activation_tips']);
  });

  it('times out a wait, sends the reminder, and exits after the second wait', async () => {
    const result = await simulate({
      config: await exampleConfig(),
      openStore: memoryStore,
      customers: [],
      events: [
        event('customer.created', 'c1', T0, {
          properties: { type: 'paid', email: 'c1@example.com' },
        }),
      ],
      until: T0 + 30 * DAY,
    });
    const messages = result.messages.map((m) => [m.stepId, (m.createdAt - T0) / DAY]);
    expect(messages).toEqual([
      ['welcome_in_app', 0],
      ['profile_reminder', 3],
    ]);
    // Waits count calendar days in the customer's zone (the example's default, America/New_York):
    // DST starts on 2026-03-08, so 3 + 7 days after 07:00 EST is 07:00 EDT, one hour less than 240 h.
    const exit = result.journeyEvents.find((e) => e.type === 'journey.exited');
    expect(exit?.timestamp).toBe(T0 + 10 * DAY - 3_600_000);
  });

  it('fires a condition trigger once on the false→true edge, not on every update', async () => {
    const result = await simulate({
      config: await exampleConfig(),
      openStore: memoryStore,
      customers: [],
      events: [
        event('customer.created', 'c1', T0, { properties: { type: 'trial', health_score: 80 } }),
        event('customer.updated', 'c1', T0 + 1000, {
          changes: { health_score: 30, days_since_login: 20 },
        }),
        event('customer.updated', 'c1', T0 + 2000, { changes: { health_score: 25 } }),
      ],
      until: T0 + DAY,
    });
    const enrolled = result.journeyEvents.filter(
      (e) => e.type === 'journey.enrolled' && e.journeyId === 'risk_mitigation',
    );
    expect(enrolled).toHaveLength(1);
    expect(enrolled[0]?.timestamp).toBe(T0 + 1000);
  });

  it("honours risk_intervention's exception: no second alert while in risk_mitigation", async () => {
    const config = await exampleConfig();
    const store = await openStore({ file: ':memory:' });
    const engine = await Engine.open({ config, store, clock: new VirtualClock(T0) });
    await engine.ingest([
      event('customer.created', 'big', T0, {
        properties: { type: 'trial', health_score: 35, arr: 20000, csm_id: 'csm-9' },
      }),
    ]);
    await engine.runUntilIdle();
    await engine.ingest([event('customer.updated', 'big', T0, { changes: { health_score: 30 } })]);
    await engine.runUntilIdle();
    const alerts = await store.listAlerts({ limit: 10 });
    expect(alerts.map((a) => [a.customerId, a.severity, a.assignee])).toEqual([
      ['big', 'high', 'csm-9'],
    ]);
    const enrollments = await store.listEnrollments({ customerId: 'big', limit: 10 });
    expect(enrollments.items.map((e) => e.journeyId)).toEqual(['risk_mitigation']);
    const decisions = await store.listDecisions({ customerId: 'big', limit: 20 });
    const skipped = decisions.flatMap((d) =>
      Array.isArray(d.explanation['skipped']) ? d.explanation['skipped'] : [],
    );
    expect(JSON.stringify(skipped)).toContain('exception');
    await engine.close();
  });

  it('is deterministic for a given seed', async () => {
    const run = async () =>
      JSON.stringify(
        (
          await simulate({
            config: await exampleConfig(),
            openStore: memoryStore,
            customers: [],
            events: Array.from({ length: 20 }, (_, i) =>
              event('customer.updated', `c${i}`, T0 + i, {
                changes: { usage_percentage: 90, health_score: 80, contract_months_remaining: 3 },
              }),
            ),
            until: T0 + 20 * DAY,
            seed: 's1',
          })
        ).journeyEvents,
      );
    expect(await run()).toBe(await run());
  });
});

describe('batch condition triggers', () => {
  const config = loadConfigFromString(
    `
triggers:
  - name: Dormant
    conditions:
      - { field: days_since_login, operator: gt, value: 30 }
    logic: AND
    evaluation: batch
    frequency: 1 day
    action: create_task
`,
    'batch.yaml',
  );

  it('fires once per false→true edge on its frequency, not on every run or update', async () => {
    const result = await simulate({
      config,
      openStore: memoryStore,
      customers: [
        { id: 'sleepy', attributes: { days_since_login: 40 } },
        { id: 'active', attributes: { days_since_login: 2 } },
      ],
      events: [
        // Still dormant the next day: no second task.
        event('customer.updated', 'sleepy', T0 + DAY + 1000, { changes: { days_since_login: 41 } }),
        // Logs in (false), then goes dormant again: fires again at the next daily run.
        event('customer.updated', 'sleepy', T0 + 2 * DAY + 1000, {
          changes: { days_since_login: 0 },
        }),
        event('customer.updated', 'sleepy', T0 + 3 * DAY + 1000, {
          changes: { days_since_login: 35 },
        }),
      ],
      start: T0,
      until: T0 + 5 * DAY,
    });
    const tasks = result.journeyEvents.filter((e) => e.type === 'task.created');
    expect(tasks.map((t) => [t.customerId, (t.timestamp - T0) / DAY])).toEqual([
      ['sleepy', 0],
      ['sleepy', 4],
    ]);
  });
});

describe('journey definitions', () => {
  it('describeJourney gives the written form, which putJourney accepts back unchanged', async () => {
    const engine = await Engine.open({
      config: await exampleConfig(),
      store: await openStore({ file: ':memory:' }),
      clock: new VirtualClock(T0),
    });
    for (const id of engine.journeyIds()) {
      const described = engine.describeJourney(id);
      expect(JSON.stringify(described.definition)).not.toContain('"ms":');
      expect(await engine.putJourney(id, described.definition)).toEqual({
        version: described.version,
        created: false,
        warnings: [],
      });
    }
    const renewal = engine.describeJourney('renewal').definition as unknown as Record<
      string,
      unknown
    >;
    expect(JSON.stringify(renewal)).toContain('"offset":"-30 days"');
    const changed = { ...renewal, name: 'Renewal (v2)' };
    expect(await engine.putJourney('renewal', changed)).toEqual({
      version: 2,
      created: true,
      warnings: [],
    });
    await engine.close();
  });
});

describe('journey test runs', () => {
  it('returns the path and the messages without sending anything', async () => {
    const result = await simulateJourney({
      config: await exampleConfig(),
      openStore: memoryStore,
      journeyId: 'renewal',
      customer: {
        id: 'acme',
        attributes: {
          timezone: 'Europe/Berlin',
          email: 'ops@acme.example',
          contract: { end_date: '2026-06-30' },
        },
      },
      start: T0,
    });
    expect(result.status).toBe('completed');
    expect(result.messages.map((m) => m.stepId)).toEqual(['renewal_reminder']);
    // 30 days before 2026-06-30 at 09:00 Berlin (CEST, UTC+2) is 2026-05-31T07:00Z.
    expect(new Date(result.messages[0]?.createdAt ?? 0).toISOString()).toBe(
      '2026-05-31T07:00:00.000Z',
    );
  });
});

describe('durable timers across a restart', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('a restarted engine fires timers that came due while it was down, once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'waymark-restart-'));
    dirs.push(dir);
    const file = join(dir, 'waymark.db');
    const config = loadConfigFromString(
      `
journeys:
  - id: nudge
    entry: { event: signed_up }
    stages:
      - id: main
        steps:
          - { id: hello, type: send, channel: in_app, content: { body: hi } }
          - { id: pause, type: wait, duration: 2 days }
          - { id: again, type: send, channel: in_app, content: { body: again } }
`,
      'nudge.yaml',
    );
    const clock = new VirtualClock(T0);
    const first = await Engine.open({ config, store: await openStore({ file }), clock });
    await first.ingest([event('signed_up', 'c1', T0)]);
    await first.runUntilIdle();
    await first.close();

    clock.advance(5 * DAY);
    const second = await Engine.open({ config, store: await openStore({ file }), clock });
    await second.runUntilIdle();
    await second.runUntilIdle();
    const messages = await second.store.listMessages({ customerId: 'c1', limit: 10 });
    expect(messages.items.map((m) => m.stepId).sort()).toEqual(['again', 'hello']);
    const completed = await second.store.listJourneyEvents({
      customerId: 'c1',
      type: 'journey.completed',
      limit: 10,
    });
    expect(completed.items).toHaveLength(1);
    await second.close();
  });
});

describe('in-app messages', () => {
  const config = loadConfigFromString(
    `
journeys:
  - id: hello
    entry: { event: signed_up }
    stages:
      - id: main
        steps:
          - { id: welcome, type: send, channel: in_app, content: { body: hi } }
          - { id: pause, type: wait, duration: 1 day }
`,
    'hello.yaml',
  );

  it('the built-in inbox is delivered in the batch that sends it, with no outbox round trip', async () => {
    const clock = new VirtualClock(T0);
    const engine = await Engine.open({ config, store: await memoryStore(), clock });
    await engine.ingest([event('signed_up', 'c1', T0)]);
    await engine.worker.runOnce();
    const [message] = (await engine.store.listMessages({ customerId: 'c1', limit: 10 })).items;
    expect(message).toMatchObject({ channel: 'in_app', status: 'delivered', sentAt: T0 });
    expect(await engine.store.claimOutbox({ now: T0, limit: 10 })).toEqual([]);
    const sent = await engine.store.listJourneyEvents({
      customerId: 'c1',
      type: 'message.sent',
      limit: 10,
    });
    expect(sent.items.map((e) => e.data)).toEqual([
      {
        message_id: message?.id,
        channel: 'in_app',
        step_id: 'welcome',
        enrollment_id: message?.enrollmentId,
        delivered: true,
      },
    ]);
    await engine.close();
  });

  it('an in-app sender of its own gets the message through the outbox', async () => {
    const clock = new VirtualClock(T0);
    const inbox = new RecordingProvider();
    const engine = await Engine.open({
      config,
      store: await memoryStore(),
      clock,
      providers: new Map([['in_app', inbox]]),
    });
    await engine.ingest([event('signed_up', 'c1', T0)]);
    await engine.runUntilIdle();
    expect(inbox.messages.map((m) => [m.customerId, m.channel])).toEqual([['c1', 'in_app']]);
    const [message] = (await engine.store.listMessages({ customerId: 'c1', limit: 10 })).items;
    expect(message?.status).toBe('sent');
    await engine.close();
  });
});

describe('retention', () => {
  it('deletes trigger executions older than defaults.retention once an hour', async () => {
    const config = loadConfigFromString(
      `
defaults:
  retention: { trigger_executions: 1 day }
triggers:
  - { name: Seen, event: ping, action: create_task }
`,
      'retention.yaml',
    );
    const clock = new VirtualClock(T0);
    const engine = await Engine.open({ config, store: await memoryStore(), clock });
    await engine.ingest([event('ping', 'c1', T0)]);
    await engine.runUntilIdle();
    clock.set(T0 + 12 * 3_600_000);
    await engine.ingest([event('ping', 'c1', clock.now())]);
    await engine.runUntilIdle();
    expect((await engine.store.listTriggerExecutions({ limit: 10 })).length).toBe(2);
    // A day and a half later the first is past retention, the second not yet.
    clock.set(T0 + 36 * 3_600_000);
    await engine.runUntilIdle();
    const left = await engine.store.listTriggerExecutions({ limit: 10 });
    expect(left.map((x) => x.executedAt)).toEqual([T0 + 12 * 3_600_000]);
    await engine.close();
  });
});

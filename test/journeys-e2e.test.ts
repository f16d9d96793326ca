import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../src/api/index.js';
import { loadConfigFromString } from '../src/config/index.js';
import { VirtualClock, type JourneyEventRecord, type Store } from '../src/core/index.js';
import { Engine, simulate } from '../src/engine/index.js';
import { openStore } from '../src/store/index.js';
import { createTestDatabase } from './support/index.js';

const database = await createTestDatabase();
if (typeof database === 'string')
  console.warn(`skipping the PostgreSQL journey tests: ${database}`);

/**
 * Every step type, exits mid-wait, re-entry, goals and versioning, end to end: through the HTTP
 * API on a real store, and through simulation.
 */
const CONFIG = `
channels:
  email: { provider: smtp }
  in_app: { provider: internal }
webhooks:
  - name: crm
    url: "http://127.0.0.1:9/hook"
    events: ["journey.completed"]
journeys:
  - id: tour
    entry: { event: signed_up, re_entry: cooldown, cooldown: 10 days }
    exit: { events: [account.closed] }
    goals:
      - { name: converted, event: plan.upgraded, window: 20 days }
    stages:
      - id: start
        steps:
          - { id: hello, type: send, channel: in_app, content: { title: "Hi", body: "Hi {{customer.first_name}}" } }
          - { id: mark, type: update_customer, set: { toured: true } }
          - id: pick
            type: branch
            branches:
              - { name: vip, conditions: { logic: AND, conditions: [{ field: plan, operator: eq, value: enterprise }] }, next: vip }
          - id: ab
            type: split
            variants: [{ name: a, weight: 1 }, { name: b, weight: 1 }]
          - { id: pause, type: wait, duration: 2 days }
          - id: listen
            type: wait_for_event
            events:
              - { event: feature.used, next: engaged }
              - { event: support.ticket_opened, next: exit }
            timeout: 3 days
            on_timeout: { next: nudge }
      - id: vip
        steps:
          - { id: vip_task, type: task, title: "Call {{customer.first_name}}", assignee: "{{customer.csm_id}}", due: 1 day }
          - { id: vip_alert, type: alert, severity: high, message: "VIP {{customer.id}} signed up" }
          - { id: vip_done, type: goto, stage: engaged }
      - id: nudge
        steps:
          - { id: nudge_mail, type: send, channel: email, content: { subject: "Need help?", body: "Reply." } }
          - { id: bye, type: exit, reason: no engagement }
      - id: engaged
        steps:
          - { id: hook, type: webhook, url: "http://127.0.0.1:9/engaged", body: { id: "{{customer.id}}" } }
          - { id: thanks, type: send, channel: email, content: { subject: "Thanks", body: "Glad you like it." } }
`;

const T0 = Date.parse('2026-03-02T12:00:00Z');
const DAY = 86_400_000;

const text = (v: unknown): string => (typeof v === 'string' ? v : '?');

function steps(events: JourneyEventRecord[], customerId: string): string[] {
  return events
    .filter((e) => e.customerId === customerId)
    .map((e) =>
      e.type === 'step.completed'
        ? `step:${text(e.data['step_id'])}`
        : e.type === 'journey.stage_changed'
          ? `stage:${text(e.data['to'])}`
          : e.type,
    );
}

/** An engine on `store` (default: in memory) with the HTTP API in front, on a virtual clock. */
async function openApi(
  yaml: string,
  clock: VirtualClock,
  store: () => Promise<Store> = () => openStore({ file: ':memory:' }),
): Promise<{ engine: Engine; app: FastifyInstance }> {
  const engine = await Engine.open({
    config: loadConfigFromString(yaml, 'journeys.yaml'),
    store: await store(),
    clock,
    callWebhook: () => Promise.resolve(),
  });
  return { engine, app: buildApi(engine) };
}

/** The bodies of a customer's messages, oldest first, through `GET /v1/messages`. */
async function messageBodies(app: FastifyInstance, customerId: string): Promise<string[]> {
  const page = await app.inject({ url: `/v1/messages?customer_id=${customerId}` });
  return page.json<{ items: { content: { body: string } }[] }>().items.map((m) => m.content.body);
}

describe('every step type in simulated time', () => {
  const ev = (
    type: string,
    customerId: string,
    at: number,
    extra: Record<string, unknown> = {},
  ) => ({
    type,
    customerId,
    occurredAt: at,
    payload: extra as Record<string, never>,
  });

  it('runs send, update_customer, branch, split, wait, wait_for_event (timeout path), exit', async () => {
    const result = await simulate({
      config: loadConfigFromString(CONFIG, 'tour.yaml'),
      openStore: () => openStore({ file: ':memory:' }),
      customers: [
        { id: 'ann', attributes: { first_name: 'Ann', plan: 'team', email: 'ann@example.com' } },
      ],
      events: [ev('signed_up', 'ann', T0)],
      until: T0 + 30 * DAY,
    });
    const path = steps(result.journeyEvents, 'ann').filter((s) => s !== 'message.sent');
    expect(path).toEqual([
      'journey.enrolled',
      'step:hello',
      'step:mark',
      'step:pick',
      'step:ab',
      'step:pause',
      'step:listen',
      'stage:nudge',
      'step:nudge_mail',
      'step:bye',
      'journey.exited',
    ]);
    expect(result.messages.map((m) => m.content['body'])).toEqual(['Hi Ann', 'Reply.']);
  });

  it('runs task, alert, goto and webhook on the VIP branch', async () => {
    const result = await simulate({
      config: loadConfigFromString(CONFIG, 'tour.yaml'),
      openStore: () => openStore({ file: ':memory:' }),
      customers: [
        { id: 'vip', attributes: { first_name: 'Vi', plan: 'enterprise', csm_id: 'csm-2' } },
      ],
      events: [ev('signed_up', 'vip', T0)],
      until: T0 + 30 * DAY,
    });
    const path = steps(result.journeyEvents, 'vip');
    expect(path).toContain('task.created');
    expect(path).toContain('alert.created');
    expect(path).toContain('stage:engaged');
    expect(path).toContain('step:hook');
    expect(path).toContain('journey.completed');
  });

  it('exits mid-wait on an exit event and never fires the cancelled timer', async () => {
    const result = await simulate({
      config: loadConfigFromString(CONFIG, 'tour.yaml'),
      openStore: () => openStore({ file: ':memory:' }),
      customers: [{ id: 'cy', attributes: { plan: 'team' } }],
      events: [ev('signed_up', 'cy', T0), ev('account.closed', 'cy', T0 + DAY)],
      until: T0 + 30 * DAY,
    });
    const path = steps(result.journeyEvents, 'cy');
    expect(path.at(-1)).toBe('journey.exited');
    expect(path).not.toContain('step:pause');
    const exited = result.journeyEvents.find((e) => e.type === 'journey.exited');
    expect(exited?.timestamp).toBe(T0 + DAY);
  });

  it('takes the event path of a wait_for_event before its timeout; reaches a goal in its window', async () => {
    const result = await simulate({
      config: loadConfigFromString(CONFIG, 'tour.yaml'),
      openStore: () => openStore({ file: ':memory:' }),
      customers: [{ id: 'dee', attributes: { plan: 'team' } }],
      events: [
        ev('signed_up', 'dee', T0),
        ev('plan.upgraded', 'dee', T0 + DAY),
        ev('feature.used', 'dee', T0 + 3 * DAY),
      ],
      until: T0 + 30 * DAY,
    });
    const goal = result.journeyEvents.find((e) => e.type === 'journey.goal_reached');
    expect(goal?.timestamp).toBe(T0 + DAY);
    expect(steps(result.journeyEvents, 'dee')).toContain('stage:engaged');
    expect(steps(result.journeyEvents, 'dee')).not.toContain('stage:nudge');
  });

  it('honours the re-entry cooldown', async () => {
    const result = await simulate({
      config: loadConfigFromString(CONFIG, 'tour.yaml'),
      openStore: () => openStore({ file: ':memory:' }),
      customers: [{ id: 'eve', attributes: { plan: 'team' } }],
      events: [
        ev('signed_up', 'eve', T0),
        ev('support.ticket_opened', 'eve', T0 + 3 * DAY), // exits at day 3
        ev('signed_up', 'eve', T0 + 5 * DAY), // within the 10-day cooldown: refused
        ev('signed_up', 'eve', T0 + 14 * DAY), // after it: enrolled again
      ],
      until: T0 + 15 * DAY,
    });
    const enrolled = result.journeyEvents.filter(
      (e) => e.customerId === 'eve' && e.type === 'journey.enrolled',
    );
    expect(enrolled.map((e) => (e.timestamp - T0) / DAY)).toEqual([0, 14]);
  });
});

describe('through the HTTP API', () => {
  let app: FastifyInstance;
  let engine: Engine;
  const clock = new VirtualClock(T0);

  beforeAll(async () => {
    ({ engine, app } = await openApi(CONFIG, clock));
  });
  afterAll(async () => {
    await app.close();
    await engine.close();
  });

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, payload: payload as object, headers });

  it('enrolls through events, reports idempotent re-posts, exits mid-wait, and versions the journey', async () => {
    const signup = { type: 'signed_up', customer_id: 'zed', properties: { plan: 'team' } };
    const first = await post('/v1/events', signup, { 'idempotency-key': 'zed-1' });
    expect(first.statusCode).toBe(202);
    const again = await post('/v1/events', signup, { 'idempotency-key': 'zed-1' });
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 1 });
    await engine.runUntilIdle();

    const status = await app.inject({ url: '/v1/journeys/tour/customers/zed/status' });
    expect(status.json()).toMatchObject({
      status: 'active',
      enrollment: { stage: 'start', step_id: 'pause' },
    });

    // A new version: zed stays on version 1, a new customer gets version 2.
    const definition = (await app.inject({ url: '/v1/journeys/tour' })).json<{
      definition: Record<string, unknown>;
    }>();
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/journeys/tour',
      payload: { ...definition.definition, name: 'Tour v2' },
    });
    expect(put.json()).toEqual({ version: 2, created: true, warnings: [] });
    await post('/v1/events', { ...signup, customer_id: 'amy' });
    await engine.runUntilIdle();
    const amy = (await app.inject({ url: '/v1/journeys/tour/customers/amy/status' })).json<{
      enrollment: { journey_version: number };
    }>();
    expect(amy.enrollment.journey_version).toBe(2);

    // Exit mid-wait through the API, then the wait's timer comes due and nothing happens.
    const removed = await app.inject({ method: 'DELETE', url: '/v1/journeys/tour/customers/zed' });
    expect(removed.json()).toMatchObject({ status: 'exited', journey_version: 1 });
    clock.advance(3 * DAY);
    await engine.runUntilIdle();
    const timeline = (await app.inject({ url: '/v1/customers/zed/timeline' })).json<{
      entries: { kind: string; journey_event?: { type: string } }[];
    }>();
    const types = timeline.entries
      .filter((e) => e.kind === 'journey_event')
      .map((e) => e.journey_event?.type);
    expect(types.filter((t) => t === 'journey.exited')).toHaveLength(1);
    expect(types).not.toContain('journey.stage_changed');
  });
});

/**
 * The event that enrolled a customer, read by the journey's steps: through HTTP, on a database
 * file, across a restart while the customer waits. One journey enrolls by `entry.event`, the other
 * by a rule's `enroll_journey` on the same event.
 */
describe('the enrolling event in journey steps, through HTTP and a restart', () => {
  const ENTRY_CONFIG = `
channels:
  in_app: { provider: internal }
rules:
  - id: big_orders
    name: 'Big orders get a call'
    priority: 1
    conditions:
      logic: AND
      conditions:
        - { field: event.type, operator: eq, value: order.placed }
        - { field: event.properties.total, operator: gt, value: 100 }
    actions:
      - { type: enroll_journey, params: { journey_id: big_order_call } }
journeys:
  - id: order_follow_up
    entry: { event: order.placed, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: thanks, type: send, channel: in_app, content: { body: "Thanks for order {{ event.properties.order_id }}" } }
          - { id: later, type: wait, duration: 2 days }
          - { id: review, type: send, channel: in_app, content: { body: "How was order {{ journey.entry_event.properties.order_id }}? {{ event.type | default: 'no event' }}" } }
  - id: big_order_call
    entry:
      conditions: { logic: AND, conditions: [{ field: event.properties.total, operator: gt, value: 200 }] }
    stages:
      - id: s
        steps:
          - { id: call, type: task, title: "Call about {{ event.properties.order_id }} ({{ event.properties.total }})", due: 1 day }
`;

  /** Runs the scenario on a store that `openStore(n)` opens for the n-th time (1, then 2 after the restart). */
  async function scenario(openStoreFor: (n: number) => Promise<Store>): Promise<void> {
    const clock = new VirtualClock(T0);
    let opened = 0;
    const open = () => openApi(ENTRY_CONFIG, clock, () => openStoreFor(++opened));
    let { engine, app } = await open();
    try {
      const posted = await app.inject({
        method: 'POST',
        url: '/v1/events',
        payload: {
          events: [
            {
              type: 'order.placed',
              customer_id: 'ola',
              properties: { order_id: 'A-1', total: 250 },
            },
            {
              type: 'order.placed',
              customer_id: 'bo',
              properties: { order_id: 'B-7', total: 150 },
            },
          ],
        },
      });
      expect(posted.statusCode).toBe(202);
      await engine.runUntilIdle();
      await app.close();
      await engine.close();

      // Restarted while both wait; the wait ends after the restart.
      ({ engine, app } = await open());
      clock.advance(2 * DAY);
      await engine.runUntilIdle();
      expect(await messageBodies(app, 'ola')).toEqual([
        'Thanks for order A-1',
        'How was order A-1? no event',
      ]);
      expect(await messageBodies(app, 'bo')).toEqual([
        'Thanks for order B-7',
        'How was order B-7? no event',
      ]);
      // The rule enrolled with the event: its entry conditions and the task's title read it.
      const tasks = (await app.inject({ url: '/v1/tasks' })).json<{
        items: { customer_id: string; title: string }[];
      }>();
      expect(tasks.items.map((t) => [t.customer_id, t.title])).toEqual([
        ['ola', 'Call about A-1 (250)'],
      ]);
      const enrolled = (
        await app.inject({ url: '/v1/enrollments?journey_id=big_order_call' })
      ).json<{ items: { customer_id: string }[] }>();
      expect(enrolled.items.map((e) => e.customer_id)).toEqual(['ola']);
    } finally {
      await app.close();
      await engine.close();
    }
  }

  it('first steps read it as event, later ones as journey.entry_event (SQLite file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waymark-entry-event-'));
    try {
      await scenario(() => openStore({ file: join(dir, 'waymark.sqlite') }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(typeof database === 'string')(
    'first steps read it as event, later ones as journey.entry_event (PostgreSQL)',
    async () => {
      if (typeof database === 'string') return;
      await scenario(async (n) => {
        const store = n === 1 ? database.openStore() : database.reopenStore('store_1');
        await store.migrate();
        return store;
      });
    },
  );

  afterAll(async () => {
    if (typeof database !== 'string') await database.drop();
  });
});

describe('entry properties through the API', () => {
  const CONFIG_WITH_PROPERTIES = `
channels:
  in_app: { provider: internal }
journeys:
  - id: invite
    stages:
      - id: s
        steps:
          - { id: hello, type: send, channel: in_app, content: { body: "Invited by {{ event.properties.inviter | default: 'nobody' }}" } }
          - { id: later, type: wait, duration: 1 day }
          - { id: remind, type: send, channel: in_app, content: { body: "{{ journey.entry_event.properties.inviter | default: 'Nobody' }} is waiting" } }
  - id: orders
    entry: { event: order.placed, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: note, type: send, channel: in_app, content: { body: "{{ event.type }} {{ event.properties.order_id }}" } }
`;
  let app: FastifyInstance;
  let engine: Engine;
  const clock = new VirtualClock(T0);
  beforeAll(async () => {
    ({ engine, app } = await openApi(CONFIG_WITH_PROPERTIES, clock));
  });
  afterAll(async () => {
    await app.close();
    await engine.close();
  });
  const bodies = (customer: string) => messageBodies(app, customer);

  it('POST /enroll and POST /test take entry_properties; without them the steps read none', async () => {
    const enrolled = await app.inject({
      method: 'POST',
      url: '/v1/journeys/invite/enroll',
      payload: { customer_id: 'kim', entry_properties: { inviter: 'Lee' } },
    });
    expect(enrolled.statusCode).toBe(201);
    const plain = await app.inject({
      method: 'POST',
      url: '/v1/journeys/invite/enroll',
      payload: { customer_id: 'max' },
    });
    expect(plain.statusCode).toBe(201);
    clock.advance(DAY);
    await engine.runUntilIdle();
    expect(await bodies('kim')).toEqual(['Invited by Lee', 'Lee is waiting']);
    expect(await bodies('max')).toEqual(['Invited by nobody', 'Nobody is waiting']);

    const tested = await app.inject({
      method: 'POST',
      url: '/v1/journeys/invite/test',
      payload: { entry_properties: { inviter: 'Sam' } },
    });
    expect(tested.statusCode).toBe(200);
    expect(
      tested
        .json<{ messages: { content: { body: string } }[] }>()
        .messages.map((m) => m.content.body),
    ).toEqual(['Invited by Sam', 'Sam is waiting']);
  });

  it("a journey test enters with the journey's own entry event type; an API enrollment with waymark.enroll", async () => {
    const tested = await app.inject({
      method: 'POST',
      url: '/v1/journeys/orders/test',
      payload: { entry_properties: { order_id: 'A-1' } },
    });
    expect(
      tested
        .json<{ messages: { content: { body: string } }[] }>()
        .messages.map((m) => m.content.body),
    ).toEqual(['order.placed A-1']);
    const enrolled = await app.inject({
      method: 'POST',
      url: '/v1/journeys/orders/enroll',
      payload: { customer_id: 'ola', entry_properties: { order_id: 'B-2' } },
    });
    expect(enrolled.statusCode).toBe(201);
    expect(await bodies('ola')).toEqual(['waymark.enroll B-2']);
  });

  it('answers entry_properties that are not an object with a located 400', async () => {
    for (const [url, payload] of [
      ['/v1/journeys/invite/enroll', { customer_id: 'zoe', entry_properties: 'Lee' }],
      ['/v1/journeys/invite/enroll', { customer_id: 'zoe', entry_properties: ['Lee'] }],
      ['/v1/journeys/invite/test', { entry_properties: 3 }],
      // Stored like an event's properties: NUL is refused on every backend (PostgreSQL cannot keep it).
      [
        '/v1/journeys/invite/enroll',
        { customer_id: 'zoe', entry_properties: { a: { b: 'x\u0000' } } },
      ],
      ['/v1/journeys/invite/test', { entry_properties: { 'k\u0000': 1 } }],
    ] as const) {
      const r = await app.inject({ method: 'POST', url, payload });
      expect(r.statusCode).toBe(400);
      expect(r.json()).toMatchObject({ error: { code: 'INVALID_INPUT' } });
      expect(JSON.stringify(r.json())).toContain('entry_properties');
    }
    expect(await bodies('zoe')).toEqual([]);
  });
});

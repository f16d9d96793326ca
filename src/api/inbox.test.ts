import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import { emptyWorkResult, sequentialIds, VirtualClock, type MessageRecord } from '../core/index.js';
import { Engine } from '../engine/index.js';
import { openStore } from '../store/index.js';
import { buildApi } from './index.js';
import { DEFAULT_PRIORITY_LEVELS, inboxChannels, priorityLevel } from './routes/inbox.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Two in-app channels (the built-in name with persistence and levels, and a second one without
 * persistence), an e-mail channel, and a journey that sends on all three, opens a CSM task, and
 * an hour later sends one more in-app message.
 */
const CONFIG = `
channels:
  in_app:
    provider: internal
    persistence: 7 days
    priority_levels: [urgent, normal, low]
  banner:
    type: in_app
    priority_levels: [high, low]
  email:
    provider: internal
journeys:
  - id: onboarding
    entry:
      event: customer.created
    stages:
      - id: welcome
        steps:
          - { id: hello, type: send, channel: in_app, priority: high, content: { title: "Welcome", body: "Hi there", url: "https://example.com/start" } }
          - { id: promo, type: send, channel: banner, priority: low, content: { body: "50% off" } }
          - { id: mail, type: send, channel: email, content: { subject: "Hello", body: "Mail body" } }
          - { id: call, type: task, title: "Call {{ customer.name }}", assignee: csm-1, due: 2 days }
          - { id: beat, type: wait, duration: 1 hour }
          - { id: tip, type: send, channel: in_app, content: { title: "Tip", body: "Try reports" } }
          - { id: linger, type: wait, duration: 30 days }
`;

interface Harness {
  app: FastifyInstance;
  engine: Engine;
  clock: VirtualClock;
}

let dir: string;
let h: Harness;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waymark-inbox-'));
  const clock = new VirtualClock(T0);
  const engine = await Engine.open({
    config: loadConfigFromString(CONFIG),
    store: await openStore({ dataDir: dir }),
    clock,
    ids: sequentialIds(),
  });
  h = { app: buildApi(engine), engine, clock };
});

afterEach(async () => {
  await h.app.close();
  await h.engine.close();
  await rm(dir, { recursive: true, force: true });
});

/** Creates a customer (enrolling them) and runs the journey's first hour. */
async function onboard(id: string): Promise<void> {
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/events',
    payload: {
      type: 'customer.created',
      customer_id: id,
      properties: { name: 'Ann', email: `${id}@example.com` },
    },
  });
  expect(res.statusCode).toBe(202);
  await h.engine.runUntilIdle();
  h.clock.advance(HOUR);
  await h.engine.runUntilIdle();
}

/** The customer's stored messages by step id. */
async function messagesOf(customerId: string): Promise<Record<string, MessageRecord>> {
  const page = await h.engine.store.listMessages({ customerId, limit: 100 });
  return Object.fromEntries(page.items.map((m) => [m.stepId ?? m.id, m]));
}

/**
 * Stores a message as it stands, through a claimed batch (the store's only way in), for states and
 * content a journey cannot produce. Call it with no other work pending.
 */
async function storeMessage(message: MessageRecord): Promise<void> {
  const store = h.engine.store;
  const now = h.clock.now();
  await store.appendEvents(
    [{ type: 'test.placeholder', customerId: message.customerId, occurredAt: now, payload: {} }],
    now,
  );
  const batch = await store.claimWork({
    now,
    maxEvents: 10,
    maxTimers: 0,
    workerId: 'test',
    leaseMs: 60_000,
  });
  if (batch === null) throw new Error('nothing claimed');
  await store.commitWork(batch, {
    ...emptyWorkResult(),
    processedEventSeqs: batch.customers.flatMap((c) => c.events.map((e) => e.seq)),
    messages: [message],
  });
}

function rawMessage(overrides: Partial<MessageRecord>): MessageRecord {
  const now = h.clock.now();
  return {
    id: 'msg_raw',
    customerId: 'c1',
    journeyId: null,
    enrollmentId: null,
    stepId: null,
    channel: 'in_app',
    priority: 'normal',
    status: 'delivered',
    content: { body: 'raw' },
    idempotencyKey: `raw:${overrides.id ?? 'msg_raw'}`,
    createdAt: now,
    sentAt: now,
    updatedAt: now,
    error: null,
    ...overrides,
  };
}

const inbox = (customerId: string, query = '') =>
  h.app.inject(`/v1/customers/${encodeURIComponent(customerId)}/inbox${query}`);

const markRead = (customerId: string, messageId: string) =>
  h.app.inject({
    method: 'POST',
    url: `/v1/customers/${encodeURIComponent(customerId)}/inbox/${encodeURIComponent(messageId)}/read`,
  });

describe('GET /v1/customers/:customer_id/inbox', () => {
  it('lists the in-app messages of every in-app channel, newest first, without e-mail', async () => {
    await onboard('c1');
    const m = await messagesOf('c1');
    const res = await inbox('c1');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.next_cursor).toBeNull();
    expect(body.unread_count).toBe(3);
    expect(body.unread_count_capped).toBe(false);
    // The tip came an hour later; hello and promo share an instant.
    expect(body.items.map((i: { id: string }) => i.id)[0]).toBe(m['tip']?.id);
    expect(body.items.map((i: { id: string }) => i.id).sort()).toEqual(
      [m['hello']?.id, m['promo']?.id, m['tip']?.id].sort(),
    );
    const hello = body.items.find((i: { id: string }) => i.id === m['hello']?.id);
    expect(hello).toEqual({
      id: m['hello']?.id,
      channel: 'in_app',
      journey_id: 'onboarding',
      priority: 'high',
      priority_level: 'urgent',
      title: 'Welcome',
      body: 'Hi there',
      url: 'https://example.com/start',
      data: {},
      created_at: '2026-03-02T12:00:00.000Z',
      read_at: null,
      expires_at: '2026-03-09T12:00:00.000Z',
    });
    const promo = body.items.find((i: { id: string }) => i.id === m['promo']?.id);
    expect(promo).toMatchObject({ channel: 'banner', priority_level: 'low', expires_at: null });
    // The e-mail went out too, but is not an inbox message.
    expect(m['mail']?.channel).toBe('email');
  });

  it('pages with a cursor and counts unread on the first page only', async () => {
    await onboard('c1');
    const first = await inbox('c1', '?limit=2');
    expect(first.json().items).toHaveLength(2);
    expect(first.json().unread_count).toBe(3);
    const cursor = first.json().next_cursor as string;
    expect(cursor).toEqual(expect.any(String));
    const second = await inbox('c1', `?limit=2&cursor=${encodeURIComponent(cursor)}`);
    expect(second.statusCode).toBe(200);
    expect(second.json().items).toHaveLength(1);
    expect(second.json().next_cursor).toBeNull();
    expect(second.json().unread_count).toBeNull();
    const ids = [...first.json().items, ...second.json().items].map((i: { id: string }) => i.id);
    expect(new Set(ids).size).toBe(3);
  });

  it('answers an empty inbox for a customer it never heard of', async () => {
    const res = await inbox('nobody');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      items: [],
      next_cursor: null,
      unread_count: 0,
      unread_count_capped: false,
    });
  });

  it("does not show another customer's messages", async () => {
    await onboard('c1');
    await onboard('c2');
    const c1 = Object.values(await messagesOf('c1')).map((m) => m.id);
    const listed = (await inbox('c2')).json().items.map((i: { id: string }) => i.id);
    expect(listed).toHaveLength(3);
    for (const id of listed) expect(c1).not.toContain(id);
  });

  it("drops messages past their channel's persistence", async () => {
    await onboard('c1');
    const m = await messagesOf('c1');
    expect(m['hello']?.expiresAt).toBe(T0 + 7 * DAY);
    // Just before: still there.
    h.clock.set(T0 + 7 * DAY - 1);
    expect((await inbox('c1')).json().items).toHaveLength(3);
    // Hello expires at T0 + 7 days, the tip an hour later; the banner has no persistence.
    h.clock.set(T0 + 7 * DAY);
    const listed = (await inbox('c1')).json();
    expect(listed.items.map((i: { id: string }) => i.id).sort()).toEqual(
      [m['promo']?.id, m['tip']?.id].sort(),
    );
    expect(listed.unread_count).toBe(2);
    h.clock.set(T0 + 30 * DAY);
    expect((await inbox('c1')).json().items.map((i: { id: string }) => i.id)).toEqual([
      m['promo']?.id,
    ]);
  });

  it("shows a message's own priority_level when its channel lists it, else maps its priority", async () => {
    await storeMessage(
      rawMessage({
        id: 'msg_own',
        channel: 'banner',
        priority: 'low',
        content: { title: 'Sale', body: 'Now', priority_level: 'high', data: { sku: 'A1' } },
      }),
    );
    h.clock.advance(1000);
    await storeMessage(
      rawMessage({
        id: 'msg_unlisted',
        priority: 'critical',
        content: { subject: 'Outage', body: 'Down', priority_level: 'purple', data: [1] },
      }),
    );
    const items = (await inbox('c1')).json().items as Record<string, unknown>[];
    expect(items).toMatchObject([
      // Not a level of in_app: mapped from critical instead; an e-mail-style subject is the title.
      { id: 'msg_unlisted', priority_level: 'urgent', title: 'Outage', data: {} },
      { id: 'msg_own', priority_level: 'high', title: 'Sale', data: { sku: 'A1' } },
    ]);
  });

  it('leaves out messages that never reached the inbox', async () => {
    await storeMessage(rawMessage({ id: 'msg_deferred', status: 'deferred', sentAt: null }));
    expect((await inbox('c1')).json().items).toEqual([]);
    const read = await markRead('c1', 'msg_deferred');
    expect(read.statusCode).toBe(404);
    expect(read.json().error.code).toBe('NOT_FOUND');
  });

  it.each([
    ['a blank customer id', '/v1/customers/%20/inbox'],
    ['a customer id over 256 characters', `/v1/customers/${'x'.repeat(257)}/inbox`],
    ['unread not true or false', '/v1/customers/c1/inbox?unread=yes'],
    ['a zero limit', '/v1/customers/c1/inbox?limit=0'],
    ['a limit over 1,000', '/v1/customers/c1/inbox?limit=1001'],
    ['an unknown query parameter', '/v1/customers/c1/inbox?unreadOnly=true'],
  ])('answers 400 INVALID_INPUT for %s', async (_what, url) => {
    const res = await h.app.inject(url);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_INPUT');
  });

  it('answers 400 INVALID_CURSOR for a cursor it did not issue', async () => {
    const res = await inbox('c1', '?cursor=not-a-cursor');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_CURSOR');
  });
});

describe('POST /v1/customers/:customer_id/inbox/:message_id/read', () => {
  it('records the read; the engine stamps read_at and emits message.engaged', async () => {
    await onboard('c1');
    const hello = (await messagesOf('c1'))['hello'];
    if (hello === undefined) throw new Error('no hello message');
    const readAt = h.clock.now();

    const res = await markRead('c1', hello.id);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ message_id: hello.id, status: 'accepted' });

    await h.engine.runUntilIdle();
    const stored = await h.engine.store.getMessage(hello.id);
    expect(stored?.readAt).toBe(readAt);
    expect(stored?.engagedAt).toBe(readAt);

    const all = (await inbox('c1')).json();
    expect(all.unread_count).toBe(2);
    expect(all.items.find((i: { id: string }) => i.id === hello.id)?.read_at).toBe(
      new Date(readAt).toISOString(),
    );
    const unread = (await inbox('c1', '?unread=true')).json();
    expect(unread.items.map((i: { id: string }) => i.id)).not.toContain(hello.id);
    expect(unread.items).toHaveLength(2);

    const engaged = await h.engine.store.listJourneyEvents({
      customerId: 'c1',
      type: 'message.engaged',
      limit: 10,
    });
    expect(engaged.items).toHaveLength(1);
    expect(engaged.items[0]).toMatchObject({
      journeyId: 'onboarding',
      data: { message_id: hello.id, engagement: 'read', first: true, channel: 'in_app' },
    });
    // The message itself is also shown read in the records API.
    const records = (await h.app.inject(`/v1/messages?customer_id=c1&channel=in_app`)).json();
    expect(records.items.find((m: { id: string }) => m.id === hello.id)).toMatchObject({
      read_at: new Date(readAt).toISOString(),
      engaged_at: new Date(readAt).toISOString(),
      expires_at: new Date(T0 + 7 * DAY).toISOString(),
    });
  });

  it('is idempotent: a second read, before or after processing, is a duplicate', async () => {
    await onboard('c1');
    const tip = (await messagesOf('c1'))['tip'];
    if (tip === undefined) throw new Error('no tip message');
    expect((await markRead('c1', tip.id)).json().status).toBe('accepted');
    // Before the engine applied the first one.
    h.clock.advance(1000);
    const again = await markRead('c1', tip.id);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ message_id: tip.id, status: 'duplicate' });
    await h.engine.runUntilIdle();
    // After.
    h.clock.advance(1000);
    expect((await markRead('c1', tip.id)).json().status).toBe('duplicate');
    await h.engine.runUntilIdle();
    const engaged = await h.engine.store.listJourneyEvents({
      customerId: 'c1',
      type: 'message.engaged',
      limit: 10,
    });
    expect(engaged.items).toHaveLength(1);
  });

  it('accepts a read of a message that expired meanwhile (the customer saw it before)', async () => {
    await onboard('c1');
    const hello = (await messagesOf('c1'))['hello'];
    if (hello === undefined) throw new Error('no hello message');
    h.clock.set(T0 + 8 * DAY);
    expect((await markRead('c1', hello.id)).statusCode).toBe(202);
  });

  it("answers 404 for an unknown message, another customer's, and an e-mail", async () => {
    await onboard('c1');
    await onboard('c2');
    const c1 = await messagesOf('c1');
    const cases = [
      ['c1', 'msg_nope'],
      ['c2', c1['hello']?.id ?? ''],
      ['c1', c1['mail']?.id ?? ''],
    ] as const;
    for (const [customer, message] of cases) {
      const res = await markRead(customer, message);
      expect(res.statusCode, `${customer}/${message}`).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
    await h.engine.runUntilIdle();
    const engaged = await h.engine.store.listJourneyEvents({
      type: 'message.engaged',
      limit: 10,
    });
    expect(engaged.items).toEqual([]);
  });

  it('answers 400 for invalid ids and 405 for GET', async () => {
    expect((await markRead(' ', 'msg_1')).statusCode).toBe(400);
    expect((await markRead('c1', 'm'.repeat(257))).statusCode).toBe(400);
    const get = await h.app.inject('/v1/customers/c1/inbox/msg_1/read');
    expect(get.statusCode).toBe(405);
    expect(get.json().error.code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('tasks', () => {
  async function theTask(): Promise<string> {
    await onboard('c1');
    const list = (await h.app.inject('/v1/tasks?customer_id=c1')).json();
    expect(list.items).toHaveLength(1);
    return list.items[0].id as string;
  }

  it('answers a task by id', async () => {
    const id = await theTask();
    const res = await h.app.inject(`/v1/tasks/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id,
      customer_id: 'c1',
      journey_id: 'onboarding',
      title: 'Call Ann',
      assignee: 'csm-1',
      due_at: new Date(T0 + 2 * DAY).toISOString(),
      status: 'open',
      completed_at: null,
      completed_by: null,
    });
  });

  it('completes an open task once; a second close is 409 TASK_NOT_OPEN', async () => {
    const id = await theTask();
    h.clock.advance(HOUR);
    const done = await h.app.inject({
      method: 'POST',
      url: `/v1/tasks/${id}/complete`,
      payload: { by: 'csm-1', note: 'Called, all good' },
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({
      id,
      status: 'done',
      completed_at: new Date(T0 + 2 * HOUR).toISOString(),
      completed_by: 'csm-1',
    });
    expect((await h.app.inject(`/v1/tasks/${id}`)).json().status).toBe('done');

    for (const verb of ['complete', 'cancel']) {
      const again = await h.app.inject({ method: 'POST', url: `/v1/tasks/${id}/${verb}` });
      expect(again.statusCode).toBe(409);
      expect(again.json().error).toMatchObject({
        code: 'TASK_NOT_OPEN',
        details: { id, status: 'done' },
      });
    }
  });

  it('cancels an open task without a body', async () => {
    const id = await theTask();
    const res = await h.app.inject({ method: 'POST', url: `/v1/tasks/${id}/cancel` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'cancelled', completed_by: null });
    const again = await h.app.inject({ method: 'POST', url: `/v1/tasks/${id}/complete` });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.details).toEqual({ id, status: 'cancelled' });
  });

  it('answers 404 for an unknown task', async () => {
    for (const req of [
      { method: 'GET' as const, url: '/v1/tasks/tsk_nope' },
      { method: 'POST' as const, url: '/v1/tasks/tsk_nope/complete' },
      { method: 'POST' as const, url: '/v1/tasks/tsk_nope/cancel' },
    ]) {
      const res = await h.app.inject(req);
      expect(res.statusCode, req.url).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
  });

  it.each([
    ['an unknown field', { by: 'x', status: 'done' }],
    ['a blank by', { by: '  ' }],
    ['a note that is not text', { note: 42 }],
    ['a note over 4,000 characters', { note: 'n'.repeat(4001) }],
    ['a body that is not an object', [1, 2]],
  ])('answers 400 INVALID_INPUT for %s and leaves the task open', async (_what, payload) => {
    const id = await theTask();
    const res = await h.app.inject({
      method: 'POST',
      url: `/v1/tasks/${id}/complete`,
      payload: payload as object,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_INPUT');
    expect((await h.app.inject(`/v1/tasks/${id}`)).json().status).toBe('open');
  });

  it('filters the task list by assignee and overdue', async () => {
    await theTask();
    const ids = (url: string) =>
      h.app
        .inject(url)
        .then((r) => r.json().items.map((t: { assignee: string }) => t.assignee) as string[]);
    expect(await ids('/v1/tasks?assignee=csm-1')).toEqual(['csm-1']);
    expect(await ids('/v1/tasks?assignee=csm-2')).toEqual([]);
    expect(await ids('/v1/tasks?overdue=true')).toEqual([]);
    h.clock.set(T0 + 2 * DAY + 1);
    expect(await ids('/v1/tasks?overdue=true')).toEqual(['csm-1']);
    expect(await ids('/v1/tasks?overdue=true&status=done')).toEqual([]);
    expect((await h.app.inject('/v1/tasks?overdue=yes')).statusCode).toBe(400);
  });
});

describe('inbox helpers', () => {
  it('maps priorities onto any list of levels', () => {
    const message = (priority: MessageRecord['priority']) =>
      ({ priority, content: {} }) as unknown as MessageRecord;
    const four = ['p1', 'p2', 'p3', 'p4'];
    expect(
      (['critical', 'high', 'normal', 'low'] as const).map((p) => priorityLevel(message(p), four)),
    ).toEqual(['p1', 'p1', 'p3', 'p4']);
    expect(priorityLevel(message('normal'), ['top', 'normal', 'x', 'y'])).toBe('normal');
    expect(priorityLevel(message('low'), ['only'])).toBe('only');
  });

  it('lists the built-in in_app channel only when no channel takes that name', () => {
    const bare = loadConfigFromString('channels:\n  inbox:\n    type: in_app\n');
    expect([...inboxChannels(bare.config).entries()]).toEqual([
      ['inbox', DEFAULT_PRIORITY_LEVELS],
      ['in_app', DEFAULT_PRIORITY_LEVELS],
    ]);
    const renamed = loadConfigFromString('channels:\n  in_app:\n    type: webhook\n');
    expect([...inboxChannels(renamed.config).keys()]).toEqual([]);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import { VirtualClock, sequentialIds } from '../core/index.js';
import { Engine } from '../engine/index.js';
import { createMetrics, type Metrics } from '../observability/index.js';
import { openStore } from '../store/index.js';
import { buildApi } from './index.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const DAY = 86_400_000;

const CONFIG = `
channels:
  in_app:
    provider: internal
journeys:
  - id: onboarding
    name: Onboarding
    entry:
      event: customer.created
    stages:
      - id: welcome
        steps:
          - { id: hello, type: send, channel: in_app, content: { title: "Welcome", body: "Hi there" } }
          - { id: pause, type: wait, duration: 2 days }
      - id: activation
        steps:
          - { id: tips, type: send, channel: in_app, content: { body: "Try the reports tab" } }
          - { id: linger, type: wait, duration: 3 days }
`;

interface Harness {
  app: FastifyInstance;
  engine: Engine;
  clock: VirtualClock;
  metrics: Metrics;
}

let dir: string;
let h: Harness;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waymark-api-'));
  const clock = new VirtualClock(T0);
  const metrics = createMetrics();
  const engine = await Engine.open({
    config: loadConfigFromString(CONFIG),
    store: await openStore({ dataDir: dir }),
    clock,
    ids: sequentialIds(),
    sinks: [metrics.sink],
  });
  h = { app: buildApi(engine, { metrics }), engine, clock, metrics };
});

afterEach(async () => {
  await h.app.close();
  await h.engine.close();
  await rm(dir, { recursive: true, force: true });
});

async function postEvent(body: unknown, headers: Record<string, string> = {}) {
  return h.app.inject({ method: 'POST', url: '/v1/events', payload: body as object, headers });
}

/** Ingests customer.created for `id` (enrolling them in onboarding) and processes it. */
async function createCustomer(id: string, attributes: Record<string, unknown> = {}) {
  const res = await postEvent({
    type: 'customer.created',
    customer_id: id,
    properties: attributes,
  });
  expect(res.statusCode).toBe(202);
  await h.engine.runUntilIdle();
}

describe('POST /v1/events', () => {
  it('accepts one event with 202 once stored, and processing enrolls the customer', async () => {
    const res = await postEvent({
      type: 'customer.created',
      customer_id: 'c1',
      timestamp: '2026-03-02T11:00:00Z',
      properties: { plan: 'pro' },
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(body.results).toEqual([{ id: expect.any(String), status: 'accepted' }]);
    // Stored, not yet processed: the answer never waits for journeys.
    expect(await h.engine.store.pendingEventCount()).toBe(1);
    await h.engine.runUntilIdle();
    expect(await h.engine.store.pendingEventCount()).toBe(0);
    const status = await h.app.inject(`/v1/journeys/onboarding/customers/c1/status`);
    expect(status.json()).toMatchObject({ status: 'active', enrollment: { stage: 'welcome' } });
  });

  it('accepts a batch and reports each event', async () => {
    const res = await postEvent({
      events: [
        { type: 'customer.created', customer_id: 'a' },
        { type: 'feature.used', customer_id: 'a', properties: { feature: 'reports' } },
        { type: 'customer.created', customer_id: 'b', idempotency_key: 'b-created' },
      ],
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 3, duplicates: 0 });
    expect(res.json().results).toHaveLength(3);
  });

  it('reports a re-post with the same Idempotency-Key as a duplicate of the same event', async () => {
    const event = { type: 'customer.created', customer_id: 'c1' };
    const first = await postEvent(event, { 'idempotency-key': 'k-1' });
    const second = await postEvent(event, { 'idempotency-key': 'k-1' });
    expect(first.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(second.statusCode).toBe(202);
    expect(second.json()).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(second.json().results[0]).toEqual({
      id: first.json().results[0].id,
      status: 'duplicate',
    });
    expect(await h.engine.store.pendingEventCount()).toBe(1);
  });

  it('reports a re-posted batch event with the same idempotency_key as a duplicate', async () => {
    const batch = {
      events: [
        { type: 'feature.used', customer_id: 'c1', idempotency_key: 'x' },
        { type: 'feature.used', customer_id: 'c1', idempotency_key: 'y' },
      ],
    };
    await postEvent(batch);
    const again = await postEvent({
      events: [...batch.events, { type: 'feature.used', customer_id: 'c1', idempotency_key: 'z' }],
    });
    expect(again.json()).toMatchObject({ accepted: 1, duplicates: 2 });
    expect(again.json().results.map((r: { status: string }) => r.status)).toEqual([
      'duplicate',
      'duplicate',
      'accepted',
    ]);
  });
});

describe('POST /v1/events limits (default settings)', () => {
  it('accepts exactly 1,000 events and refuses 1,001', async () => {
    const events = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ type: 'page.viewed', customer_id: `c${i % 50}` }));
    const full = await postEvent({ events: events(1000) });
    expect(full.statusCode).toBe(202);
    expect(full.json().accepted).toBe(1000);
    const over = await postEvent({ events: events(1001) });
    expect(over.statusCode).toBe(413);
    expect(over.json().error.code).toBe('BATCH_TOO_LARGE');
    expect(await h.engine.store.pendingEventCount()).toBe(1000);
  });

  it('refuses a 10 MB body with 413 BODY_TOO_LARGE', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: `{"type":"a","customer_id":"b","properties":{"blob":"${'x'.repeat(10 * 1024 * 1024)}"}}`,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toEqual({
      code: 'BODY_TOO_LARGE',
      message: 'the request body is too large',
      details: { limit_bytes: 5 * 1024 * 1024 },
    });
    expect((await h.app.inject('/healthz')).statusCode).toBe(200);
  });
});

describe('customers', () => {
  it('lists customers in pages with a cursor', async () => {
    for (const id of ['c1', 'c2', 'c3']) await createCustomer(id);
    const first = await h.app.inject('/v1/customers?limit=2');
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((c: { id: string }) => c.id)).toEqual(['c1', 'c2']);
    const cursor = first.json().next_cursor as string;
    expect(cursor).toEqual(expect.any(String));
    const second = await h.app.inject(`/v1/customers?limit=2&cursor=${encodeURIComponent(cursor)}`);
    expect(second.json()).toEqual({
      items: [expect.objectContaining({ id: 'c3' })],
      next_cursor: null,
    });
  });

  it('answers a customer with their profile and enrollments', async () => {
    await createCustomer('c1', { first_name: 'Ann', arr: 12000 });
    const res = await h.app.inject('/v1/customers/c1');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      customer: {
        id: 'c1',
        attributes: { first_name: 'Ann', arr: 12000 },
        created_at: '2026-03-02T12:00:00.000Z',
      },
      enrollments: [{ journey_id: 'onboarding', customer_id: 'c1', status: 'active' }],
    });
  });

  it('answers 404 for an unknown customer', async () => {
    const res = await h.app.inject('/v1/customers/nobody');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: {
        code: 'NOT_FOUND',
        message: "customer 'nobody' not found",
        details: { kind: 'customer', id: 'nobody' },
      },
    });
  });

  it('explains a customer: journey events, messages and decisions in time order', async () => {
    await createCustomer('c1');
    h.clock.advance(60_000);
    const refused = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/enroll',
      payload: { customer_id: 'c1' },
    });
    expect(refused.statusCode).toBe(409);
    const res = await h.app.inject('/v1/customers/c1/timeline');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.customer_id).toBe('c1');
    expect(body.truncated).toBe(false);
    const kinds = body.entries.map(
      (e: { kind: string; journey_event?: { type: string }; decision?: { kind: string } }) =>
        e.journey_event
          ? e.journey_event.type
          : e.decision
            ? `decision:${e.decision.kind}`
            : e.kind,
    );
    // Why did c1 get the welcome: enrolled by customer.created, the send step, then the message
    // (an input's messages pass the contact gate together at its end; the in-app inbox delivers
    // in the same batch). Why was the second enrollment refused: the decisions say
    // already_enrolled.
    expect(kinds).toEqual([
      'journey.enrolled',
      'step.completed',
      'message.sent',
      'message',
      'decision:enroll_rejected',
      'decision:api_enroll',
    ]);
    expect(body.entries[0].journey_event.data.trigger).toEqual({
      source: 'event',
      name: 'customer.created',
      event: 'customer.created',
    });
    expect(body.entries[3].message).toMatchObject({
      channel: 'in_app',
      step_id: 'hello',
      journey_id: 'onboarding',
      content: { title: 'Welcome', body: 'Hi there' },
    });
    expect(body.entries[4].decision).toMatchObject({
      subject: 'onboarding',
      explanation: { reason: 'already_enrolled' },
    });
    // The wait to come is visible too.
    expect(body.pending_timers).toEqual([
      expect.objectContaining({ kind: 'wait', due_at: new Date(T0 + 2 * DAY).toISOString() }),
    ]);
    const limited = await h.app.inject('/v1/customers/c1/timeline?limit=2');
    expect(limited.json().entries.map((e: { kind: string }) => e.kind)).toEqual([
      'decision',
      'decision',
    ]);
    expect(limited.json().truncated).toBe(true);
  });

  it('answers 404 for the timeline of a customer without any history', async () => {
    expect((await h.app.inject('/v1/customers/ghost/timeline')).statusCode).toBe(404);
  });
});

describe('records', () => {
  it('lists messages with filters', async () => {
    await createCustomer('c1');
    await createCustomer('c2');
    const all = await h.app.inject('/v1/messages');
    expect(all.statusCode).toBe(200);
    expect(all.json().items).toHaveLength(2);
    const one = await h.app.inject(
      '/v1/messages?customer_id=c2&journey_id=onboarding&channel=in_app',
    );
    expect(one.json().items).toEqual([
      expect.objectContaining({
        customer_id: 'c2',
        channel: 'in_app',
        content: expect.any(Object),
      }),
    ]);
    const none = await h.app.inject('/v1/messages?status=failed');
    expect(none.json()).toEqual({ items: [], next_cursor: null });
  });

  it('lists enrollments with filters and pages', async () => {
    for (const id of ['c1', 'c2', 'c3']) await createCustomer(id);
    const page = await h.app.inject('/v1/enrollments?journey_id=onboarding&status=active&limit=2');
    expect(page.json().items).toHaveLength(2);
    const next = await h.app.inject(
      `/v1/enrollments?journey_id=onboarding&status=active&limit=2&cursor=${page.json().next_cursor}`,
    );
    expect(next.json().items).toHaveLength(1);
    expect(next.json().next_cursor).toBeNull();
    const byCustomer = await h.app.inject('/v1/enrollments?customer_id=c3');
    expect(byCustomer.json().items).toEqual([expect.objectContaining({ customer_id: 'c3' })]);
    const completed = await h.app.inject('/v1/enrollments?status=completed');
    expect(completed.json().items).toEqual([]);
  });

  it('lists tasks and alerts (empty for this project)', async () => {
    const tasks = await h.app.inject('/v1/tasks?status=open&limit=10');
    expect(tasks.statusCode).toBe(200);
    expect(tasks.json()).toEqual({ items: [], next_cursor: null });
    const alerts = await h.app.inject('/v1/alerts');
    expect(alerts.json()).toEqual({ items: [], next_cursor: null });
  });
});

describe('journeys', () => {
  it('lists journeys with version and status', async () => {
    const res = await h.app.inject('/v1/journeys');
    expect(res.json()).toEqual({
      items: [
        {
          id: 'onboarding',
          name: 'Onboarding',
          version: 1,
          status: 'active',
          updated_at: expect.any(String),
        },
      ],
    });
  });

  it('enrolls a customer with 201, then refuses a second enrollment with 409 and the reason', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/enroll',
      payload: { customer_id: 'api-1' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      journey_id: 'onboarding',
      customer_id: 'api-1',
      status: 'active',
      stage: 'welcome',
      step_id: 'pause',
      enrolled_at: '2026-03-02T12:00:00.000Z',
    });
    const again = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/enroll',
      payload: { customer_id: 'api-1' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({
      code: 'ENROLLMENT_REJECTED',
      details: { reason: 'already_enrolled', enrollment: { id: res.json().id } },
    });
  });

  it('refuses enrollment in a paused journey, and enrolls again once resumed', async () => {
    const paused = await h.app.inject({ method: 'POST', url: '/v1/journeys/onboarding/pause' });
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toEqual({ id: 'onboarding', status: 'paused' });
    expect((await h.app.inject('/v1/journeys/onboarding')).json().status).toBe('paused');
    const refused = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/enroll',
      payload: { customer_id: 'p1' },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.details.reason).toBe('journey_paused');
    const resumed = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/resume',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(resumed.json()).toEqual({ id: 'onboarding', status: 'active' });
    const enrolled = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/enroll',
      payload: { customer_id: 'p1' },
    });
    expect(enrolled.statusCode).toBe(201);
  });

  it('answers 404 for enrollment in an unknown journey', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/nope/enroll',
      payload: { customer_id: 'c1' },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'NOT_FOUND', details: { kind: 'journey' } });
  });

  it("reports a customer's status: not enrolled, active, exited", async () => {
    const before = await h.app.inject('/v1/journeys/onboarding/customers/c1/status');
    expect(before.json()).toEqual({
      journey_id: 'onboarding',
      customer_id: 'c1',
      status: 'not_enrolled',
      enrollment: null,
      history: [],
    });
    await createCustomer('c1');
    const removed = await h.app.inject({
      method: 'DELETE',
      url: '/v1/journeys/onboarding/customers/c1?reason=churned',
    });
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toMatchObject({ status: 'exited', exit_reason: 'churned' });
    const after = await h.app.inject('/v1/journeys/onboarding/customers/c1/status');
    expect(after.json()).toMatchObject({ status: 'exited', history: [{ status: 'exited' }] });
    // Nothing left to remove.
    const again = await h.app.inject({
      method: 'DELETE',
      url: '/v1/journeys/onboarding/customers/c1',
    });
    expect(again.statusCode).toBe(404);
  });

  it('advances a customer to the next stage or a named one', async () => {
    await createCustomer('c1');
    const next = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/customers/c1/advance',
    });
    expect(next.statusCode).toBe(200);
    expect(next.json()).toMatchObject({ stage: 'activation', step_id: 'linger' });
    await createCustomer('c2');
    const named = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/customers/c2/advance',
      payload: { stage: 'activation' },
    });
    expect(named.json()).toMatchObject({ stage: 'activation' });
    const unknownStage = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/customers/c2/advance',
      payload: { stage: 'nowhere' },
    });
    expect(unknownStage.statusCode).toBe(400);
    expect(unknownStage.json().error.details).toEqual({ stages: ['welcome', 'activation'] });
  });

  it('reports journey metrics', async () => {
    await createCustomer('c1');
    await createCustomer('c2');
    await h.app.inject({ method: 'DELETE', url: '/v1/journeys/onboarding/customers/c2' });
    const res = await h.app.inject('/v1/journeys/onboarding/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      journey_id: 'onboarding',
      version: 1,
      status: 'active',
      enrollments: { active: 1, completed: 0, exited: 1, total: 2 },
      active_by_stage: { welcome: 1 },
      completion_rate: 0,
    });
  });

  it('describes a journey and replaces its definition as a new version', async () => {
    const described = await h.app.inject('/v1/journeys/onboarding');
    expect(described.statusCode).toBe(200);
    expect(described.json()).toMatchObject({
      id: 'onboarding',
      name: 'Onboarding',
      version: 1,
      status: 'active',
      definition: { id: 'onboarding', stages: [{ id: 'welcome' }, { id: 'activation' }] },
      versions: [{ version: 1, hash: expect.any(String) }],
    });
    const definition = {
      name: 'Onboarding (short)',
      stages: [
        { id: 'welcome', steps: [{ type: 'send', channel: 'in_app', content: { body: 'Hi' } }] },
      ],
    };
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/journeys/onboarding',
      payload: definition,
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({ version: 2, created: true, warnings: [] });
    const same = await h.app.inject({
      method: 'PUT',
      url: '/v1/journeys/onboarding',
      payload: definition,
    });
    expect(same.json()).toEqual({ version: 2, created: false, warnings: [] });
    const after = await h.app.inject('/v1/journeys/onboarding');
    expect(after.json()).toMatchObject({ version: 2, name: 'Onboarding (short)' });
    expect(after.json().versions).toHaveLength(2);
    // The new version runs: a send-only journey completes at once.
    const enrolled = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/enroll',
      payload: { customer_id: 'v2-customer' },
    });
    expect(enrolled.statusCode).toBe(201);
    expect(enrolled.json()).toMatchObject({ journey_version: 2, status: 'completed' });
  });

  it('answers a PUT with what validate would warn about, and stores the journey anyway', async () => {
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/journeys/review_request',
      payload: {
        stages: [
          {
            id: 'only',
            steps: [
              { type: 'wait', duration: '2 days' },
              {
                id: 'ask',
                type: 'send',
                channel: 'in_app',
                content: { body: 'How was {{ event.properties.order_id }}?' },
              },
            ],
          },
        ],
      },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({
      version: 1,
      created: true,
      warnings: [
        {
          path: 'stages.0.steps.1',
          message: expect.stringContaining("step 'ask' reads event.…") as unknown,
        },
      ],
    });
    expect((await h.app.inject('/v1/journeys/review_request')).statusCode).toBe(200);
  });

  it('creates a new journey with PUT', async () => {
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/journeys/winback',
      payload: {
        id: 'winback',
        stages: [{ id: 'only', steps: [{ type: 'wait', duration: '1 day' }] }],
      },
    });
    expect(put.json()).toEqual({ version: 1, created: true, warnings: [] });
    const list = await h.app.inject('/v1/journeys');
    expect(list.json().items.map((j: { id: string }) => j.id)).toEqual(['onboarding', 'winback']);
  });

  it('refuses an invalid definition with located problems', async () => {
    const res = await h.app.inject({
      method: 'PUT',
      url: '/v1/journeys/onboarding',
      payload: { stages: [{ id: 'welcome', steps: [{ type: 'teleport' }] }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_INPUT');
    expect(res.json().error.details.problems[0].path).toMatch(/^stages\.0\.steps\.0/u);
    const mismatch = await h.app.inject({
      method: 'PUT',
      url: '/v1/journeys/onboarding',
      payload: { id: 'other', stages: [{ id: 's', steps: [{ type: 'exit' }] }] },
    });
    expect(mismatch.statusCode).toBe(400);
    // Valid shape, but it cannot run: the journey compiler's problems, in the same shape.
    const unrunnable = await h.app.inject({
      method: 'PUT',
      url: '/v1/journeys/onboarding',
      payload: { stages: [{ id: 's', steps: [{ type: 'goto', stage: 'nowhere' }] }] },
    });
    expect(unrunnable.statusCode).toBe(400);
    expect(unrunnable.json().error).toMatchObject({
      code: 'JOURNEY_INVALID',
      details: { problems: [{ path: 'stages[0].steps[0].stage' }] },
    });
    // Nothing was stored by the refused PUTs.
    expect((await h.app.inject('/v1/journeys/onboarding')).json().version).toBe(1);
  });

  it('runs a journey test in simulated time without touching the real store', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/test',
      payload: { customer: { id: 't1', attributes: { first_name: 'Tess' } } },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.customer_id).toBe('t1');
    expect(body.status).toBe('completed');
    expect(body.messages.map((m: { step_id: string }) => m.step_id)).toEqual(['hello', 'tips']);
    const types = body.path.map((e: { type: string }) => e.type);
    expect(types[0]).toBe('journey.enrolled');
    expect(types.at(-1)).toBe('journey.completed');
    // Two days of waiting in welcome, three in activation: five simulated days.
    expect(body.ended_at).toBe(new Date(T0 + 5 * DAY).toISOString());
    expect(await h.engine.store.getCustomer('t1')).toBeNull();
    expect((await h.app.inject('/v1/messages')).json().items).toEqual([]);
  });

  it('stops a journey test at `until`', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/journeys/onboarding/test',
      payload: { start: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00Z' },
    });
    expect(res.json()).toMatchObject({ customer_id: 'test-customer', status: 'active' });
    expect(res.json().messages).toHaveLength(1);
  });
});

describe('system routes', () => {
  it('answers /healthz while the store is reachable, 503 once it is not', async () => {
    const ok = await h.app.inject('/healthz');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok', providers: [], sources: [], models: [] });
    await h.engine.store.close();
    const down = await h.app.inject('/healthz');
    expect(down.statusCode).toBe(503);
    expect(down.json().error.code).toBe('STORE_UNAVAILABLE');
    expect(down.headers['retry-after']).toBe('1');
  });

  it('exposes Prometheus metrics counted from committed journey events', async () => {
    await createCustomer('c1');
    await postEvent({ type: 'nope' });
    const res = await h.app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/u);
    const text = res.body;
    expect(text).toContain('journey_enrollments_total{journey_id="onboarding"} 1');
    expect(text).toContain(
      'journey_step_completions_total{journey_id="onboarding",step_type="send"} 1',
    );
    expect(text).toContain('events_ingested_total{result="accepted"} 1');
    expect(text).toContain('events_ingested_total{result="rejected"} 1');
    expect(text).toContain('journey_active_enrollments{journey_id="onboarding",stage="welcome"} 1');
    expect(text).toContain('queue_depth 0');
    expect(text).toContain('http_requests_total{route="/v1/events",status="202"} 1');
    expect(text).toContain('http_requests_total{route="/v1/events",status="400"} 1');
    expect(text).toMatch(/http_request_duration_seconds_count\{route="\/v1\/events"\} 2/u);
  });

  it('counts unknown URLs under one route label', async () => {
    await h.app.inject('/no/such/thing');
    await h.app.inject('/another/unknown');
    const text = (await h.app.inject('/metrics')).body;
    expect(text).toContain('http_requests_total{route="unmatched",status="404"} 2');
  });
});

describe('GET /openapi.json', () => {
  /** Every route the API must have (the guide's JourneyAPI under /v1, and more). */
  const REQUIRED = [
    'POST /v1/events',
    'GET /v1/customers',
    'GET /v1/customers/{id}',
    'GET /v1/customers/{id}/timeline',
    'GET /v1/messages',
    'GET /v1/enrollments',
    'GET /v1/tasks',
    'GET /v1/alerts',
    'GET /v1/journeys',
    'POST /v1/journeys/{id}/enroll',
    'DELETE /v1/journeys/{id}/customers/{customer_id}',
    'GET /v1/journeys/{id}/customers/{customer_id}/status',
    'GET /v1/journeys/{id}/metrics',
    'POST /v1/journeys/{id}/pause',
    'POST /v1/journeys/{id}/resume',
    'POST /v1/journeys/{id}/customers/{customer_id}/advance',
    'GET /v1/journeys/{id}',
    'PUT /v1/journeys/{id}',
    'POST /v1/journeys/{id}/test',
    'GET /openapi.json',
    'GET /healthz',
    'GET /metrics',
  ];

  async function documentedRoutes(): Promise<{ doc: Record<string, unknown>; routes: string[] }> {
    const res = await h.app.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    const routes: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
      for (const method of Object.keys(item)) routes.push(`${method.toUpperCase()} ${path}`);
    }
    return { doc, routes };
  }

  it('documents exactly the registered routes', async () => {
    const app = buildApi(h.engine);
    const registered: string[] = [];
    // Routes are added when the app loads, so a hook added now sees every one of them.
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (method === 'HEAD') continue; // fastify's automatic HEAD for every GET
        registered.push(`${method} ${route.url.replace(/:(\w+)/gu, '{$1}')}`);
      }
    });
    await app.ready();
    await app.close();
    const { routes } = await documentedRoutes();
    expect(registered.length).toBeGreaterThanOrEqual(REQUIRED.length);
    expect([...routes].sort()).toEqual([...registered].sort());
    expect(routes).toEqual(expect.arrayContaining(REQUIRED));
  });

  it('is an OpenAPI 3.1 document whose references all resolve', async () => {
    const { doc } = await documentedRoutes();
    expect(doc['openapi']).toBe('3.1.0');
    const schemas = (doc['components'] as { schemas: Record<string, unknown> }).schemas;
    const refs = new Set<string>();
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (typeof value === 'object' && value !== null) {
        for (const [key, v] of Object.entries(value)) {
          if (key === '$ref' && typeof v === 'string') refs.add(v);
          else walk(v);
        }
      }
    };
    walk(doc);
    expect(refs.size).toBeGreaterThan(10);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\/[\w.-]+$/u);
      expect(schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
    }
    const enroll = (doc['paths'] as Record<string, Record<string, Record<string, unknown>>>)[
      '/v1/journeys/{id}/enroll'
    ]!['post']!;
    expect(Object.keys(enroll['responses'] as object)).toEqual(
      expect.arrayContaining(['201', '400', '404', '409', '500']),
    );
    expect(enroll['parameters']).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
    ]);
  });
});

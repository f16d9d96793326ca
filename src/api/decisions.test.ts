/**
 * The decision engine through HTTP: `POST /v1/decisions/next-best-action` (the spec's
 * NBActionRequest → NBActionResponse), live prediction scores, and the model registry — against a
 * real engine on a real SQLite store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import {
  emptyWorkResult,
  sequentialIds,
  VirtualClock,
  type JsonObject,
  type MessageRecord,
} from '../core/index.js';
import { parseTable, trainChurn, trainNba } from '../decisions/index.js';
import { Engine } from '../engine/index.js';
import { openStore } from '../store/index.js';
import type { z } from 'zod';
import { buildApi } from './index.js';
import type { nextBestActionSchema } from './representations.js';

/** Monday 2 March 2026, 10:00 UTC. */
const T0 = Date.parse('2026-03-02T10:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const CONFIG = `
channels:
  email: { provider: internal }
  sms: { provider: internal, silent_hours: "21:00-09:00" }
defaults:
  business_hours: { hours: "09:00-17:00", days: [mon, tue, wed, thu, fri] }
predictions:
  churn_risk: { model: churn_predictor_v2, threshold: 0.7, action: escalate_to_csm }
next_best_action:
  actions:
    checkin_email:
      channel: email
      value: 1
      prior: 0.1
      params: { template: checkin }
    renewal_sms:
      channel: sms
      value: 1.2
      prior: 0.08
    csm_call:
      value: 5
      prior: 0.02
      params: { task: "Call about renewal" }
      conditions: [{ field: customer.arr, operator: gte, value: 50000 }]
    expansion_offer:
      channel: email
      value: 3
      prior: 0.05
      params: { journey_id: expansion }
  constraints:
    max_daily_touches: 2
`;

interface Harness {
  app: FastifyInstance;
  engine: Engine;
  clock: VirtualClock;
}

let dir: string;
let h: Harness;

async function open(config = CONFIG): Promise<Harness> {
  const clock = new VirtualClock(T0);
  const engine = await Engine.open({
    config: loadConfigFromString(config),
    store: await openStore({ dataDir: dir }),
    clock,
    ids: sequentialIds(),
  });
  return { app: buildApi(engine), engine, clock };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waymark-nba-'));
  h = await open();
});

afterEach(async () => {
  await h.app.close();
  await h.engine.close();
  await rm(dir, { recursive: true, force: true });
});

async function upsert(id: string, properties: JsonObject): Promise<void> {
  await h.engine.ingest([
    {
      type: 'customer.created',
      customerId: id,
      occurredAt: h.clock.now(),
      payload: { properties },
    },
  ]);
  await h.engine.runUntilIdle();
}

/** Stores past messages as they stand, through a claimed batch (the store's only way in). */
async function storeMessages(messages: MessageRecord[]): Promise<void> {
  const store = h.engine.store;
  const now = h.clock.now();
  await store.appendEvents(
    [
      {
        type: 'test.placeholder',
        customerId: messages[0]?.customerId ?? 'x',
        occurredAt: now,
        payload: {},
      },
    ],
    now,
  );
  const batch = await store.claimWork({
    now,
    maxEvents: 10,
    maxTimers: 0,
    workerId: 't',
    leaseMs: 60_000,
  });
  if (batch === null) throw new Error('nothing claimed');
  await store.commitWork(batch, {
    ...emptyWorkResult(),
    processedEventSeqs: batch.customers.flatMap((c) => c.events.map((e) => e.seq)),
    messages,
  });
}

function sent(id: string, customerId: string, channel: string, at: number): MessageRecord {
  return {
    id,
    customerId,
    journeyId: null,
    enrollmentId: null,
    stepId: null,
    channel,
    priority: 'normal',
    status: 'delivered',
    content: { body: 'hello' },
    idempotencyKey: id,
    createdAt: at,
    sentAt: at,
    sendAt: at,
    updatedAt: at,
    error: null,
  };
}

/** A 200 answer, or the error body of a 4xx (tests read whichever the status says). */
type NbaAnswer = z.output<typeof nextBestActionSchema> & {
  error: { code: string; details: unknown };
};

async function nba(body: unknown): Promise<{ status: number; json: NbaAnswer }> {
  const response = await h.app.inject({
    method: 'POST',
    url: '/v1/decisions/next-best-action',
    payload: body as JsonObject,
  });
  return { status: response.statusCode, json: response.json<NbaAnswer>() };
}

describe('POST /v1/decisions/next-best-action', () => {
  it('ranks by expected value from engagement, explains it, and logs every propensity', async () => {
    await upsert('acme', {
      email: 'ops@acme.test',
      phone: '+15550100',
      arr: 20000,
      timezone: 'UTC',
    });
    // E-mail: opened 4 of the last 5 (opens reported through the feedback API). SMS: ignored 3 of 3.
    await storeMessages([
      ...[1, 2, 3, 4, 5].map((i) => sent(`e${i}`, 'acme', 'email', T0 - i * 2 * DAY)),
      ...[1, 2, 3].map((i) => sent(`s${i}`, 'acme', 'sms', T0 - i * 3 * DAY)),
    ]);
    const opens = await h.app.inject({
      method: 'POST',
      url: '/v1/feedback',
      payload: { events: [1, 2, 3, 4].map((i) => ({ message_id: `e${i}`, type: 'opened' })) },
    });
    expect(opens.statusCode).toBeLessThan(300);
    await h.engine.runUntilIdle();
    const { status, json } = await nba({
      customer_id: 'acme',
      context: {
        recent_interactions: [],
        available_actions: ['checkin_email', 'renewal_sms', 'csm_call'],
      },
    });
    expect(status).toBe(200);
    // E-mail: (4 + 0.1·10) / (5 + 10) = 0.333; SMS: (0 + 0.08·10) / (3 + 10) = 0.0615 × 1.2.
    expect(json['recommended_action']).toMatchObject({
      action_type: 'checkin_email',
      action_params: { template: 'checkin' },
      channel: 'email',
    });
    expect(json['recommended_action'].confidence).toBeCloseTo(5 / 15, 6);
    expect(json['recommended_action'].reasoning).toMatch(
      /^checkin_email: expected value 0\.333 = P\(response\) 0\.333 \(engagement on email: 4 of 5 in 30 days, shrunk toward the prior 0\.1\) × value 1; best of 2 eligible; next renewal_sms at 0\.074; excluded: csm_call \(conditions not met\)/u,
    );
    expect(json['alternatives']).toEqual([
      expect.objectContaining({
        action_type: 'renewal_sms',
        confidence: expect.closeTo(0.8 / 13, 6),
      }),
    ]);
    expect(json['excluded']).toEqual([{ action: 'csm_call', reason: 'conditions not met' }]);
    expect(json['timing']).toEqual({
      optimal_time: '2026-03-02T10:00:00.000Z',
      time_window: { start: '2026-03-02T10:00:00.000Z', end: '2026-03-03T10:00:00.000Z' },
      timezone: 'UTC',
    });

    const [logged] = await h.engine.store.listDecisions({
      customerId: 'acme',
      kind: 'next_best_action',
      limit: 5,
    });
    expect(logged?.id).toBe(json['decision_id']);
    expect(logged?.subject).toBe('checkin_email');
    expect(logged?.explanation['propensities']).toEqual([
      expect.objectContaining({
        action: 'checkin_email',
        probability: expect.closeTo(1 / 3, 6),
        value: 1,
      }),
      expect.objectContaining({ action: 'renewal_sms', probability: expect.closeTo(0.8 / 13, 6) }),
    ]);
    // The customer's timeline shows the decision with its reasoning.
    const timeline = (await h.app.inject({ url: '/v1/customers/acme/timeline' })).json();
    const shown = timeline.entries.find(
      (e: { kind: string; decision?: { kind: string } }) => e.decision?.kind === 'next_best_action',
    );
    expect(shown.decision.explanation.reasoning).toBe(json['recommended_action'].reasoning);
  });

  it('leaves out what the customer opted out of, cannot be reached on, or is already in', async () => {
    await upsert('opted', {
      email: 'a@b.test',
      consents: { email: false },
      arr: 90000,
    });
    const { json } = await nba({
      customer_id: 'opted',
      context: { current_journey: 'expansion', recent_interactions: [] },
    });
    expect(json['recommended_action'].action_type).toBe('csm_call');
    expect(json['excluded']).toEqual([
      { action: 'checkin_email', reason: 'opted out of email' },
      { action: 'renewal_sms', reason: 'no sms address' },
      { action: 'expansion_offer', reason: 'already in expansion' },
    ]);
    // A task is not a touch on a channel: no quiet hours or touch limit apply to it.
    expect(json['timing'].optimal_time).toBe('2026-03-02T10:00:00.000Z');
  });

  it('answers none, with every reason, when nothing is eligible', async () => {
    await upsert('nobody', { unsubscribed: true });
    const { status, json } = await nba({
      customer_id: 'nobody',
      context: { available_actions: ['checkin_email'] },
    });
    expect(status).toBe(200);
    expect(json['recommended_action']).toMatchObject({ action_type: 'none', confidence: 0 });
    expect(json['recommended_action'].reasoning).toBe(
      'no eligible action: checkin_email (opted out of email)',
    );
  });

  it("honours the customer's channel preference over a higher expected value", async () => {
    await upsert('texter', { email: 'x@y.test', phone: '+15550101', channel_preference: 'sms' });
    const { json } = await nba({
      customer_id: 'texter',
      context: { available_actions: ['checkin_email', 'expansion_offer', 'renewal_sms'] },
    });
    expect(json['recommended_action'].action_type).toBe('renewal_sms');
    expect(json['recommended_action'].reasoning).toMatch(/the customer prefers sms/u);
    expect(json['alternatives'].map((a: { action_type: string }) => a.action_type)).toEqual([
      'expansion_offer',
      'checkin_email',
    ]);
    const free = await nba({
      customer_id: 'texter',
      context: { available_actions: ['checkin_email', 'expansion_offer', 'renewal_sms'] },
      constraints: { channel_preferences: false },
    });
    expect(free.json['recommended_action'].action_type).toBe('expansion_offer');
  });

  it('times a send past the daily touch limit for the next local business day, out of quiet hours', async () => {
    // Friday 6 March 2026, 15:00 in Tokyo (06:00 UTC); two e-mails already today.
    h.clock.set(Date.parse('2026-03-06T06:00:00Z'));
    await upsert('tokyo', { email: 't@k.test', phone: '+8130000', timezone: 'Asia/Tokyo' });
    await storeMessages([
      sent('t1', 'tokyo', 'email', Date.parse('2026-03-06T00:30:00Z')),
      sent('t2', 'tokyo', 'email', Date.parse('2026-03-06T02:00:00Z')),
    ]);
    const { json } = await nba({
      customer_id: 'tokyo',
      context: { available_actions: ['renewal_sms'] },
      constraints: { business_hours_only: true },
    });
    // Tomorrow is Saturday: the next business day is Monday 9 March, 09:00 JST = 00:00Z; SMS quiet
    // hours end at 09:00 too; the window closes at 17:00 JST.
    expect(json['timing']).toEqual({
      optimal_time: '2026-03-09T00:00:00.000Z',
      time_window: { start: '2026-03-09T00:00:00.000Z', end: '2026-03-09T08:00:00.000Z' },
      timezone: 'Asia/Tokyo',
    });
    expect(json['recommended_action'].reasoning).toMatch(
      /2 touches today reach max_daily_touches 2: tomorrow; moved into business hours/u,
    );
    // A request may tighten the limit, never loosen it.
    h.clock.set(Date.parse('2026-03-09T01:00:00Z'));
    const looser = await nba({
      customer_id: 'tokyo',
      context: { available_actions: ['renewal_sms'] },
      constraints: { max_daily_touches: 10 },
    });
    expect(looser.json['timing'].optimal_time).toBe('2026-03-09T01:00:00.000Z');
  });

  it('takes P(response) from a registered policy when the catalogue maps onto its actions', async () => {
    const lines = ['id,spend,segment,visit'];
    for (let i = 0; i < 300; i++) {
      const high = i % 2 === 0;
      const action = ['Mail', 'Call', 'None'][i % 3] ?? 'None';
      // Calls work on high spenders; mail on the rest.
      const visit =
        action === 'None' ? i % 10 === 0 : (action === 'Call') === high ? i % 5 !== 0 : i % 7 === 0;
      lines.push(`c${i},${high ? 900 : 50},${action},${visit ? 1 : 0}`);
    }
    const { model } = trainNba(parseTable(lines.join('\n'), 'exp.csv'), {
      id: 'id',
      action: 'segment',
      reward: 'visit',
      now: T0,
    });
    await h.engine.store.registerModel({
      name: 'nba_policy',
      kind: 'nba',
      createdAt: T0,
      body: model as unknown as JsonObject,
      metrics: model.evaluation,
      source: 'exp.csv',
    });
    await h.app.close();
    await h.engine.close();
    h = await open(
      CONFIG.replace(
        'next_best_action:\n  actions:',
        'next_best_action:\n  model: nba_policy\n  actions:',
      ).replace(
        'params: { template: checkin }',
        'params: { template: checkin }\n      model_action: Mail',
      ),
    );
    await upsert('big', { email: 'b@g.test', spend: 900 });
    const { json } = await nba({
      customer_id: 'big',
      context: { available_actions: ['checkin_email'] },
    });
    expect(json['recommended_action'].reasoning).toMatch(/\(model nba_policy@1\)/u);
    const [logged] = await h.engine.store.listDecisions({
      customerId: 'big',
      kind: 'next_best_action',
      limit: 1,
    });
    expect(logged?.explanation['model']).toBe('nba_policy@1');
  });

  it('answers bad requests with 4xx JSON errors', async () => {
    await upsert('acme', { email: 'a@b.test' });
    const unknown = await nba({
      customer_id: 'acme',
      context: { available_actions: ['teleport'] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json['error']).toMatchObject({
      code: 'NBA_UNKNOWN_ACTION',
      details: {
        unknown: ['teleport'],
        known: ['checkin_email', 'renewal_sms', 'csm_call', 'expansion_offer'],
      },
    });
    expect((await nba({ customer_id: 'ghost' })).status).toBe(404);
    const missing = await nba({ context: {} });
    expect(missing.status).toBe(400);
    expect(missing.json['error'].code).toBe('INVALID_INPUT');
    expect(
      (await nba({ customer_id: 'acme', context: { recent_interactions: 'lots' } })).status,
    ).toBe(400);
    expect(
      (await nba({ customer_id: 'acme', constraints: { max_daily_touches: -1 } })).status,
    ).toBe(400);
    expect((await nba({ customer_id: 'acme', surprise: true })).status).toBe(400);
  });
});

describe('prediction scores and the registry over HTTP', () => {
  it("shows a customer's live score with factors, and the registered models", async () => {
    const lines = ['id,tenure,Contract,churned'];
    for (let i = 0; i < 200; i++) {
      const monthly = i % 2 === 0;
      lines.push(
        `a${i},${i % 60},${monthly ? 'Month-to-month' : 'Two year'},${(monthly ? i % 6 !== 4 : i % 10 === 1) ? 'Yes' : 'No'}`,
      );
    }
    const { model } = trainChurn(parseTable(lines.join('\n'), 'accounts.csv'), {
      id: 'id',
      label: 'churned',
      positive: 'Yes',
      now: T0,
    });
    const unregistered = await h.app.inject({ url: '/v1/customers/acme/predictions' });
    expect(unregistered.statusCode).toBe(404);
    await upsert('acme', { tenure: 2, Contract: 'Month-to-month' });
    const idle = (await h.app.inject({ url: '/v1/customers/acme/predictions' })).json();
    expect(idle.scores).toEqual([
      expect.objectContaining({
        prediction: 'churn_risk',
        model: null,
        notes: ["model 'churn_predictor_v2' is not registered"],
      }),
    ]);

    const before = (await h.app.inject({ url: '/healthz' })).json();
    expect(before.models).toEqual([
      {
        name: 'churn_predictor_v2',
        version: null,
        endpoint: null,
        problem: expect.stringContaining("'churn_predictor_v2' is not registered"),
      },
    ]);

    await h.engine.store.registerModel({
      name: 'churn_predictor_v2',
      kind: 'churn',
      createdAt: T0,
      body: model as unknown as JsonObject,
      metrics: model.metrics as unknown as JsonObject,
      source: 'accounts.csv',
    });
    await h.engine.refreshModels();
    const after = (await h.app.inject({ url: '/healthz' })).json();
    expect(after.models).toEqual([
      { name: 'churn_predictor_v2', version: 1, endpoint: null, problem: null },
    ]);
    const scored = (await h.app.inject({ url: '/v1/customers/acme/predictions' })).json();
    const [churn] = scored.scores;
    expect(churn).toMatchObject({
      prediction: 'churn_risk',
      model: 'churn_predictor_v2@1',
      threshold: 0.7,
    });
    expect(churn.score).toBe(Math.round(churn.probability * 100));
    expect(churn.above_threshold).toBe(churn.probability >= 0.7);
    expect(churn.factors.length).toBeGreaterThan(0);

    const listed = (await h.app.inject({ url: '/v1/models' })).json();
    expect(listed.models).toEqual([
      expect.objectContaining({
        name: 'churn_predictor_v2',
        version: 1,
        kind: 'churn',
        source: 'accounts.csv',
      }),
    ]);
    expect(listed.models[0].metrics.rocAuc.mean).toBeGreaterThan(0.5);
  });

  it("/healthz names a model's endpoint and its circuit", async () => {
    await h.app.close();
    await h.engine.close();
    h = await open(
      CONFIG.replace(
        'predictions:',
        'models:\n  churn_predictor_v2:\n    endpoint: { url: "http://127.0.0.1:9/score" }\npredictions:',
      ),
    );
    const health = (await h.app.inject({ url: '/healthz' })).json();
    expect(health.models).toEqual([
      expect.objectContaining({ name: 'churn_predictor_v2', endpoint: { circuit: 'closed' } }),
    ]);
  });
});

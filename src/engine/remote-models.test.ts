/**
 * Bring your own model: a prediction's model served by an HTTP endpoint on loopback, with its
 * timeout, circuit breaker and fallback to the registered model of the same name.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import { VirtualClock, type JsonObject } from '../core/index.js';
import { parseTable, trainChurn } from '../decisions/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');

/** A scoring service: answers what `reply` says, and remembers the requests. */
interface ModelService {
  url: string;
  requests: JsonObject[];
  reply: (body: JsonObject) => { status: number; body: unknown };
  close(): Promise<void>;
}

async function startService(): Promise<ModelService> {
  const service = {
    url: '',
    requests: [] as JsonObject[],
    reply: (_body: JsonObject) => ({ status: 200, body: { probability: 0.5 } as unknown }),
    close: async () => {},
  };
  const read = async (req: IncomingMessage): Promise<string> => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    return text;
  };
  const server: Server = createServer((req, res) => {
    void read(req).then((text) => {
      const body = JSON.parse(text) as JsonObject;
      service.requests.push({ ...body, authorization: req.headers.authorization ?? null });
      const answer = service.reply(body);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  service.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/score`;
  service.close = () =>
    new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  return service;
}

function config(url: string): ReturnType<typeof loadConfigFromString> {
  return loadConfigFromString(
    `
models:
  churn_predictor_v2:
    endpoint: { url: "${url}", timeout: 1 second, token_env: CHURN_TOKEN, failure_threshold: 2, reset_after: 5 minutes }
predictions:
  churn_risk: { model: churn_predictor_v2, threshold: 0.7, action: escalate_to_csm }
`,
    'byo.yaml',
  );
}

let service: ModelService;
beforeEach(async () => {
  service = await startService();
});
afterEach(async () => {
  await service.close();
});

async function openEngine(): Promise<{ engine: Engine; clock: VirtualClock }> {
  const clock = new VirtualClock(T0);
  const engine = await Engine.open({
    config: config(service.url),
    store: await openStore({ file: ':memory:' }),
    clock,
    secrets: { CHURN_TOKEN: 's3cret' },
  });
  return { engine, clock };
}

async function update(engine: Engine, id: string, properties: JsonObject): Promise<void> {
  await engine.ingest([
    {
      type: 'customer.updated',
      customerId: id,
      occurredAt: engine.clock.now(),
      payload: { properties },
    },
  ]);
  await engine.runUntilIdle();
}

async function predictions(engine: Engine, id: string): Promise<JsonObject[]> {
  const list = await engine.store.listDecisions({ customerId: id, kind: 'prediction', limit: 10 });
  return list.map((d) => d.explanation);
}

describe('models behind your own endpoint', () => {
  it("scores each profile change through the endpoint and applies the answer in the customer's order", async () => {
    service.reply = (body) => ({
      status: 200,
      body: {
        probability: (body['attributes'] as JsonObject)['plan'] === 'free' ? 0.91 : 0.2,
        factors: ['seats dropped by 40%', 'no login for 21 days'],
      },
    });
    const { engine } = await openEngine();
    await update(engine, 'acme', { plan: 'pro', csm_id: 'dana' });
    expect(service.requests).toEqual([
      {
        model: 'churn_predictor_v2',
        customer_id: 'acme',
        attributes: { plan: 'pro', csm_id: 'dana' },
        authorization: 'Bearer s3cret',
      },
    ]);
    expect(await predictions(engine, 'acme')).toEqual([]);

    await update(engine, 'acme', { plan: 'free' });
    const [fired] = await predictions(engine, 'acme');
    expect(fired).toMatchObject({
      model: 'churn_predictor_v2 (endpoint)',
      prediction: {
        action: 'escalate_to_csm',
        confidence: 0.91,
        reasoning: [
          'churn_risk 91/100 reached the threshold 0.7',
          'seats dropped by 40%',
          'no login for 21 days',
        ],
      },
    });
    const alerts = await engine.store.listAlerts({ limit: 5 });
    expect(alerts.map((a) => [a.severity, a.assignee])).toEqual([['high', 'dana']]);

    // A third change while still risky: scored again, no second escalation.
    await update(engine, 'acme', { seats: 3 });
    expect(service.requests).toHaveLength(3);
    expect(await engine.store.listAlerts({ limit: 5 })).toHaveLength(1);
    await engine.close();
  });

  it('falls back to the registered model when the endpoint fails, and stops calling an open circuit', async () => {
    service.reply = () => ({ status: 503, body: { error: 'overloaded' } });
    const { engine, clock } = await openEngine();
    const lines = ['id,plan,churned'];
    for (let i = 0; i < 120; i++) {
      const free = i % 2 === 0;
      lines.push(
        `c${i},${free ? 'free' : 'pro'},${(free ? i % 8 !== 0 : i % 9 === 1) ? 'Yes' : 'No'}`,
      );
    }
    const { model } = trainChurn(parseTable(lines.join('\n'), 'plans.csv'), {
      id: 'id',
      label: 'churned',
      positive: 'Yes',
      now: T0,
    });
    await engine.store.registerModel({
      name: 'churn_predictor_v2',
      kind: 'churn',
      createdAt: T0,
      body: model as unknown as JsonObject,
      metrics: {},
      source: 'plans.csv',
    });
    await engine.refreshModels();

    await update(engine, 'a', { plan: 'free' });
    await update(engine, 'b', { plan: 'free' });
    expect(service.requests).toHaveLength(2);
    const [fallback] = await predictions(engine, 'a');
    expect(fallback?.['model']).toBe('churn_predictor_v2@1 (fallback)');
    expect((fallback?.['prediction'] as { reasoning: string[] }).reasoning).toContain(
      'endpoint failed (HTTP 503); built-in model used',
    );
    // Two failures opened the circuit: the third customer is scored without a call.
    await update(engine, 'c', { plan: 'free' });
    expect(service.requests).toHaveLength(2);
    expect(engine.remoteModels.circuits()).toEqual({ churn_predictor_v2: 'open' });
    expect(await predictions(engine, 'c')).toHaveLength(1);

    // After reset_after, a probe goes through and, answered, closes the circuit.
    service.reply = () => ({ status: 200, body: { score: 95 } });
    clock.advance(5 * 60_000);
    await update(engine, 'd', { plan: 'free' });
    expect(service.requests).toHaveLength(3);
    expect(engine.remoteModels.circuits()).toEqual({ churn_predictor_v2: 'closed' });
    expect((await predictions(engine, 'd'))[0]?.['model']).toBe('churn_predictor_v2 (endpoint)');
    await engine.close();
  });

  it('retries the request later when there is nothing to fall back to', async () => {
    service.reply = () => ({ status: 200, body: { verdict: 'high' } });
    const { engine, clock } = await openEngine();
    await update(engine, 'acme', { plan: 'free' });
    expect(service.requests).toHaveLength(1);
    expect(await predictions(engine, 'acme')).toEqual([]);

    service.reply = () => ({ status: 200, body: { probability: 0.8 } });
    clock.advance(61_000);
    await engine.runUntilIdle();
    expect(service.requests).toHaveLength(2);
    expect(await predictions(engine, 'acme')).toHaveLength(1);
    await engine.close();
  });
});

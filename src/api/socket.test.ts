import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import { VirtualClock } from '../core/index.js';
import { Engine } from '../engine/index.js';
import { createMetrics } from '../observability/index.js';
import { openStore } from '../store/index.js';
import { buildApi } from './index.js';

/** End to end over a real socket: what `inject` cannot show (HTTP framing, headers, keep-alive). */

const CONFIG = `
channels:
  in_app:
    provider: internal
journeys:
  - id: onboarding
    entry:
      event: customer.created
    stages:
      - id: welcome
        steps:
          - { id: hello, type: send, channel: in_app, content: { body: "Hi" } }
          - { id: pause, type: wait, duration: 2 days }
`;

let dir: string;
let engine: Engine;
let app: ReturnType<typeof buildApi>;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waymark-api-socket-'));
  const metrics = createMetrics();
  engine = await Engine.open({
    config: loadConfigFromString(CONFIG),
    store: await openStore({ dataDir: dir }),
    clock: new VirtualClock('2026-03-02T12:00:00Z'),
    sinks: [metrics.sink],
  });
  app = buildApi(engine, { metrics });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

/** Sends raw bytes and returns the raw answer (for requests fetch refuses to make). */
function raw(request: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => {
      resolve(answer);
    });
    socket.on('error', reject);
  });
}

describe('over a real socket', () => {
  it('ingests, enrolls and reports through fetch', async () => {
    const posted = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'signup-1' },
      body: JSON.stringify({ type: 'customer.created', customer_id: "o'brien" }),
    });
    expect(posted.status).toBe(202);
    expect(await posted.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    await engine.runUntilIdle();

    const status = await fetch(
      `${base}/v1/journeys/onboarding/customers/${encodeURIComponent("o'brien")}/status`,
    );
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ customer_id: "o'brien", status: 'active' });

    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/u);
    expect(await metrics.text()).toContain('journey_enrollments_total{journey_id="onboarding"} 1');

    const health = await fetch(`${base}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', providers: [], sources: [], models: [] });
  });

  it('answers errors as JSON with the right status and headers', async () => {
    const bad = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type": ',
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/json/u);
    expect(((await bad.json()) as ErrorBody).error.code).toBe('INVALID_JSON');

    const wrong = await fetch(`${base}/v1/customers`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect(((await wrong.json()) as ErrorBody).error.code).toBe('METHOD_NOT_ALLOWED');

    const doc = await fetch(`${base}/openapi.json`);
    expect(((await doc.json()) as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('answers a request that is not valid HTTP in the error shape and stays up', async () => {
    const answer = await raw('GARBAGE / HTTP/9\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /u);
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toEqual({
      error: { code: 'BAD_REQUEST', message: 'the request is not valid HTTP', details: null },
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});

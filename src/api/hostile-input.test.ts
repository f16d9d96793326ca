import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import { VirtualClock } from '../core/index.js';
import { Engine } from '../engine/index.js';
import { openStore } from '../store/index.js';
import { buildApi } from './index.js';

/**
 * Hostile and malformed input: every case must be answered with a 4xx in the one error shape, and
 * the server must still be healthy afterwards (checked after every test).
 */

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

const ODD_IDS = [
  `o'brien"); DROP TABLE customers;--`,
  `Robert'); DELETE FROM journey_enrollments; --`,
  'a/b/c',
  '../../etc/passwd',
  '%2F%25',
  'ключ-клиента',
  '顧客🙂',
  'emoji 👩‍👩‍👧‍👦 family',
  'tab\tand\nnewline',
  '<script>alert(1)</script>',
  '?query=1#fragment',
  ' padded ',
];

let dir: string;
let engine: Engine;
let app: FastifyInstance;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waymark-api-hostile-'));
  engine = await Engine.open({
    config: loadConfigFromString(CONFIG),
    store: await openStore({ dataDir: dir }),
    clock: new VirtualClock('2026-03-02T12:00:00Z'),
  });
  app = buildApi(engine, { bodyLimitBytes: 1024 * 1024 });
});

afterAll(async () => {
  await app.close();
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  // Whatever the test sent, the server still answers, its store is reachable and it still works.
  const health = await app.inject('/healthz');
  expect(health.statusCode).toBe(200);
  const ok = await app.inject({
    method: 'POST',
    url: '/v1/events',
    payload: { type: 'page.viewed', customer_id: 'canary' },
  });
  expect(ok.statusCode).toBe(202);
});

/** A path segment as a careful client sends it: dots encoded too, so `..` is not collapsed. */
function segment(id: string): string {
  return encodeURIComponent(id).replace(/\./gu, '%2E');
}

/** Error details as the tests read them (problems for INVALID_INPUT, other fields otherwise). */
type Details = { problems: { path: string; message: string }[]; [key: string]: unknown };

function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/u);
  const body = res.json();
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  return body.error as { code: string; message: string; details: Details };
}

function post(url: string, payload: string | object, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url,
    payload,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

describe('malformed bodies', () => {
  it.each([
    ['truncated JSON', '{"type": "customer.created", "customer_id": '],
    ['trailing garbage', '{"type": "a", "customer_id": "b"} xyz'],
    ['single quotes', "{'type': 'a'}"],
    ['a bare word', 'customer'],
    ['prototype poisoning', '{"type":"a","customer_id":"b","__proto__":{"admin":true}}'],
    ['constructor poisoning', '{"type":"a","customer_id":"b","constructor":{"prototype":{"x":1}}}'],
  ])('answers %s with 400 INVALID_JSON', async (_name, payload) => {
    expectError(await post('/v1/events', payload), 400, 'INVALID_JSON');
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
  });

  it('answers a body nested 100,000 levels deep with a 4xx', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const res = await post('/v1/events', deep);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.json().error.code).toMatch(/^INVALID_(JSON|INPUT)$/u);
  });

  it('refuses a body nested deeper than 64 levels with 400, located, and stores nothing', async () => {
    const before = await engine.store.pendingEventCount();
    // Valid JSON that parses fine but would overflow every recursive step downstream.
    const depth = 10_000;
    const payload = `{"type":"page.viewed","customer_id":"deep","properties":{"nested":${'{"n":'.repeat(depth)}1${'}'.repeat(depth)}}}`;
    const error = expectError(await post('/v1/events', payload), 400, 'INVALID_INPUT');
    expect(error.details.problems[0]!.path).toMatch(/^properties\.nested(\.n)+$/u);
    expect(await engine.store.pendingEventCount()).toBe(before);
    // Ordinary nesting is fine.
    const shallow = `{"type":"page.viewed","customer_id":"deep","properties":${'{"n":'.repeat(30)}1${'}'.repeat(30)}}`;
    expect((await post('/v1/events', shallow)).statusCode).toBe(202);
    await engine.runUntilIdle();
  });

  it('answers a body over the limit with 413 BODY_TOO_LARGE', async () => {
    const big = JSON.stringify({
      type: 'page.viewed',
      customer_id: 'big',
      properties: { blob: 'x'.repeat(10 * 1024 * 1024) },
    });
    const error = expectError(await post('/v1/events', big), 413, 'BODY_TOO_LARGE');
    expect(error.details).toEqual({ limit_bytes: 1024 * 1024 });
  });

  it('answers 1,001 events with 413 BATCH_TOO_LARGE and stores none', async () => {
    const before = await engine.store.pendingEventCount();
    const events = Array.from({ length: 1001 }, (_, i) => ({
      type: 'page.viewed',
      customer_id: `c${i}`,
    }));
    const error = expectError(await post('/v1/events', { events }), 413, 'BATCH_TOO_LARGE');
    expect(error.details).toEqual({ limit: 1000, count: 1001 });
    expect(await engine.store.pendingEventCount()).toBe(before);
  });

  it('answers a non-JSON content type with 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: 'type=customer.created&customer_id=c1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const text = await app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: '{"type":"a","customer_id":"b"}',
      headers: { 'content-type': 'text/plain' },
    });
    expectError(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a missing body where one is required with 400', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/journeys/onboarding/enroll' });
    const error = expectError(res, 400, 'INVALID_INPUT');
    expect(error.details.problems[0]!.path).toBe('$');
  });
});

describe('wrong shapes', () => {
  it('locates every problem of an invalid event', async () => {
    const error = expectError(
      await post('/v1/events', { type: true, customer_id: ['x'], timestamp: 'yesterday' }),
      400,
      'INVALID_INPUT',
    );
    expect(error.details.problems.map((p: { path: string }) => p.path)).toEqual([
      'type',
      'customer_id',
      'timestamp',
    ]);
  });

  it('refuses a whole batch when one event is invalid, locating it', async () => {
    const before = await engine.store.pendingEventCount();
    const error = expectError(
      await post('/v1/events', {
        events: [
          { type: 'page.viewed', customer_id: 'ok' },
          { type: 'page.viewed', properties: [] },
        ],
      }),
      400,
      'INVALID_INPUT',
    );
    expect(error.details.problems).toEqual([
      { path: 'events[1].customer_id', message: 'is required' },
      { path: 'events[1].properties', message: 'expected an object, got an array' },
    ]);
    expect(await engine.store.pendingEventCount()).toBe(before);
  });

  it.each([
    ['an array of events', [{ type: 'a', customer_id: 'b' }]],
    ['null', null],
    ['a string', 'customer.created'],
    ['a number', 42],
    ['events as an object', { events: { type: 'a' } }],
    ['an empty batch', { events: [] }],
  ])('answers %s with 400', async (_name, body) => {
    expectError(await post('/v1/events', JSON.stringify(body)), 400, 'INVALID_INPUT');
  });

  it.each([
    ['an array', []],
    ['a missing customer_id', {}],
    ['a numeric customer_id', { customer_id: 7 }],
    ['an unknown field', { customer_id: 'c1', force: true }],
    ['a blank customer_id', { customer_id: '   ' }],
    ['a 257-character customer_id', { customer_id: 'x'.repeat(257) }],
  ])('answers an enrollment with %s with 400, located', async (_name, body) => {
    const error = expectError(
      await post('/v1/journeys/onboarding/enroll', JSON.stringify(body)),
      400,
      'INVALID_INPUT',
    );
    expect(error.details.problems.length).toBeGreaterThan(0);
    for (const problem of error.details.problems) {
      expect(problem.path).toMatch(/^(\$|customer_id|force)$/u);
    }
  });

  it('refuses reserved waymark.* event types', async () => {
    const error = expectError(
      await post('/v1/events', { type: 'waymark.enroll', customer_id: 'c1', journey_id: 'x' }),
      400,
      'INVALID_INPUT',
    );
    expect(error.details.problems[0]!.path).toBe('events[0].type');
    const batch = await post('/v1/events', {
      events: [
        { type: 'page.viewed', customer_id: 'c1' },
        { type: 'waymark.exit', customer_id: 'c1' },
      ],
    });
    expectError(batch, 400, 'INVALID_INPUT');
  });

  it('refuses an Idempotency-Key header on a batch, and an unusable one', async () => {
    const batch = await post(
      '/v1/events',
      { events: [{ type: 'a', customer_id: 'b' }] },
      { 'idempotency-key': 'k' },
    );
    expect(expectError(batch, 400, 'INVALID_INPUT').details.problems[0]!.path).toBe(
      'header.idempotency-key',
    );
    const long = await post(
      '/v1/events',
      { type: 'a', customer_id: 'b' },
      { 'idempotency-key': 'k'.repeat(300) },
    );
    expect(expectError(long, 400, 'INVALID_INPUT').details.problems[0]!.path).toBe(
      'header.idempotency-key',
    );
  });

  it.each([
    ['limit=0', 'query.limit'],
    ['limit=1001', 'query.limit'],
    ['limit=abc', 'query.limit'],
    ['limit=1e3', 'query.limit'],
    ['limit=-5', 'query.limit'],
    ['limit=1&limit=2', 'query.limit'],
    ['status=bogus', 'query.status'],
    ['journeyId=onboarding', 'query.journeyId'],
  ])('answers GET /v1/enrollments?%s with 400 at %s', async (query, path) => {
    const error = expectError(await app.inject(`/v1/enrollments?${query}`), 400, 'INVALID_INPUT');
    expect(error.details.problems[0]!.path).toBe(path);
  });

  it('answers a forged cursor with 400 INVALID_CURSOR', async () => {
    for (const cursor of ['garbage', Buffer.from('[1,2,3,4]').toString('base64url'), '%00']) {
      const res = await app.inject(`/v1/customers?cursor=${encodeURIComponent(cursor)}`);
      expectError(res, 400, 'INVALID_CURSOR');
    }
  });

  it('refuses an invalid exit reason and an invalid journey test', async () => {
    expectError(
      await app.inject({
        method: 'DELETE',
        url: '/v1/journeys/onboarding/customers/c1?reason=DROP%20TABLE',
      }),
      400,
      'INVALID_INPUT',
    );
    const test = await post('/v1/journeys/onboarding/test', {
      events: [{ type: 'waymark.enroll' }, { customer_id: 'x' }],
      until: 'never',
    });
    const error = expectError(test, 400, 'INVALID_INPUT');
    expect(error.details.problems.map((p: { path: string }) => p.path)).toContain('until');
    const badEvents = await post('/v1/journeys/onboarding/test', { events: [{ type: 5.5 }] });
    expect(expectError(badEvents, 400, 'INVALID_INPUT').details.problems[0]!.path).toMatch(
      /^events\[0\]\.type$/u,
    );
  });

  it.each([
    ['an array', '[]'],
    ['null', 'null'],
    ['a string', '"journey"'],
    ['no stages', '{"name": "x"}'],
  ])('answers PUT of a journey as %s with 400', async (_name, payload) => {
    const res = await app.inject({
      method: 'PUT',
      url: '/v1/journeys/onboarding',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expectError(res, 400, 'INVALID_INPUT');
  });
});

describe('unknown things', () => {
  it.each([
    ['GET', '/v1/journeys/nope'],
    ['GET', '/v1/journeys/nope/metrics'],
    ['GET', '/v1/journeys/nope/customers/c1/status'],
    ['POST', '/v1/journeys/nope/pause'],
    ['POST', '/v1/journeys/nope/resume'],
    ['POST', '/v1/journeys/nope/customers/c1/advance'],
    ['DELETE', '/v1/journeys/nope/customers/c1'],
    ['POST', '/v1/journeys/nope/test'],
  ] as const)('answers %s %s with 404', async (method, url) => {
    const error = expectError(await app.inject({ method, url }), 404, 'NOT_FOUND');
    expect(error.details).toEqual({ kind: 'journey', id: 'nope' });
  });

  it('answers unknown routes with 404 and wrong methods with 405 + Allow', async () => {
    expectError(await app.inject('/v2/events'), 404, 'NOT_FOUND');
    expectError(await app.inject('/v1/journeys/a/b/c/d/e'), 404, 'NOT_FOUND');
    const wrong = await app.inject({ method: 'DELETE', url: '/v1/events' });
    expect(expectError(wrong, 405, 'METHOD_NOT_ALLOWED').details).toEqual({ allow: ['POST'] });
    expect(wrong.headers['allow']).toBe('POST');
    const patch = await app.inject({ method: 'PATCH', url: '/v1/journeys/onboarding' });
    expect(patch.headers['allow']).toBe('GET, PUT, HEAD');
  });

  it('answers malformed percent-encoding and over-long ids with a 4xx', async () => {
    expectError(await app.inject('/v1/customers/%E0%A4%A'), 400, 'INVALID_URL');
    const long = await app.inject(`/v1/customers/${'x'.repeat(300)}`);
    expect(expectError(long, 400, 'INVALID_INPUT').details.problems[0]!.path).toBe('path.id');
    const huge = await app.inject(`/v1/customers/${'x'.repeat(10_000)}`);
    expectError(huge, 414, 'URI_TOO_LONG');
  });
});

describe('odd ids are stored and answered literally', () => {
  it.each(ODD_IDS)('round-trips customer id %j through events, paths and queries', async (id) => {
    const created = await post('/v1/events', { type: 'customer.created', customer_id: id });
    expect(created.statusCode).toBe(202);
    await engine.runUntilIdle();
    const customer = await app.inject(`/v1/customers/${segment(id)}`);
    expect(customer.statusCode, customer.body).toBe(200);
    expect(customer.json().customer.id).toBe(id);
    expect(customer.json().enrollments[0]).toMatchObject({ customer_id: id, status: 'active' });
    const status = await app.inject(`/v1/journeys/onboarding/customers/${segment(id)}/status`);
    expect(status.json()).toMatchObject({ customer_id: id, status: 'active' });
    const messages = await app.inject(`/v1/messages?customer_id=${encodeURIComponent(id)}`);
    expect(messages.json().items).toEqual([expect.objectContaining({ customer_id: id })]);
    const removed = await app.inject({
      method: 'DELETE',
      url: `/v1/journeys/onboarding/customers/${segment(id)}`,
    });
    expect(removed.json()).toMatchObject({ customer_id: id, status: 'exited' });
    expect((await app.inject(`/v1/customers/${segment(id)}/timeline`)).statusCode).toBe(200);
  });

  it('stores "." and ".." as ids; URL clients collapse them in paths, so they are read by query', async () => {
    for (const id of ['.', '..']) {
      const created = await post('/v1/events', { type: 'customer.created', customer_id: id });
      expect(created.statusCode).toBe(202);
    }
    await engine.runUntilIdle();
    for (const id of ['.', '..']) {
      const res = await app.inject(`/v1/enrollments?customer_id=${encodeURIComponent(id)}`);
      expect(res.json().items).toEqual([expect.objectContaining({ customer_id: id })]);
    }
  });

  it('keeps the customers table intact after the SQL-looking ids', async () => {
    const page = await app.inject('/v1/customers?limit=1000');
    const ids = page.json().items.map((c: { id: string }) => c.id);
    expect(ids).toEqual(expect.arrayContaining(ODD_IDS));
  });

  it('enrolls any non-blank Unicode id through the API and reads it back unchanged', async () => {
    // Ids earlier tests in this file enrolled ("." among them) would answer 409, so they are
    // excluded up front rather than left for the generator to stumble on.
    const seen = new Set<string>();
    const enrollments = await app.inject('/v1/enrollments?journey_id=onboarding&limit=1000');
    for (const e of enrollments.json().items as { customer_id: string }[]) seen.add(e.customer_id);
    await fc.assert(
      fc.asyncProperty(
        fc
          .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
          .filter((s) => s.trim() !== '' && !seen.has(s)),
        async (id) => {
          seen.add(id);
          const enrolled = await post('/v1/journeys/onboarding/enroll', { customer_id: id });
          expect(enrolled.statusCode, enrolled.body).toBe(201);
          expect(enrolled.json().customer_id).toBe(id);
          const read = await app.inject(`/v1/customers/${segment(id)}`);
          expect(read.statusCode, read.body).toBe(200);
          expect(read.json().customer.id).toBe(id);
        },
      ),
      { numRuns: 40 },
    );
  });
});

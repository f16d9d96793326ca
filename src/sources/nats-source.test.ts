/**
 * The NATS source against the real NATS server on 127.0.0.1:4222 (JetStream on) and the real
 * SQLite store: every test has its own stream, deleted afterwards. Skipped, visibly, when no NATS
 * answers there, unless WAYMARK_REQUIRE_NATS=1 (CI), which makes a missing server a failure.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../api/index.js';
import { loadConfigFromString, type NatsSourceSettings } from '../config/index.js';
import { systemClock, type Logger } from '../core/index.js';
import { Engine } from '../engine/index.js';
import { createMetrics, type Metrics } from '../observability/index.js';
import { openSqliteStore } from '../store/index.js';
import { NatsEventSource, openSources, type EventSource, type SourceHealth } from './index.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const required = process.env['WAYMARK_REQUIRE_NATS'] === '1';
const reachable = await canReach('127.0.0.1', 4222);
if (!reachable && required) {
  throw new Error('WAYMARK_REQUIRE_NATS=1 but no NATS server answers on 127.0.0.1:4222');
}
const skipReason = reachable
  ? ''
  : ' [SKIPPED: no NATS on 127.0.0.1:4222; set WAYMARK_REQUIRE_NATS=1 to make this a failure]';
if (!reachable) console.warn(`nats-source tests${skipReason}`);

/** A journey entered on `signed_up`, so a consumed event shows as an enrollment. */
const CONFIG = `
journeys:
  - id: welcome
    entry: { event: signed_up }
    stages:
      - id: main
        steps:
          - { id: wait, type: wait, duration: 30 days }
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let nc: NatsConnection;
let jsm: JetStreamManager;
beforeAll(async () => {
  if (!reachable) return;
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
  return async () => {
    await nc.drain();
  };
});

/** A fresh stream name and subject space, deleted after the test. */
function testStream(): { stream: string; subject: (suffix: string) => string; filter: string } {
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  const stream = `WAYMARK_TEST_${id}`;
  cleanups.push(async () => {
    await jsm.streams.delete(stream).catch(() => false);
  });
  return { stream, subject: (suffix) => `wt${id}.${suffix}`, filter: `wt${id}.>` };
}

/** A source entry as `server.sources` loads it from YAML (defaults and units applied). */
function settings(
  stream: string,
  filter: string,
  extra: Record<string, unknown> = {},
): NatsSourceSettings {
  const entry = { type: 'nats', url: NATS_URL, stream, subjects: [filter], batch: 20, ...extra };
  const loaded = loadConfigFromString(JSON.stringify({ server: { sources: [entry] } }));
  const [source] = loaded.config.server.sources;
  if (source === undefined) throw new Error('no source loaded');
  return source;
}

/** An engine on a SQLite file (short busy timeout, so a held lock fails a write quickly). */
async function openEngine(file: string): Promise<Engine> {
  const engine = await Engine.open({
    config: loadConfigFromString(CONFIG),
    store: openSqliteStore({ file, busyTimeoutMs: 100 }),
    clock: systemClock,
  });
  engine.start();
  return engine;
}

async function dataFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'waymark-nats-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'waymark.sqlite');
}

interface Harness {
  engine: Engine;
  source: NatsEventSource;
  metrics: Metrics;
  logged: { message: string; fields: Record<string, unknown> }[];
}

/** Starts a source (and an engine, unless given) and waits until it consumes, unless told not to. */
async function running(
  file: string,
  sourceSettings: NatsSourceSettings,
  options: { engine?: Engine; ingest?: Engine['ingest']; wait?: boolean } = {},
): Promise<Harness> {
  const engine = options.engine ?? (await openEngine(file));
  const metrics = createMetrics();
  const logged: Harness['logged'] = [];
  const log: Logger = {
    info: () => undefined,
    warn: (message, fields = {}) => logged.push({ message, fields }),
    error: (message, fields = {}) => logged.push({ message, fields }),
  };
  const source = new NatsEventSource({
    settings: sourceSettings,
    ingest: options.ingest ?? ((events) => engine.ingest(events)),
    log,
    metrics,
    backoff: { initialMs: 50, maxMs: 400 },
    fetchExpiresMs: 1_000,
  });
  source.start();
  cleanups.push(async () => {
    await source.close();
    await engine.close().catch(() => undefined);
  });
  if (options.wait !== false) {
    await until(async () => ((await source.health()).state === 'running' ? true : undefined));
  }
  return { engine, source, metrics, logged };
}

async function publish(subject: string, body: unknown, msgId?: string): Promise<void> {
  const js = jetstream(nc);
  const data = body instanceof Uint8Array ? body : JSON.stringify(body);
  if (msgId === undefined) {
    await js.publish(subject, data);
    return;
  }
  const h = headers();
  h.set('Nats-Msg-Id', msgId);
  await js.publish(subject, data, { headers: h });
}

/** The stored events, read straight from the database file. */
function storedEvents(
  file: string,
): { idempotency_key: string | null; customer_id: string; type: string; occurred_at: number }[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare('SELECT idempotency_key, customer_id, type, occurred_at FROM events ORDER BY seq')
      .all() as ReturnType<typeof storedEvents>;
  } finally {
    db.close();
  }
}

async function until<T>(
  what: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await what();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the consumer has nothing left: everything delivered was acknowledged or terminated. */
async function drained(source: NatsEventSource): Promise<SourceHealth> {
  return until(async () => {
    const health = await source.health();
    return health.pending === 0 && health.ack_pending === 0 ? health : undefined;
  });
}

async function counter(metrics: Metrics, name: string, labels: string): Promise<number> {
  const text = await metrics.exposition();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe.skipIf(!reachable)(`NATS JetStream source${skipReason}`, () => {
  it('stores, processes and acknowledges published events: one event or {"events": [...]}', async () => {
    const { stream, subject, filter } = testStream();
    const file = await dataFile();
    const { engine, source, metrics } = await running(file, settings(stream, filter));

    await publish(subject('signup'), {
      type: 'signed_up',
      customer_id: 'c1',
      timestamp: '2026-03-02T12:00:00Z',
    });
    await publish(subject('batch'), {
      events: [
        { type: 'signed_up', customer_id: 'c2' },
        { type: 'customer.updated', customer_id: 'c1', changes: { plan: 'pro' } },
      ],
    });

    const enrollment = await until(async () => {
      const a = await engine.activeEnrollment('welcome', 'c1');
      const b = await engine.activeEnrollment('welcome', 'c2');
      return a !== null && b !== null ? a : undefined;
    });
    expect(enrollment.stage).toBe('main');
    const customer = await until(async () => {
      const c = await engine.store.getCustomer('c1');
      return c?.attributes['plan'] === 'pro' ? c : undefined;
    });
    expect(customer.attributes['plan']).toBe('pro');

    await drained(source);
    // /healthz reports the source with the consumer's backlog.
    const api = buildApi(engine, { sources: [source] });
    cleanups.push(() => api.close());
    expect((await api.inject('/healthz')).json()).toMatchObject({
      status: 'ok',
      sources: [
        {
          name: 'nats',
          type: 'nats',
          state: 'running',
          stream,
          durable: 'waymark',
          pending: 0,
          ack_pending: 0,
          last_error: null,
        },
      ],
    });
    const events = storedEvents(file);
    expect(events.map((e) => [e.customer_id, e.type])).toEqual([
      ['c1', 'signed_up'],
      ['c2', 'signed_up'],
      ['c1', 'customer.updated'],
    ]);
    // The event's own timestamp wins; without one, the instant the stream stored the message.
    expect(events[0]?.occurred_at).toBe(Date.parse('2026-03-02T12:00:00Z'));
    expect(events[1]?.occurred_at).toBeGreaterThan(Date.parse('2026-03-02T12:00:00Z'));
    expect(
      await counter(metrics, 'ingest_source_messages_total', 'source="nats",outcome="committed"'),
    ).toBe(2);
    expect(await counter(metrics, 'events_ingested_total', 'result="accepted"')).toBe(3);
  });

  it('acknowledges only after the commit: while the store fails the message is handed back, then stored once', async () => {
    const { stream, subject, filter } = testStream();
    const file = await dataFile();
    const engine = await openEngine(file);
    // Another connection holds the write lock: every append fails (SQLITE_BUSY) until it lets go.
    const locker = new Database(file);
    locker.exec('BEGIN EXCLUSIVE');
    let locked = true;
    cleanups.push(async () => {
      if (locked) locker.exec('ROLLBACK');
      locker.close();
      await Promise.resolve();
    });
    const { source, metrics, logged } = await running(file, settings(stream, filter), { engine });

    await publish(subject('signup'), { type: 'signed_up', customer_id: 'c1' });
    // It was tried and handed back at least twice (the backoff retries it) ...
    await until(async () =>
      (await counter(metrics, 'ingest_source_messages_total', 'source="nats",outcome="retried"')) >=
      2
        ? true
        : undefined,
    );
    const failing = await source.health();
    expect(failing.state).toBe('retrying');
    expect(failing.last_error).toMatch(/busy/u);
    expect(logged.some((l) => l.message.includes('the store failed'))).toBe(true);
    // ... and was never acknowledged: JetStream still holds it.
    const info = await (await jetstream(nc).consumers.get(stream, 'waymark')).info();
    expect(info.num_ack_pending + info.num_pending).toBe(1);
    expect(storedEvents(file)).toEqual([]);

    locker.exec('COMMIT');
    locked = false;
    await until(async () =>
      (await engine.activeEnrollment('welcome', 'c1')) !== null ? true : undefined,
    );
    const health = await drained(source);
    expect(health.state).toBe('running');
    expect(health.last_error).toBeNull();
    expect(storedEvents(file).map((e) => e.customer_id)).toEqual(['c1']);
    expect(
      await counter(metrics, 'ingest_source_messages_total', 'source="nats",outcome="committed"'),
    ).toBe(1);
  });

  it('a message committed but not acknowledged (a crash in between) comes back as a duplicate, stored once', async () => {
    const { stream, subject, filter } = testStream();
    const file = await dataFile();
    const engine = await openEngine(file);
    let crashes = 0;
    const { source, metrics } = await running(file, settings(stream, filter), {
      engine,
      // The commit happens; the process "dies" before acknowledging (the first time only).
      ingest: async (events) => {
        const results = await engine.ingest(events);
        if (crashes === 0) {
          crashes += 1;
          throw new Error('process died between commit and ack');
        }
        return results;
      },
    });

    await publish(subject('signup'), { type: 'signed_up', customer_id: 'c1' });
    await publish(
      subject('signup'),
      { events: [{ type: 'signed_up', customer_id: 'c2' }] },
      'crm-42',
    );
    await until(async () =>
      (await counter(
        metrics,
        'ingest_source_messages_total',
        'source="nats",outcome="committed"',
      )) === 2
        ? true
        : undefined,
    );
    await drained(source);
    expect(
      storedEvents(file)
        .map((e) => e.customer_id)
        .sort(),
    ).toEqual(['c1', 'c2']);
    // Whatever the batching, the crashed commit's events came back as duplicates: two events
    // counted once each, at least one of them as a duplicate.
    const duplicates = await counter(metrics, 'events_ingested_total', 'result="duplicate"');
    const accepted = await counter(metrics, 'events_ingested_total', 'result="accepted"');
    expect(duplicates).toBeGreaterThanOrEqual(1);
    expect(accepted + duplicates).toBe(2);
    expect(crashes).toBe(1);
  });

  it('replaying the whole stream (consumer reset) stores nothing twice: derived keys are stable', async () => {
    const { stream, subject, filter } = testStream();
    const file = await dataFile();
    const first = await running(file, settings(stream, filter));
    await publish(subject('a'), { type: 'signed_up', customer_id: 'c1' });
    await publish(subject('a'), {
      events: [
        { type: 'signed_up', customer_id: 'c2' },
        { type: 'x', customer_id: 'c2' },
      ],
    });
    await publish(subject('a'), { type: 'signed_up', customer_id: 'c3' }, 'order-7');
    await publish(subject('a'), {
      type: 'signed_up',
      customer_id: 'c4',
      idempotency_key: 'own-key',
    });
    await until(() => (storedEvents(file).length === 5 ? true : undefined));
    await drained(first.source);
    await first.source.close();
    const keys = storedEvents(file).map((e) => e.idempotency_key);
    expect(keys[0]).toMatch(new RegExp(`^nats:${stream}:[0-9a-z]+:1$`, 'u'));
    expect(keys.slice(1, 3)).toEqual([
      `${keys[0]!.replace(/:1$/u, ':2')}:0`,
      `${keys[0]!.replace(/:1$/u, ':2')}:1`,
    ]);
    expect(keys.slice(3)).toEqual(['order-7', 'own-key']);

    // A new consumer from the start of the stream sees every message again.
    await jsm.consumers.delete(stream, 'waymark');
    const second = await running(file, settings(stream, filter), { engine: first.engine });
    await until(async () =>
      (await counter(
        second.metrics,
        'ingest_source_messages_total',
        'source="nats",outcome="committed"',
      )) === 4
        ? true
        : undefined,
    );
    expect(await counter(second.metrics, 'events_ingested_total', 'result="duplicate"')).toBe(5);
    expect(await counter(second.metrics, 'events_ingested_total', 'result="accepted"')).toBe(0);
    expect(storedEvents(file)).toHaveLength(5);
  });

  it('poison messages are terminated with a located error and never block the ones after them', async () => {
    const { stream, subject, filter } = testStream();
    const file = await dataFile();
    const { engine, source, metrics, logged } = await running(file, settings(stream, filter));

    await publish(subject('a'), { type: 'signed_up', customer_id: 'c1' });
    await publish(subject('a'), new TextEncoder().encode('{"type": "signed_up", '));
    await publish(subject('a'), {
      events: [{ type: 'signed_up', customer_id: 'c9' }, { type: 'signed_up' }],
    });
    await publish(subject('a'), { type: 'waymark.enroll', customer_id: 'c8' });
    await publish(subject('a'), new Uint8Array([0xff, 0xfe, 0x00]));
    await publish(subject('a'), { type: 'signed_up', customer_id: 'c2' });

    await until(async () =>
      (await engine.activeEnrollment('welcome', 'c2')) !== null ? true : undefined,
    );
    await drained(source);
    expect(storedEvents(file).map((e) => e.customer_id)).toEqual(['c1', 'c2']);
    expect(
      await counter(metrics, 'ingest_source_messages_total', 'source="nats",outcome="rejected"'),
    ).toBe(4);
    expect(
      await counter(metrics, 'ingest_source_messages_total', 'source="nats",outcome="committed"'),
    ).toBe(2);

    // By stream sequence: a reserved type is found a step later (by the engine) than bad JSON.
    const rejected = logged
      .filter((l) => l.message.includes('rejected'))
      .sort((a, b) => Number(a.fields['seq']) - Number(b.fields['seq']));
    expect(rejected.map((l) => [l.fields['seq'], l.fields['code']])).toEqual([
      [2, 'INVALID_JSON'],
      [3, 'INVALID_INPUT'],
      [4, 'INVALID_INPUT'],
      [5, 'INVALID_ENCODING'],
    ]);
    expect(rejected[1]?.fields['error']).toBe('events[1].customer_id: is required');
    expect(rejected[2]?.fields['error']).toBe(
      "events[0].type: types starting with 'waymark.' are reserved",
    );
    // Terminated, not redelivered: nothing waits for an acknowledgement any more.
    const info = await (await jetstream(nc).consumers.get(stream, 'waymark')).info();
    expect(info.num_redelivered).toBe(0);
  });

  it('the engine stopped before the commit: the message is handed back and stored once after a restart', async () => {
    const { stream, subject, filter } = testStream();
    const file = await dataFile();
    const stopped = await openEngine(file);
    await stopped.close();
    await jsm.streams.add({ name: stream, subjects: [filter] });
    const first = await running(file, settings(stream, filter), { engine: stopped, wait: false });
    await publish(subject('a'), { type: 'signed_up', customer_id: 'c1' });
    await until(async () =>
      (await counter(
        first.metrics,
        'ingest_source_messages_total',
        'source="nats",outcome="retried"',
      )) >= 1
        ? true
        : undefined,
    );
    await first.source.close();

    const second = await running(file, settings(stream, filter));
    await until(async () =>
      (await second.engine.activeEnrollment('welcome', 'c1')) !== null ? true : undefined,
    );
    await drained(second.source);
    expect(storedEvents(file).map((e) => e.customer_id)).toEqual(['c1']);
  });

  it('a restarted source resumes from the durable consumer: nothing lost, nothing seen twice', async () => {
    const { stream, subject, filter } = testStream();
    const file = await dataFile();
    // ack_wait 2s: a message the server had in flight when the first source stopped comes back soon.
    const quick = settings(stream, filter, {
      batch: 7,
      ack_wait: '2s',
    });
    const engine = await openEngine(file);
    const first = await running(file, quick, { engine });
    for (let i = 0; i < 60; i++)
      await publish(subject('a'), { type: 'signed_up', customer_id: `a${i}` });
    await until(() => (storedEvents(file).length > 0 ? true : undefined));
    await first.source.close();
    const committedByFirst = await counter(
      first.metrics,
      'ingest_source_messages_total',
      'source="nats",outcome="committed"',
    );
    for (let i = 0; i < 40; i++)
      await publish(subject('a'), { type: 'signed_up', customer_id: `b${i}` });

    const second = await running(file, quick, { engine });
    await until(() => (storedEvents(file).length === 100 ? true : undefined));
    await drained(second.source);
    const customers = storedEvents(file).map((e) => e.customer_id);
    expect(new Set(customers).size).toBe(100);
    // The second source started where the first one's acknowledgements ended.
    expect(
      await counter(
        second.metrics,
        'ingest_source_messages_total',
        'source="nats",outcome="committed"',
      ),
    ).toBe(100 - committedByFirst);
    expect(await counter(second.metrics, 'events_ingested_total', 'result="duplicate"')).toBe(0);
  });

  it('with create_stream: false a missing stream is reported and retried until it exists', async () => {
    const { stream, subject, filter } = testStream();
    const file = await dataFile();
    const { engine, source } = await running(
      file,
      settings(stream, filter, { create_stream: false }),
      {
        wait: false,
      },
    );
    const waiting = await until(async () => {
      const health = await source.health();
      return health.last_error !== null ? health : undefined;
    });
    expect(waiting.state).toBe('retrying');
    expect(waiting.last_error).toContain(`stream '${stream}' does not exist`);

    await jsm.streams.add({ name: stream, subjects: [filter] });
    await publish(subject('a'), { type: 'signed_up', customer_id: 'c1' });
    await until(async () =>
      (await engine.activeEnrollment('welcome', 'c1')) !== null ? true : undefined,
    );
    expect((await drained(source)).state).toBe('running');
  });

  it('openSources applies WAYMARK_NATS_URL and refuses missing credentials', async () => {
    const { stream, subject, filter } = testStream();
    const file = await dataFile();
    const engine = await openEngine(file);
    const [source] = openSources([settings(stream, filter, { url: 'nats://127.0.0.1:1' })], {
      ingest: (events) => engine.ingest(events),
      env: { WAYMARK_NATS_URL: NATS_URL },
    });
    source!.start();
    cleanups.push(async () => {
      await source!.close();
      await engine.close();
    });
    await until(async () => ((await source!.health()).state === 'running' ? true : undefined));
    await publish(subject('a'), { type: 'signed_up', customer_id: 'c1' });
    await until(async () =>
      (await engine.activeEnrollment('welcome', 'c1')) !== null ? true : undefined,
    );

    expect(() =>
      openSources(
        [settings(stream, filter, { auth: { type: 'token', token_env: 'NATS_TOKEN' } })],
        {
          ingest: (events) => engine.ingest(events),
          env: {},
        },
      ),
    ).toThrow(expect.objectContaining({ code: 'SOURCE_CREDENTIALS_MISSING' }));
  });
});

function canReach(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => {
      done(false);
    });
    socket.once('connect', () => {
      done(true);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}

/**
 * Authentication against a NATS server of the test's own (token, then user and password), started
 * from the `nats-server` binary on a free loopback port: the shared server on 4222 has no auth.
 */
const NATS_SERVER = [
  process.env['WAYMARK_NATS_SERVER'],
  ...(process.env['PATH'] ?? '').split(':').map((dir) => join(dir, 'nats-server')),
  '/usr/sbin/nats-server',
  '/usr/local/bin/nats-server',
].find((path): path is string => path !== undefined && path !== '' && existsSync(path));
if (NATS_SERVER === undefined && required) {
  throw new Error('WAYMARK_REQUIRE_NATS=1 but no nats-server binary for the authentication tests');
}
if (NATS_SERVER === undefined)
  console.warn('nats-source authentication tests [SKIPPED: no nats-server binary]');

/** Starts `nats-server` with JetStream and `auth` arguments on a free port; stopped after the test. */
async function natsServerWith(auth: string[]): Promise<string> {
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
  const dir = await mkdtemp(join(tmpdir(), 'waymark-nats-auth-'));
  const child = spawn(
    NATS_SERVER ?? 'nats-server',
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, ...auth],
    { stdio: 'ignore' },
  );
  cleanups.push(async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
    await rm(dir, { recursive: true, force: true });
  });
  await until(async () => ((await canReach('127.0.0.1', port)) ? true : undefined));
  return `nats://127.0.0.1:${port}`;
}

describe.skipIf(NATS_SERVER === undefined)('NATS source authentication', () => {
  /** An engine and a source on `url` with `auth`, secrets read from `env`; stopped after the test. */
  async function startSource(
    url: string,
    stream: string,
    filter: string,
    auth: Record<string, unknown>,
    env: Record<string, string>,
  ): Promise<{ engine: Engine; source: EventSource }> {
    const engine = await openEngine(await dataFile());
    const [source] = openSources([settings(stream, filter, { url, auth })], {
      ingest: (events) => engine.ingest(events),
      env,
    });
    if (source === undefined) throw new Error('no source');
    source.start();
    cleanups.push(async () => {
      await source.close();
      await engine.close();
    });
    return { engine, source };
  }

  async function consumesWith(
    url: string,
    auth: Record<string, unknown>,
    env: Record<string, string>,
    publisher: { token: string } | { user: string; pass: string },
  ): Promise<void> {
    const stream = `WAYMARK_AUTH_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const { engine, source } = await startSource(url, stream, 'auth.>', auth, env);
    await until(async () => ((await source.health()).state === 'running' ? true : undefined));
    const client = await connect({ servers: url, ...publisher });
    cleanups.push(() => client.drain());
    await jetstream(client).publish(
      'auth.a',
      JSON.stringify({ type: 'signed_up', customer_id: 'c1' }),
    );
    await until(async () =>
      (await engine.activeEnrollment('welcome', 'c1')) !== null ? true : undefined,
    );
  }

  async function refusedWith(
    url: string,
    auth: Record<string, unknown>,
    env: Record<string, string>,
  ): Promise<SourceHealth> {
    const { source } = await startSource(url, 'WAYMARK_AUTH_REFUSED', 'refused.>', auth, env);
    // Refused credentials are a failure the source reports and retries, never a crash.
    return until(async () => {
      const health = await source.health();
      return health.last_error !== null ? health : undefined;
    });
  }

  it('a token: the right one consumes, a wrong one is reported in health', async () => {
    const url = await natsServerWith(['--auth', 's3cret-token']);
    const auth = { type: 'token', token_env: 'NATS_TOKEN' };
    await consumesWith(url, auth, { NATS_TOKEN: 's3cret-token' }, { token: 's3cret-token' });
    const refused = await refusedWith(url, auth, { NATS_TOKEN: 'wrong' });
    expect(refused.state).not.toBe('running');
    expect(refused.last_error).toMatch(/authori[sz]ation/iu);
    expect(refused.last_error).not.toContain('wrong');
  });

  it('a user and password: the right ones consume, a wrong password is reported in health', async () => {
    const url = await natsServerWith(['--user', 'waymark', '--pass', 'pa55word']);
    const auth = { type: 'user_password', user_env: 'NATS_USER', password_env: 'NATS_PASSWORD' };
    await consumesWith(
      url,
      auth,
      { NATS_USER: 'waymark', NATS_PASSWORD: 'pa55word' },
      { user: 'waymark', pass: 'pa55word' },
    );
    const refused = await refusedWith(url, auth, { NATS_USER: 'waymark', NATS_PASSWORD: 'nope' });
    expect(refused.state).not.toBe('running');
    expect(refused.last_error).toMatch(/authori[sz]ation/iu);
    expect(refused.last_error).not.toContain('nope');
  });
});

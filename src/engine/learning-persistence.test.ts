/**
 * The population learning in the model registry, through the real engine on SQLite files in
 * virtual time: saved every 15 minutes of engine time when something was learned and at stop,
 * restored at open so a restarted engine decides as one that never stopped (its ledgers are not
 * counted a second time), shared by several processes without double counting, and a malformed
 * stored version is reported and replaced, never fatal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApi } from '../api/index.js';
import { main } from '../cli/index.js';
import { loadConfigFromString } from '../config/index.js';
import {
  VirtualClock,
  sequentialIds,
  silentLogger,
  type IdSource,
  type JourneyEventRecord,
  type Logger,
  type MessageRecord,
  type Store,
} from '../core/index.js';
import { DAYPARTS, EngagementLearning, parseLearningSnapshot } from '../decisions/index.js';
import { recordFeedback } from '../delivery/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';
import {
  LEARNING_MODEL_NAME,
  LEARNING_SAVE_INTERVAL_MS,
  LearningPersistence,
} from './learning-persistence.js';

const CONFIG = loadConfigFromString(
  `
defaults:
  timezone: UTC
channels:
  email: { provider: smtp }
templates:
  offer:
    subject: An offer
    body: default
    selection: bandit
    variants:
      - { name: short, body: "Short" }
      - { name: long, body: "A longer text" }
journeys:
  - id: news
    entry: { event: news, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: n, type: send, channel: email, template: offer }
  - id: timed
    entry: { event: timed, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: t, type: send, channel: email, content: { subject: Hi, body: Hi }, send_time: { mode: optimal, within: 24 hours } }
`,
  'learning.yaml',
);

/** Monday 1 June 2026, 00:00 UTC. */
const START = Date.parse('2026-06-01T00:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const CUSTOMERS = Array.from({ length: 8 }, (_, i) => `c${i}`);

const dirs: string[] = [];
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-learning-'));
  dirs.push(dir);
  return dir;
}

/** An engine on the data directory's database, as a process would open it. */
async function openEngine(
  dir: string,
  clock: VirtualClock,
  options: { log?: Logger; workerId?: string; ids?: IdSource } = {},
): Promise<{ engine: Engine; store: Store }> {
  const store = await openStore({ dataDir: dir });
  const engine = await Engine.open({
    config: CONFIG,
    store,
    clock,
    // An installation's ids continue across a restart, as random ones never repeat.
    ids: options.ids ?? sequentialIds(),
    seed: 'learning-test',
    log: options.log ?? silentLogger,
    worker: { workerId: options.workerId ?? 'worker-test' },
  });
  opened.push(engine);
  await store.upsertCustomers(
    CUSTOMERS.map((id) => ({
      id,
      attributes: { email: `${id}@example.com` },
      createdAt: START,
      updatedAt: START,
    })),
  );
  return { engine, store };
}

async function everything<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const got = await page(cursor);
    all.push(...got.items);
    if (got.nextCursor === null) return all;
    cursor = got.nextCursor;
  }
}

/**
 * `days` days of personalised news to every customer at 09:00 (ignored) and 20:00 UTC (opened
 * half an hour later: the short variant only, or both with `opens: 'evening'`), from `from`.
 */
async function learnEvenings(
  engine: Engine,
  store: Store,
  clock: VirtualClock,
  from: number,
  days: number,
  opens: 'short' | 'evening' = 'short',
): Promise<void> {
  for (let day = 0; day < days; day++) {
    for (const hour of [9, 20]) {
      clock.set(from + day * DAY + hour * HOUR);
      const now = clock.now();
      await engine.ingest(
        CUSTOMERS.map((id) => ({ type: 'news', customerId: id, occurredAt: now, payload: {} })),
      );
      await engine.runUntilIdle();
      if (hour !== 20) continue;
      const sent = (
        await everything<MessageRecord>((cursor) => store.listMessages({ limit: 500, cursor }))
      ).filter((m) => m.sendAt === now && (opens === 'evening' || m.content['body'] === 'Short'));
      clock.advance(30 * MINUTE);
      await recordFeedback(
        store,
        sent.map((m) => ({ messageId: m.id, kind: 'opened' as const, at: clock.now() })),
        clock.now(),
      );
      await engine.runUntilIdle();
    }
  }
}

/** What the bandits read from an engine's population learning at `now`. */
function priors(engine: Engine, now: number) {
  const learning = engine.project.learning;
  return {
    hours: [...learning.sendTimeRates(now)],
    email: DAYPARTS.map((_, d) => learning.channelRate('email', d, now)),
    variants: [...learning.variantCounts('offer', now)],
  };
}

function expectClose(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    expect(Math.abs((actual as number) - expected), path).toBeLessThanOrEqual(
      1e-9 * Math.max(1, Math.abs(expected)),
    );
  } else if (Array.isArray(expected)) {
    expect(actual, path).toHaveLength(expected.length);
    expected.forEach((e, i) => {
      expectClose((actual as unknown[])[i], e, `${path}[${i}]`);
    });
  } else if (typeof expected === 'object' && expected !== null) {
    const a = actual as Record<string, unknown>;
    expect(Object.keys(a).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [key, e] of Object.entries(expected)) expectClose(a[key], e, `${path}.${key}`);
  } else {
    expect(actual, path).toEqual(expected);
  }
}

/** The optimal-time decision for a customer without history: the population's prior decides. */
async function newcomerDecision(engine: Engine, store: Store, clock: VirtualClock, id: string) {
  await store.upsertCustomers([
    {
      id,
      attributes: { email: `${id}@example.com` },
      createdAt: clock.now(),
      updatedAt: clock.now(),
    },
  ]);
  await engine.ingest([{ type: 'timed', customerId: id, occurredAt: clock.now(), payload: {} }]);
  await engine.runUntilIdle();
  const events = await everything<JourneyEventRecord>((cursor) =>
    store.listJourneyEvents({ limit: 1000, cursor }),
  );
  const decision = events.find(
    (e) =>
      e.customerId === id &&
      (e.type === 'message.deferred' || e.type === 'message.scheduled') &&
      e.data['reason'] === 'optimal_send_time',
  );
  expect(decision).toBeDefined();
  const until = decision?.data['until'];
  return {
    until: typeof until === 'string' ? until : null,
    populationRate: decision?.data['population_rate'],
    expectedRate: decision?.data['expected_rate'],
  };
}

async function learningVersions(store: Store) {
  return store.listModels({ name: LEARNING_MODEL_NAME });
}

describe('the engagement learning in the model registry', () => {
  it('is restored at open: a restarted engine decides as one that never stopped, ledgers not counted twice', async () => {
    const restartedDir = dataDir();
    const twinDir = dataDir();
    const clock = new VirtualClock(START);
    const twinClock = new VirtualClock(START);
    const ids = sequentialIds();
    const first = await openEngine(restartedDir, clock, { ids });
    const twin = await openEngine(twinDir, twinClock);
    // A week of the same traffic in two installations.
    await learnEvenings(first.engine, first.store, clock, START, 7);
    await learnEvenings(twin.engine, twin.store, twinClock, START, 7);
    const stoppedAt = clock.now();
    const before = priors(first.engine, stoppedAt);
    expect(before.variants.map(([v]) => v).sort()).toEqual(['long', 'short']);

    // One stops (saving what it learned) and starts again on the same file; the twin runs on.
    await first.engine.close();
    const restarted = await openEngine(restartedDir, clock, { workerId: 'worker-again', ids });
    const [stored] = await learningVersions(restarted.store);
    expect(stored).toMatchObject({
      name: LEARNING_MODEL_NAME,
      kind: 'engagement',
      createdAt: stoppedAt,
      source: 'saved at stop by worker-test',
    });
    expect(restarted.engine.project.learning.warmingUp).toBe(false);
    expectClose(priors(restarted.engine, stoppedAt), before);
    expectClose(priors(restarted.engine, stoppedAt), priors(twin.engine, stoppedAt));

    // A newcomer's optimal send time comes from the population prior: the evening, in both.
    const afterRestart = await newcomerDecision(
      restarted.engine,
      restarted.store,
      clock,
      'newcomer',
    );
    const inTwin = await newcomerDecision(twin.engine, twin.store, twinClock, 'newcomer');
    expect(afterRestart.until).toBe(inTwin.until);
    expect(afterRestart.until).toMatch(/T20:/u);
    expect(afterRestart.populationRate).toBe(inTwin.populationRate);
    expect(afterRestart.expectedRate).toBe(inTwin.expectedRate);

    // The restarted engine reads every customer's ledger again (a week of settled contacts), but
    // the stored snapshot already holds them: the counts go on as the twin's do.
    await learnEvenings(restarted.engine, restarted.store, clock, START + 7 * DAY, 1, 'evening');
    await learnEvenings(twin.engine, twin.store, twinClock, START + 7 * DAY, 1, 'evening');
    // (Which variant each customer gets may differ: a process remembers its last 1,000 choices,
    // see `TemplatePersonalizer`, and that memory is not part of the learning.)
    const { variants: _restartedVariants, ...restartedPriors } = priors(
      restarted.engine,
      clock.now(),
    );
    const { variants: _twinVariants, ...twinPriors } = priors(twin.engine, twinClock.now());
    expectClose(restartedPriors, twinPriors);
  });

  it('saves every 15 minutes of engine time when something was learned, and at stop', async () => {
    const dir = dataDir();
    const clock = new VirtualClock(START + 9 * HOUR);
    const { engine, store } = await openEngine(dir, clock);
    const news = async () => {
      await engine.ingest([
        { type: 'news', customerId: 'c0', occurredAt: clock.now(), payload: {} },
      ]);
      await engine.runUntilIdle();
    };
    await news();
    clock.advance(LEARNING_SAVE_INTERVAL_MS - 1);
    await engine.runUntilIdle();
    expect(await learningVersions(store)).toEqual([]);
    // 15 minutes after the engine opened: the first pass saves.
    clock.advance(1);
    await engine.runUntilIdle();
    const [first] = await learningVersions(store);
    expect(first).toMatchObject({ version: 1, source: 'periodic save by worker-test' });
    expect(first?.metrics).toMatchObject({ sends: 1, added: { observations: 1, sends: 1 } });
    // Nothing learned for the next quarter of an hour: nothing saved.
    clock.advance(LEARNING_SAVE_INTERVAL_MS);
    await engine.runUntilIdle();
    expect((await learningVersions(store)).map((m) => m.version)).toEqual([1]);
    // A send in the following quarter is saved at its end, added to version 1 (decayed).
    await news();
    clock.advance(LEARNING_SAVE_INTERVAL_MS);
    await engine.runUntilIdle();
    const [second] = await learningVersions(store);
    expect(second?.version).toBe(2);
    const body = parseLearningSnapshot(second?.body, 'v2');
    const sends = body.hours.sent.reduce((a, b) => a + b);
    expect(sends).toBeGreaterThan(1.99);
    expect(sends).toBeLessThan(2);
    expect(second?.metrics['added']).toMatchObject({ observations: 1, sends: 1 });
    // At stop, only when something is new.
    await news();
    await engine.close();
    const reopened = await openStore({ dataDir: dir });
    opened.push(reopened);
    const versions = await learningVersions(reopened);
    expect(versions.map((m) => [m.version, m.source])).toEqual([
      [3, 'saved at stop by worker-test'],
      [2, 'periodic save by worker-test'],
      [1, 'periodic save by worker-test'],
    ]);
  });

  it('is shown by GET /v1/models and `waymark models list`, with what it learned', async () => {
    const dir = dataDir();
    const clock = new VirtualClock(START);
    const ids = sequentialIds();
    const { engine, store } = await openEngine(dir, clock, { ids });
    await learnEvenings(engine, store, clock, START, 2);
    await engine.close();
    const again = await openEngine(dir, clock, { ids });
    const stored = await learningVersions(again.store);
    // Saved every quarter of an hour something was learned in, and at stop.
    expect(stored.length).toBeGreaterThan(2);
    const newest = stored[0]?.version;
    const listed = (await buildApi(again.engine).inject({ url: '/v1/models' })).json();
    expect(listed.models).toHaveLength(stored.length);
    expect(listed.models[0]).toMatchObject({
      name: LEARNING_MODEL_NAME,
      version: newest,
      kind: 'engagement',
      source: 'saved at stop by worker-test',
    });
    expect(listed.models[0].metrics).toMatchObject({
      sends: expect.any(Number),
      channels: { email: { rate: expect.any(Number) } },
      // The short variant is opened in the evening only, the long one never.
      templates: { offer: { short: { rate: expect.closeTo(0.5, 1) }, long: { rate: 0 } } },
    });
    expect(listed.models[0].metrics.bestHours[0].hour).toMatch(/20:00$/u);
    let out = '';
    const code = await main(
      ['models', 'list', '--data', dir],
      { stdout: (t) => (out += t), stderr: (t) => (out += t) },
      {},
    );
    expect(code).toBe(0);
    expect(out).toMatch(
      new RegExp(
        `engagement_learning\\t${newest}\\tengagement\\t\\S+\\tengagement \\d+\\.\\d% of \\d+ recent sends\\tsaved at stop by worker-test`,
        'u',
      ),
    );
  });

  it('reports a malformed stored version, starts without it and replaces it with the next save', async () => {
    const dir = dataDir();
    const setup = await openStore({ dataDir: dir });
    await setup.migrate();
    await setup.registerModel({
      name: LEARNING_MODEL_NAME,
      kind: 'engagement',
      createdAt: START,
      body: { format: 1, at: START, halfLifeMs: 1, hours: { sent: [1, 2], engaged: [] } },
      metrics: {},
      source: 'by hand',
    });
    await setup.close();
    const warnings: string[] = [];
    const log: Logger = {
      ...silentLogger,
      warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
    };
    const clock = new VirtualClock(START + 20 * HOUR);
    const { engine } = await openEngine(dir, clock, { log });
    expect(warnings).toEqual([
      expect.stringContaining('the stored engagement learning is unreadable and ignored'),
    ]);
    expect(warnings[0]).toContain('engagement_learning@1: hours.sent must be an array of 168');
    expect(engine.project.learning.warmingUp).toBe(true);
    await engine.ingest([{ type: 'news', customerId: 'c0', occurredAt: clock.now(), payload: {} }]);
    await engine.runUntilIdle();
    await engine.close();
    const reopened = await openStore({ dataDir: dir });
    opened.push(reopened);
    const [newest] = await learningVersions(reopened);
    expect(newest?.version).toBe(2);
    expect(parseLearningSnapshot(newest?.body, 'v2').channels['email']?.sent).toEqual([0, 0, 0, 1]);
    expect(warnings).toHaveLength(1);
  });
});

describe('several processes sharing the learning', () => {
  /** A process's learning on its own connection to the shared file. */
  async function process(dir: string, holder: string, now: number) {
    const store = await openStore({ dataDir: dir });
    opened.push(store);
    await store.migrate();
    const persistence = new LearningPersistence({ store, log: silentLogger, holder, now });
    await persistence.refresh(now);
    return { store, persistence, learning: persistence.learning };
  }

  /** `n` e-mails counted by a process at `now`, 10:00 UTC on a Monday (morning). */
  function sends(learning: EngagementLearning, prefix: string, n: number, now: number): void {
    for (let i = 0; i < n; i++) {
      learning.recordSend(
        {
          messageId: `${prefix}${i}`,
          channel: 'email',
          at: now,
          zone: 'UTC',
          template: null,
          variant: null,
        },
        now,
      );
    }
  }

  const MORNING = DAYPARTS.indexOf('morning');
  const T = START + 10 * HOUR;

  it('each adds its own increments to the newest version: none lost, none counted twice', async () => {
    const dir = dataDir();
    const a = await process(dir, 'a', T);
    const b = await process(dir, 'b', T);
    sends(a.learning, 'a', 3, T);
    sends(b.learning, 'b', 5, T);
    expect((await a.persistence.save(T, 'periodic'))?.version).toBe(1);
    // B saves onto A's version; A picks B's up and keeps counting on top of it.
    expect((await b.persistence.save(T, 'periodic'))?.version).toBe(2);
    expect(b.learning.channelRate('email', MORNING, T).sends).toBe(8);
    sends(a.learning, 'a2-', 2, T);
    expect(await a.persistence.refresh(T)).toBe(true);
    expect(a.learning.channelRate('email', MORNING, T).sends).toBe(10);
    expect((await a.persistence.save(T, 'stop'))?.version).toBe(3);
    // A third process starting now knows all of it, once.
    const c = await process(dir, 'c', T);
    expect(c.learning.channelRate('email', MORNING, T).sends).toBe(10);
    expect(c.persistence.version).toBe(3);
    // Nothing new: nothing saved.
    expect(await b.persistence.save(T, 'periodic')).toBeNull();
  });

  it('saving at the same moment, the second is refused, merges onto the first and saves again', async () => {
    const dir = dataDir();
    const a = await process(dir, 'a', T);
    const b = await process(dir, 'b', T);
    sends(a.learning, 'a', 3, T);
    sends(b.learning, 'b', 4, T);
    const registrations = vi.spyOn(b.store, 'registerModel');
    const saved = await Promise.all([a.persistence.save(T, 'stop'), b.persistence.save(T, 'stop')]);
    expect(saved.map((s) => s?.version).sort()).toEqual([1, 2]);
    // Both read "no version yet"; A registered first, so B's first registration was refused.
    const outcomes = await Promise.allSettled(
      registrations.mock.results.map((r) => r.value as Promise<unknown>),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
    const c = await process(dir, 'c', T);
    expect(c.learning.channelRate('email', MORNING, T).sends).toBe(7);
  });

  it('keeps a failed save’s increments for the next one', async () => {
    const dir = dataDir();
    const a = await process(dir, 'a', T);
    sends(a.learning, 'a', 2, T);
    const failing = vi
      .spyOn(a.store, 'registerModel')
      .mockRejectedValueOnce(new Error('disk full'));
    await expect(a.persistence.save(T, 'periodic')).rejects.toThrow('disk full');
    expect(a.learning.unsavedObservations).toBe(2);
    failing.mockRestore();
    sends(a.learning, 'a2-', 1, T);
    expect((await a.persistence.save(T, 'periodic'))?.version).toBe(1);
    const c = await process(dir, 'c', T);
    expect(c.learning.channelRate('email', MORNING, T).sends).toBe(3);
  });
});

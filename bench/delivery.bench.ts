/**
 * Delivery (issue #5): what contact caps and fatigue cost per message, and how fast messages leave
 * through a real provider to a loopback receiver.
 *
 * 1. Cap check: `decideContact` with the specification's `rate_limits.customer` (email 3/10/30,
 *    sms 1/3/10, in_app 5/20, total 5/15) and fatigue (cooldowns, engagement multipliers,
 *    disengaged suppression), over 10,000 seeded customers in every IANA zone with 0–30 contacts
 *    each in the last 30 days, against the same loop with no policy (null: what the processor does
 *    when nothing is configured). The difference is the overhead per message. The same for
 *    customers already at their daily e-mail cap (the deferral path).
 * 2. Dispatch: an engine on the embedded SQLite store (a file in a tmp dir) with a `webhook`
 *    channel `notify` (provider `webhook`) POSTing to a minimal `node:http` receiver in its own
 *    process on 127.0.0.1 (answers 200 once the body is read, keep-alive). A rule sends one message
 *    per `promo` event; customers get 1–5 events each. Run with caps + fatigue and without:
 *    - split: events are processed with the message lanes parked (the store wrapper hides
 *      `message` entries from claims), so every message is queued; then the clock runs only over
 *      `engine.messages.drain` passes until the outbox is empty: dispatch throughput alone;
 *    - end to end: `engine.ingest` of every event and `engine.runUntilIdle()` on a fresh store,
 *      until every message due now is delivered.
 * 3. Raw ceiling: the same number of POSTs with the same body shape to the same receiver with
 *    `fetch` at concurrency 10 (the default bulkhead), in the same run.
 *
 * The engine's clock is virtual and frozen: deferred messages (next local midnight, or a cooldown's
 * end) stay held, so "drained" means every message due now went out. Dispatch and HTTP are timed
 * on the wall clock (they wait on another process); CPU time of this process is reported beside.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { loadConfigFromString } from '../src/config/index.js';
import {
  VirtualClock,
  type CustomerRecord,
  type JsonObject,
  type NewEvent,
  type Store,
} from '../src/core/index.js';
import {
  compileContactPolicy,
  decideContact,
  type Contact,
  type ContactPolicy,
  type MessagePriority,
} from '../src/delivery/index.js';
import { Engine } from '../src/engine/index.js';
import { customerZone } from '../src/scheduling/index.js';
import { openStore, SQLITE_FILE_NAME } from '../src/store/index.js';
import { seededRandom } from './customers.js';
import {
  formatRate,
  formatRatio,
  formatSpread,
  measure,
  type Benchmark,
  type BenchmarkReport,
  type MeasureOptions,
  type Measurement,
} from './harness.js';

const ZONES = Intl.supportedValuesOf('timeZone');
const DAY_MS = 86_400_000;
/** A Wednesday afternoon (UTC): local days differ by zone, weeks mostly do not. */
const NOW = Date.parse('2026-03-04T15:00:00Z');
/** Concurrency of the raw `fetch` ceiling: the default bulkhead of one provider. */
const RAW_CONCURRENCY = 10;
/** Event rounds of the engine runs, and the virtual time between them. */
const ROUNDS = 5;
const ROUND_MS = 1_000;

/** The specification's customer-level limits and fatigue rules, verbatim. */
const SPEC_LIMITS = `
rate_limits:
  customer:
    email: { daily: 3, weekly: 10, monthly: 30 }
    sms: { daily: 1, weekly: 3, monthly: 10 }
    in_app: { daily: 5, weekly: 20 }
    total: { daily: 5, weekly: 15 }
fatigue:
  cooldown_periods: { after_unsubscribe: 30 days, after_complaint: 90 days, after_bounce: 7 days }
  engagement_based:
    highly_engaged: { multiplier: 1.5 }
    moderately_engaged: { multiplier: 1.0 }
    low_engagement: { multiplier: 0.5 }
    disengaged: { suppress: true }
`;

// ---- 1. the cap check ------------------------------------------------------------------------

/** One message to decide, with its customer's ledger and profile. */
interface Case {
  readonly message: { readonly channel: string; readonly priority: MessagePriority };
  readonly contacts: readonly Contact[];
  readonly attributes: Readonly<Record<string, unknown>>;
}

function pick<T>(random: () => number, weighted: readonly (readonly [T, number])[]): T {
  let r = random();
  for (const [value, weight] of weighted) {
    r -= weight;
    if (r < 0) return value;
  }
  const last = weighted.at(-1);
  if (last === undefined) throw new Error('nothing to pick from');
  return last[0];
}

const CHANNEL_MIX = [
  ['email', 0.5],
  ['in_app', 0.35],
  ['sms', 0.15],
] as const;
const ENGAGEMENT_MIX = [
  ['highly_engaged', 0.2],
  ['moderately_engaged', 0.4],
  ['low_engagement', 0.2],
  ['disengaged', 0.1],
  [null, 0.1],
] as const;

/** Customers with 0–30 contacts spread over the last 30 days, in every zone. */
function realisticCases(count: number): Case[] {
  const random = seededRandom(20260304);
  return Array.from({ length: count }, (_, i) => {
    const contacts = Array.from({ length: Math.floor(random() * 31) }, () => ({
      channel: pick(random, CHANNEL_MIX),
      at: NOW - Math.floor(random() * 30 * DAY_MS),
    })).sort((a, b) => a.at - b.at);
    const level = pick(random, ENGAGEMENT_MIX);
    const attributes: Record<string, unknown> = { timezone: ZONES[i % ZONES.length] ?? 'UTC' };
    if (level !== null) attributes['engagement_level'] = level;
    const feedback = random();
    // A few recent bounces (cooldown holds) and old unsubscribes (cooldown over), as in real data.
    if (feedback < 0.05) {
      attributes['fatigue'] = {
        email: { last_bounce_at: new Date(NOW - 2 * DAY_MS).toISOString() },
      };
    } else if (feedback < 0.07) {
      attributes['fatigue'] = { last_unsubscribe_at: NOW - 40 * DAY_MS };
    }
    const priority = pick(random, [
      ['normal', 0.8],
      ['high', 0.15],
      ['critical', 0.05],
    ] as const);
    return { message: { channel: pick(random, CHANNEL_MIX), priority }, contacts, attributes };
  });
}

/** Customers who had three e-mails today (their local day) and more weeks ago: each is deferred. */
function atCapCases(count: number): Case[] {
  const random = seededRandom(20260305);
  return Array.from({ length: count }, (_, i) => {
    const zone = ZONES[i % ZONES.length] ?? 'UTC';
    const dayStart = DateTime.fromMillis(NOW, { zone }).startOf('day').toMillis();
    const today = [1, 2, 3].map((k) => ({
      channel: 'email',
      at: dayStart + Math.floor(((NOW - dayStart) * k) / 4),
    }));
    // Older contacts outside this week, so only the daily cap is full.
    const older = Array.from({ length: 5 + Math.floor(random() * 10) }, () => ({
      channel: pick(random, CHANNEL_MIX),
      at: NOW - 8 * DAY_MS - Math.floor(random() * 22 * DAY_MS),
    }));
    return {
      message: { channel: 'email', priority: 'normal' },
      contacts: [...older.sort((a, b) => a.at - b.at), ...today],
      attributes: { timezone: zone, engagement_level: 'moderately_engaged' },
    };
  });
}

/**
 * One pass as the processor gates a message: with a policy, the customer's zone and the decision;
 * with none (null), nothing. Returns a number derived from every decision.
 */
function gatePass(policy: ContactPolicy | null, cases: readonly Case[]): number {
  let score = 0;
  for (const c of cases) {
    if (policy === null) {
      score += 1;
      continue;
    }
    const zone = customerZone(c.attributes, 'UTC');
    const decision = decideContact(policy, c.message, c.contacts, c.attributes, NOW, zone);
    score += decision.kind === 'send' ? 1 : decision.kind === 'defer' ? 2 : 3;
  }
  return score;
}

function tally(policy: ContactPolicy, cases: readonly Case[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of cases) {
    const zone = customerZone(c.attributes, 'UTC');
    const d = decideContact(policy, c.message, c.contacts, c.attributes, NOW, zone);
    const key = d.kind === 'send' ? (d.bypassed ? 'send (bypass)' : 'send') : d.kind;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const nsPer = (m: Measurement): number => 1e9 / m.perSecond;

// ---- 2. the loopback receiver ----------------------------------------------------------------

/**
 * The receiver runs in its own process so its CPU is not charged to the engine's event loop (two
 * cores: one each). GET / answers the POST count and distinct idempotency keys; GET /reset zeroes.
 */
const RECEIVER = `
const http = require('node:http');
let posts = 0;
const keys = new Set();
const server = http.createServer((req, res) => {
  if (req.method === 'POST') {
    posts++;
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string') keys.add(key);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      res.end('{}');
    });
    return;
  }
  if (req.url === '/reset') { posts = 0; keys.clear(); }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ posts, unique: keys.size }));
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

interface Receiver {
  readonly url: string;
  readonly child: ChildProcess;
}

async function startReceiver(): Promise<Receiver> {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      reject(new Error(`receiver exited with ${String(code)}`));
    });
    child.stdout.once('data', (chunk: Buffer) => {
      resolve(Number(chunk.toString().trim()));
    });
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function receiverStats(
  receiver: Receiver,
  reset = false,
): Promise<{ posts: number; unique: number }> {
  const response = await fetch(`${receiver.url}/${reset ? 'reset' : ''}`);
  return (await response.json()) as { posts: number; unique: number };
}

// ---- 2. the engine runs ----------------------------------------------------------------------

function engineConfig(url: string, caps: boolean): string {
  const limits = caps
    ? `
rate_limits:
  customer:
    notify: { daily: 3, weekly: 10, monthly: 30 }
    total: { daily: 5, weekly: 15 }
fatigue:
  cooldown_periods: { after_unsubscribe: 30 days, after_complaint: 90 days, after_bounce: 7 days }
  engagement_based:
    highly_engaged: { multiplier: 1.5 }
    moderately_engaged: { multiplier: 1.0 }
    low_engagement: { multiplier: 0.5 }
    disengaged: { suppress: true }
`
    : '';
  return `
channels:
  notify:
    type: webhook
    provider: webhook
    settings: { url: "${url}/hook" }
${limits}
rules:
  - id: promo
    name: Promo
    priority: 50
    conditions: { logic: AND, conditions: [{ field: event.type, operator: eq, value: promo }] }
    actions:
      - type: send_message
        params:
          channel: notify
          content: { subject: "Hello {{customer.first_name}}", body: "Spring offers for {{customer.first_name}}: 20% off this week." }
`;
}

/** Customers of the engine runs: every zone, an engagement mix, a few recent bounces. */
function engineCustomers(count: number): CustomerRecord[] {
  const random = seededRandom(20260306);
  return Array.from({ length: count }, (_, i) => {
    const attributes: JsonObject = {
      first_name: `Name${i}`,
      timezone: ZONES[i % ZONES.length] ?? 'UTC',
    };
    const level = pick(random, ENGAGEMENT_MIX);
    if (level !== null) attributes['engagement_level'] = level;
    if (random() < 0.03) {
      attributes['fatigue'] = { last_bounce_at: new Date(NOW - 2 * DAY_MS).toISOString() };
    }
    return { id: `c${String(i).padStart(6, '0')}`, attributes, createdAt: NOW, updatedAt: NOW };
  });
}

/**
 * 1–5 `promo` events per customer, in rounds of at most one per customer. Rounds are processed a
 * second of virtual time apart: a rule's message key holds the processing instant, so two events
 * of one customer processed at the same instant would make one message, not two.
 */
function engineRounds(customers: readonly CustomerRecord[]): NewEvent[][] {
  const random = seededRandom(20260307);
  const perCustomer = customers.map(() => 1 + Math.floor(random() * 5));
  return Array.from({ length: ROUNDS }, (_, round) =>
    customers.flatMap((customer, i): NewEvent[] =>
      (perCustomer[i] ?? 0) <= round
        ? []
        : [
            {
              type: 'promo',
              customerId: customer.id,
              occurredAt: NOW + round * ROUND_MS,
              idempotencyKey: `promo-${customer.id}-${round}`,
              payload: {},
            },
          ],
    ),
  );
}

/** What the wrapper around the store lets through and counts. */
interface StoreTap {
  /** While true, claims of `message` outbox entries come back empty (the lanes are parked). */
  holdMessages: boolean;
  /** `recordDeliveryOutcomes` calls with at least one message update, and the updates in them. */
  deliveryWrites: number;
  deliveryUpdates: number;
}

/**
 * The store, unchanged but for the tap. A worker pass always ends with a message drain; parking
 * message claims here is how the split run queues every message before it times the dispatch.
 */
function tapped(store: Store, tap: StoreTap): Store {
  const claimOutbox: Store['claimOutbox'] = (options) =>
    tap.holdMessages && (options.kinds?.includes('message') === true || options.lanes !== undefined)
      ? Promise.resolve([])
      : store.claimOutbox(options);
  const recordDeliveryOutcomes: Store['recordDeliveryOutcomes'] = (outcomes) => {
    if (outcomes.messages.length > 0) {
      tap.deliveryWrites++;
      tap.deliveryUpdates += outcomes.messages.length;
    }
    return store.recordDeliveryOutcomes(outcomes);
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'claimOutbox') return claimOutbox;
      if (property === 'recordDeliveryOutcomes') return recordDeliveryOutcomes;
      const value: unknown = Reflect.get(target, property, target);
      // The SQLite store keeps private fields: its methods must run with the store as `this`.
      return typeof value === 'function'
        ? (value as (...args: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

/** Messages by status, read from the database file after the engine closed. */
function statusCounts(dir: string): Record<string, number> {
  const db = new Database(join(dir, SQLITE_FILE_NAME), { readonly: true });
  try {
    const rows = db
      .prepare<[], { status: string; n: number }>(
        'SELECT status, count(*) AS n FROM messages GROUP BY status',
      )
      .all();
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } finally {
    db.close();
  }
}

interface EngineRun {
  readonly caps: boolean;
  readonly events: number;
  /** Split run: seconds to process every event with the lanes parked. */
  readonly processSeconds: number;
  /** Split run: seconds from "all queued" to "outbox drained", and the CPU of this process. */
  readonly dispatchSeconds: number;
  readonly dispatchCpuSeconds: number;
  readonly dispatched: number;
  readonly deliveryWrites: number;
  readonly deliveryUpdates: number;
  readonly splitStatuses: Record<string, number>;
  readonly splitReceived: { posts: number; unique: number };
  /** End-to-end run: seconds from the first `ingest` to idle, and messages delivered. */
  readonly e2eSeconds: number;
  readonly e2eDelivered: number;
  readonly e2eStatuses: Record<string, number>;
  readonly e2eReceived: { posts: number; unique: number };
}

async function openEngine(
  dir: string,
  receiver: Receiver,
  caps: boolean,
  customers: readonly CustomerRecord[],
  tap: StoreTap,
): Promise<{ engine: Engine; clock: VirtualClock }> {
  const clock = new VirtualClock(NOW);
  const store = tapped(await openStore({ dataDir: dir }), tap);
  const engine = await Engine.open({
    config: loadConfigFromString(engineConfig(receiver.url, caps), 'delivery-bench.yaml'),
    store,
    clock,
    delivery: 'configured',
    secrets: {},
  });
  for (let i = 0; i < customers.length; i += 5_000) {
    await store.upsertCustomers(customers.slice(i, i + 5_000));
  }
  return { engine, clock };
}

/** Ingests each round and runs the worker until idle, a second of virtual time apart. */
async function runRounds(
  engine: Engine,
  clock: VirtualClock,
  rounds: readonly (readonly NewEvent[])[],
): Promise<number> {
  let processed = 0;
  for (const round of rounds) {
    for (let i = 0; i < round.length; i += 1_000) await engine.ingest(round.slice(i, i + 1_000));
    processed += (await engine.runUntilIdle()).events;
    clock.advance(ROUND_MS);
  }
  return processed;
}

async function engineRun(
  root: string,
  receiver: Receiver,
  caps: boolean,
  customers: readonly CustomerRecord[],
  rounds: readonly (readonly NewEvent[])[],
): Promise<EngineRun> {
  const events = rounds.reduce((sum, round) => sum + round.length, 0);
  // ---- split: ingest and process with the lanes parked, then time the drain alone ----
  const splitDir = join(root, `${caps ? 'caps' : 'plain'}-split`);
  const tap: StoreTap = { holdMessages: true, deliveryWrites: 0, deliveryUpdates: 0 };
  const split = await openEngine(splitDir, receiver, caps, customers, tap);
  await receiverStats(receiver, true);
  let started = performance.now();
  await runRounds(split.engine, split.clock, rounds);
  const processSeconds = (performance.now() - started) / 1000;
  tap.holdMessages = false;
  let dispatched = 0;
  started = performance.now();
  const cpuStart = process.cpuUsage();
  for (;;) {
    const handled = await split.engine.messages.drain(split.clock.now());
    if (handled === 0) break;
    dispatched += handled;
  }
  const dispatchSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const splitReceived = await receiverStats(receiver);
  await split.engine.close();
  const splitStatuses = statusCounts(splitDir);

  // ---- end to end: ingest and run until idle, delivering as the worker goes ----
  const e2eDir = join(root, `${caps ? 'caps' : 'plain'}-e2e`);
  const e2eTap: StoreTap = { holdMessages: false, deliveryWrites: 0, deliveryUpdates: 0 };
  const e2e = await openEngine(e2eDir, receiver, caps, customers, e2eTap);
  await receiverStats(receiver, true);
  started = performance.now();
  const processed = await runRounds(e2e.engine, e2e.clock, rounds);
  const e2eSeconds = (performance.now() - started) / 1000;
  const e2eReceived = await receiverStats(receiver);
  await e2e.engine.close();
  const e2eStatuses = statusCounts(e2eDir);
  if (processed !== events) {
    throw new Error(`end-to-end run processed ${processed} of ${events} events`);
  }
  return {
    caps,
    events,
    processSeconds,
    dispatchSeconds,
    dispatchCpuSeconds: (cpu.user + cpu.system) / 1e6,
    dispatched,
    deliveryWrites: tap.deliveryWrites,
    deliveryUpdates: tap.deliveryUpdates,
    splitStatuses,
    splitReceived,
    e2eSeconds,
    e2eDelivered: e2eStatuses['delivered'] ?? 0,
    e2eStatuses,
    e2eReceived,
  };
}

// ---- 3. the raw ceiling ----------------------------------------------------------------------

/** `count` POSTs of the webhook provider's body shape with `fetch`, `RAW_CONCURRENCY` at a time. */
async function rawFetch(
  receiver: Receiver,
  count: number,
  round: number,
): Promise<{ seconds: number; cpuSeconds: number }> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const body = JSON.stringify({
        message_id: `msg_raw_${round}_${i}`,
        customer_id: `c${String(i).padStart(6, '0')}`,
        channel: 'notify',
        priority: 'normal',
        to: [],
        subject: `Hello Name${i}`,
        title: null,
        body: `Spring offers for Name${i}: 20% off this week.`,
        html: null,
        data: {},
      });
      const response = await fetch(`${receiver.url}/hook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `raw-${round}-${i}` },
        body,
        redirect: 'manual',
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`receiver answered ${response.status}`);
    }
  };
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  await Promise.all(Array.from({ length: RAW_CONCURRENCY }, worker));
  const cpu = process.cpuUsage(cpuStart);
  return {
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? 0;
}

const statusText = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status} ${n.toLocaleString('en-US')}`)
    .join(', ');

// ---- the benchmark ---------------------------------------------------------------------------

async function run(options: MeasureOptions): Promise<BenchmarkReport> {
  const quick = options.samples !== undefined && options.samples < 5;

  // ---- 1. cap check ----
  const policy = compileContactPolicy(
    loadConfigFromString(SPEC_LIMITS, 'spec-limits.yaml').config.rate_limits,
    loadConfigFromString(SPEC_LIMITS, 'spec-limits.yaml').config.fatigue,
  );
  if (policy === null) throw new Error('the specification limits compiled to no policy');
  // 2,000 customers (about five per zone) keep one pass of the slow path under a second.
  const caseCount = 2_000;
  const realistic = realisticCases(caseCount);
  const atCap = atCapCases(caseCount);
  const realisticTally = tally(policy, realistic);
  const atCapTally = tally(policy, atCap);
  const noPolicy = measure('no policy (null)', caseCount, () => gatePass(null, realistic), options);
  const withPolicy = measure(
    'decideContact, realistic ledgers',
    caseCount,
    () => gatePass(policy, realistic),
    options,
  );
  const noPolicyAtCap = measure(
    'no policy, at-cap set',
    caseCount,
    () => gatePass(null, atCap),
    options,
  );
  const withPolicyAtCap = measure(
    'decideContact, at the daily cap',
    caseCount,
    () => gatePass(policy, atCap),
    options,
  );
  const meanLedger = realistic.reduce((sum, c) => sum + c.contacts.length, 0) / realistic.length;

  // ---- 2 and 3. dispatch ----
  const customerCount = quick ? 2_000 : 10_000;
  const customers = engineCustomers(customerCount);
  const rounds = engineRounds(customers);
  const eventCount = rounds.reduce((sum, round) => sum + round.length, 0);
  const root = mkdtempSync(join(tmpdir(), 'waymark-delivery-'));
  const receiver = await startReceiver();
  try {
    const raw: { seconds: number; cpuSeconds: number }[] = [];
    // Warm the connections and the JIT; then the ceiling before and after the engine runs.
    await rawFetch(receiver, 1_000, 0);
    raw.push(await rawFetch(receiver, eventCount, 1));
    const plain = await engineRun(root, receiver, false, customers, rounds);
    raw.push(await rawFetch(receiver, eventCount, 2));
    const capped = await engineRun(root, receiver, true, customers, rounds);
    raw.push(await rawFetch(receiver, eventCount, 3));
    const rawRates = raw.map((r) => eventCount / r.seconds);
    const rawRate = median(rawRates);
    const rawCpuUs = median(raw.map((r) => (r.cpuSeconds / eventCount) * 1e6));

    const dispatchRate = (r: EngineRun): number => r.dispatched / r.dispatchSeconds;
    const rows = [plain, capped].map((r) => [
      r.caps ? 'caps + fatigue' : 'no caps',
      r.dispatched.toLocaleString('en-US'),
      formatRate(dispatchRate(r)),
      `${Math.round((dispatchRate(r) / rawRate) * 100)}%`,
      `${((r.dispatchCpuSeconds / r.dispatched) * 1e6).toFixed(0)} µs`,
      (r.deliveryUpdates / Math.max(1, r.deliveryWrites)).toFixed(0),
      formatRate(r.events / r.processSeconds),
      formatRate(r.events / r.e2eSeconds),
      formatRate(r.e2eDelivered / r.e2eSeconds),
    ]);
    const checks = [plain, capped].flatMap((r) => {
      const label = r.caps ? 'caps + fatigue' : 'no caps';
      const split = r.splitStatuses;
      const e2e = r.e2eStatuses;
      const sum = (counts: Record<string, number>): number =>
        Object.values(counts).reduce((a, b) => a + b, 0);
      return [
        {
          name: `${label}: one message per event, each delivered once or held`,
          passed:
            sum(split) === r.events &&
            sum(e2e) === r.events &&
            (split['delivered'] ?? 0) === r.dispatched &&
            r.splitReceived.posts === r.dispatched &&
            r.splitReceived.unique === r.dispatched &&
            r.e2eReceived.posts === r.e2eDelivered &&
            r.e2eReceived.unique === r.e2eDelivered &&
            (split['queued'] ?? 0) === 0 &&
            (e2e['queued'] ?? 0) === 0,
          detail: `split: ${statusText(split)}, receiver ${r.splitReceived.posts} POSTs; end to end: ${statusText(e2e)}, receiver ${r.e2eReceived.posts} POSTs`,
        },
        {
          name: `${label}: ${r.caps ? 'some messages deferred and some suppressed' : 'every message delivered'}`,
          passed: r.caps
            ? (split['deferred'] ?? 0) > 0 && (split['suppressed'] ?? 0) > 0
            : r.dispatched === r.events,
          detail: `${r.dispatched} of ${r.events} delivered`,
        },
      ];
    });
    const capRow = (name: string, m: Measurement, base: Measurement): string[] => [
      name,
      `${nsPer(m).toFixed(0)} ns`,
      formatSpread(m),
      `${(nsPer(m) - nsPer(base)).toFixed(0)} ns`,
    ];
    return {
      checks: [
        {
          name: 'cap check: realistic set has sends, deferrals and suppressions',
          passed:
            (realisticTally['send'] ?? 0) > 0 &&
            (realisticTally['defer'] ?? 0) > 0 &&
            (realisticTally['suppress'] ?? 0) > 0,
          detail: JSON.stringify(realisticTally),
        },
        {
          name: 'cap check: every at-cap message is deferred',
          passed: atCapTally['defer'] === caseCount,
          detail: JSON.stringify(atCapTally),
        },
        ...checks,
      ],
      tables: [
        {
          title: `Cap check: decideContact per message, the specification's limits, ${caseCount.toLocaleString('en-US')} customers in ${ZONES.length} zones`,
          columns: ['Loop', 'per message', 'spread', 'overhead vs no policy'],
          rows: [
            capRow('no policy (null), the fast path', noPolicy, noPolicy),
            capRow(
              `realistic ledgers (0–30 contacts, mean ${meanLedger.toFixed(1)})`,
              withPolicy,
              noPolicy,
            ),
            capRow('at the daily e-mail cap (deferred)', withPolicyAtCap, noPolicyAtCap),
          ],
          notes: [
            `Realistic decisions: ${statusText(realisticTally)}. Per CPU time, median of ${withPolicy.samples.length} samples; includes customerZone() as the processor calls it.`,
          ],
        },
        {
          title: `Dispatch: ${customerCount.toLocaleString('en-US')} customers, ${eventCount.toLocaleString('en-US')} events (one message each), webhook provider to a loopback receiver`,
          columns: [
            'Run',
            'dispatched',
            'dispatch msgs/s',
            'of raw fetch',
            'CPU per msg',
            'msgs per store write',
            'events processed/s (lanes parked)',
            'end to end events/s',
            'end to end delivered msgs/s',
          ],
          rows,
          notes: [
            `Raw ceiling: ${eventCount.toLocaleString('en-US')} POSTs with fetch at concurrency ${RAW_CONCURRENCY}: ${rawRates.map((r) => formatRate(r)).join(' / ')} per s (median ${formatRate(rawRate)}), ${rawCpuUs.toFixed(0)} µs CPU per POST in this process.`,
            `Caps + fatigue vs none: dispatch ${formatRatio(dispatchRate(capped) / dispatchRate(plain))}, processing ${formatRatio(capped.events / capped.processSeconds / (plain.events / plain.processSeconds))}, end to end events ${formatRatio(capped.events / capped.e2eSeconds / (plain.events / plain.e2eSeconds))}.`,
          ],
        },
      ],
      data: {
        capCheck: {
          noPolicy,
          withPolicy,
          noPolicyAtCap,
          withPolicyAtCap,
          realisticTally,
          atCapTally,
          meanLedger,
        },
        dispatch: { customerCount, events: eventCount, rawRates, rawCpuUs, plain, capped },
      },
    };
  } finally {
    receiver.child.kill();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Delivery: cap-check overhead per message and dispatch throughput to a loopback provider. */
export const deliveryBenchmark: Benchmark = {
  name: 'delivery',
  description: 'contact caps and fatigue per message; dispatch through a webhook provider',
  run,
};

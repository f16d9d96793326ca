/**
 * Scale-out on PostgreSQL (issue #7): events per second end to end with 1, 2 and 4 `waymark worker`
 * processes on one database at the default batch size (and 2 with `--batch-events 500`, the embedded
 * store's), against the raw PostgreSQL ceiling for the same rows, measured in the same run.
 *
 * Workload: the crash test's journey (test/fixtures/scaleout): each customer sends `signed_up` and
 * then `step_done` n = 1..9; every event moves the customer one stage on and sends one in-app
 * message. So one event costs, end to end: the event appended, claimed and marked processed, the
 * enrollment written, a message and its outbox entry written, the message delivered by a lane
 * (message and outbox updated) and about four journey events.
 *
 * End to end, per worker count: a fresh database; the workers are started (the built CLI, real
 * processes, default settings) and idle; then this process appends every customer's ten events,
 * 100 customers (1,000 events) per `appendEvents` call, the way an API process or a stream source
 * writes them, and the clock runs until every event is processed and every message delivered.
 * events/s = events / that time (appending included: on this machine the appender shares the two
 * cores with the workers and PostgreSQL, as an API process would). Correctness is checked after
 * each run: every message once, every journey complete.
 *
 * Ceiling: the same rows (counted per table from the 1-worker run, so nothing is guessed) written
 * with set-based statements (`unnest` arrays, 1,000 events per chunk) on fresh tables of the same
 * schema and indexes: the events inserted; then, in a second transaction, the events marked
 * processed, the enrollments upserted, the messages, outbox entries, journey events and trigger
 * executions inserted, the wait timers inserted and cancelled; then, in a third, the messages marked delivered and the outbox entries done.
 * That is the database's own cost for what Waymark stores, with no claiming, no leases, no engine
 * and no round trip per customer: what no engine on this schema could beat. Measured with one and
 * with two connections in parallel.
 *
 * PostgreSQL is `WAYMARK_BENCH_DATABASE_URL`, else `WAYMARK_TEST_DATABASE_URL`, else
 * `postgres://postgres@127.0.0.1:5432/postgres` (a maintenance database: the benchmark creates and
 * drops databases of its own there).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { NewEvent } from '../src/core/index.js';
import { openPostgresStore, type PostgresStore } from '../src/store/index.js';
import { createScratchDatabase, withServer } from '../test/support/index.js';
import { formatRate, type Benchmark, type BenchmarkReport, type ReportCheck } from './harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONFIG = join(ROOT, 'test', 'fixtures', 'scaleout');
const SERVER =
  process.env['WAYMARK_BENCH_DATABASE_URL'] ??
  process.env['WAYMARK_TEST_DATABASE_URL'] ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const STEPS = 10;
/**
 * The runs: worker processes, and events per claimed batch (`--batch-events`; null: the default,
 * 2,000 on PostgreSQL). The last run is the embedded store's batch size, for comparison.
 */
const RUNS = [
  { workers: 1, batchEvents: null },
  { workers: 2, batchEvents: null },
  { workers: 4, batchEvents: null },
  { workers: 2, batchEvents: 500 },
] as const;
/** Customers per append call (ten events each). */
const APPEND_CUSTOMERS = 100;

/** Published figures this is compared with, as issue #7 quotes them (not measured here). */
const PUBLISHED = [
  ['Temporal', 'about 1,000 state transitions/s', 'on a 2-CPU PostgreSQL'],
  ['Hatchet', '2,000 runs/s', 'on 8 vCPU'],
] as const;

/** A fresh, migrated database; `drop` removes it. */
async function freshDatabase(): Promise<{
  url: string;
  store: PostgresStore;
  drop: () => Promise<void>;
}> {
  const database = await createScratchDatabase('waymark_bench', SERVER);
  const store = openPostgresStore({ connectionString: database.url, poolSize: 4 });
  await store.migrate();
  return {
    url: database.url,
    store,
    drop: async () => {
      await store.close();
      await database.drop();
    },
  };
}

interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
}

async function startWorker(
  url: string,
  id: string,
  batchEvents: number | null,
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      // e.g. WAYMARK_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the workers
      ...(process.env['WAYMARK_BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
      'bin/waymark.js',
      'worker',
      '--config',
      CONFIG,
      '--worker-id',
      id,
      ...(batchEvents === null ? [] : ['--batch-events', String(batchEvents)]),
    ],
    { cwd: ROOT, env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('waymark: worker')) resolve();
    });
    void exited.then((code) => {
      reject(new Error(`worker ${id} exited with ${code}: ${errors}`));
    });
  });
  return { child, pid: child.pid ?? 0, exited };
}

/** Each customer's ten events, customer after customer, in append-sized chunks. */
function eventChunks(customers: number, at: number): NewEvent[][] {
  const chunks: NewEvent[][] = [];
  for (let first = 0; first < customers; first += APPEND_CUSTOMERS) {
    const chunk: NewEvent[] = [];
    for (let c = first; c < Math.min(customers, first + APPEND_CUSTOMERS); c++) {
      const customerId = `c${String(c).padStart(7, '0')}`;
      chunk.push({ type: 'signed_up', customerId, occurredAt: at, payload: {} });
      for (let n = 1; n < STEPS; n++) {
        chunk.push({ type: 'step_done', customerId, occurredAt: at, payload: { n } });
      }
    }
    chunks.push(chunk);
  }
  return chunks;
}

async function count(store: PostgresStore, sql: string): Promise<number> {
  return (await store.query<{ n: number }>(sql))[0]?.n ?? 0;
}

/** Rows per table after a run: what the ceiling writes. */
interface RowCounts {
  events: number;
  enrollments: number;
  messages: number;
  outbox: number;
  journeyEvents: number;
  triggerExecutions: number;
  decisions: number;
  /** Timers written (the journey's wait timeouts), most of them cancelled again. */
  timers: number;
}

async function rowCounts(store: PostgresStore): Promise<RowCounts> {
  const n = (table: string) => count(store, `SELECT count(*)::int AS n FROM ${table}`);
  return {
    events: await n('events'),
    enrollments: await n('journey_enrollments'),
    messages: await n('messages'),
    outbox: await n('outbox'),
    journeyEvents: await n('journey_events'),
    triggerExecutions: await n('trigger_executions'),
    decisions: await n('decisions'),
    timers: await n('timers'),
  };
}

/**
 * CPU seconds a process has used so far (user + system, from /proc), or null where /proc cannot
 * tell (another OS, a database on another machine). Clock ticks are 1/100 s on Linux.
 */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, hence the last parenthesis).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds of the database's server processes serving `store`'s database, by pid. */
async function databaseCpu(store: PostgresStore): Promise<Map<number, number | null>> {
  const rows = await store.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  return new Map(rows.map((row) => [row.pid, cpuSeconds(row.pid)]));
}

/** CPU used between two readings; a process that appeared meanwhile counts from zero. */
function cpuBetween(
  before: Map<number, number | null>,
  after: Map<number, number | null>,
): number | null {
  let total = 0;
  for (const [pid, end] of after) {
    if (end === null) return null;
    total += end - (before.get(pid) ?? 0);
  }
  return total;
}

/** CPU seconds per 1,000 events, spent by each party of an end-to-end run. */
interface CpuShare {
  workers: number | null;
  database: number | null;
  appender: number;
}

interface EndToEnd {
  workers: number;
  batchEvents: number | null;
  events: number;
  seconds: number;
  appendSeconds: number;
  perSecond: number;
  counts: RowCounts;
  checks: ReportCheck[];
  cpu: CpuShare;
}

async function endToEnd(
  workers: number,
  batchEvents: number | null,
  customers: number,
): Promise<EndToEnd> {
  const database = await freshDatabase();
  const running: WorkerProcess[] = [];
  try {
    for (let i = 0; i < workers; i++) {
      running.push(await startWorker(database.url, `bench-${i + 1}`, batchEvents));
    }
    const events = customers * STEPS;
    const chunks = eventChunks(customers, Date.now());
    const workersBefore = running.map((worker) => cpuSeconds(worker.pid));
    const databaseBefore = await databaseCpu(database.store);
    const appenderBefore = process.cpuUsage();
    const started = performance.now();
    for (const chunk of chunks) await database.store.appendEvents(chunk, Date.now());
    const appended = performance.now();
    // Polled cheaply, so the benchmark's own queries cost the database next to nothing: whether
    // any event is pending stops at the first entry of the partial index (counting them all took
    // about 6 ms a call, an eighth of a core at this rate); the messages are counted once the
    // events are done.
    for (;;) {
      const pending = await count(
        database.store,
        `SELECT count(*)::int AS n FROM (SELECT 1 FROM events WHERE status = 'pending' LIMIT 1) AS p`,
      );
      if (
        pending === 0 &&
        (await count(
          database.store,
          `SELECT count(*)::int AS n FROM messages WHERE status = 'delivered'`,
        )) === events
      ) {
        break;
      }
      if (performance.now() - started > 600_000)
        throw new Error('the run did not finish in 10 min');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    const appenderUsage = process.cpuUsage(appenderBefore);
    const workersAfter = running.map((worker) => cpuSeconds(worker.pid));
    const databaseUsed = cpuBetween(databaseBefore, await databaseCpu(database.store));
    let workersUsed: number | null = 0;
    for (const [i, after] of workersAfter.entries()) {
      const before = workersBefore[i];
      workersUsed =
        workersUsed === null || after === null || before === null || before === undefined
          ? null
          : workersUsed + after - before;
    }
    const perThousand = (cpu: number | null) => (cpu === null ? null : (cpu / events) * 1000);
    const cpu: CpuShare = {
      workers: perThousand(workersUsed),
      database: perThousand(databaseUsed),
      appender: ((appenderUsage.user + appenderUsage.system) / 1e6 / events) * 1000,
    };
    const counts = await rowCounts(database.store);
    const duplicates = await count(
      database.store,
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM messages
        GROUP BY customer_id, step_id HAVING count(*) > 1) d`,
    );
    const completed = await count(
      database.store,
      `SELECT count(*)::int AS n FROM journey_enrollments WHERE status = 'completed'`,
    );
    const checks: ReportCheck[] = [
      {
        name: `${label({ workers, batchEvents })}: every message once, every journey complete`,
        passed: counts.messages === events && duplicates === 0 && completed === customers,
        detail: `${counts.messages} messages for ${events} expected, ${duplicates} duplicated, ${completed} of ${customers} journeys complete`,
      },
    ];
    return {
      workers,
      batchEvents,
      events,
      seconds,
      appendSeconds: (appended - started) / 1000,
      perSecond: events / seconds,
      counts,
      checks,
      cpu,
    };
  } finally {
    for (const worker of running) worker.child.kill('SIGTERM');
    await Promise.all(running.map((worker) => worker.exited));
    await database.drop();
  }
}

/**
 * Writes `counts` worth of rows set-based, in chunks of `chunkEvents` events, over `connections`
 * connections in parallel (each takes every n-th chunk); resolves to events per second.
 */
async function ceiling(
  counts: RowCounts,
  connections: number,
): Promise<{ perSecond: number; cpu: CpuShare }> {
  const database = await freshDatabase();
  const clients: pg.Client[] = [];
  try {
    for (let i = 0; i < connections; i++) {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      clients.push(client);
    }
    const chunkEvents = APPEND_CUSTOMERS * STEPS;
    const chunks = Math.ceil(counts.events / chunkEvents);
    const per = (total: number) => total / counts.events;
    const now = Date.now() / 1000;
    const databaseBefore = await databaseCpu(database.store);
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      clients.map(async (client, lane) => {
        for (let chunk = lane; chunk < chunks; chunk += connections) {
          await writeChunk(client, chunk, chunkEvents, per, counts, now);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const client = process.cpuUsage(clientBefore);
    const serverCpu = cpuBetween(databaseBefore, await databaseCpu(database.store));
    return {
      perSecond: counts.events / seconds,
      cpu: {
        workers: null,
        database: serverCpu === null ? null : (serverCpu / counts.events) * 1000,
        appender: ((client.user + client.system) / 1e6 / counts.events) * 1000,
      },
    };
  } finally {
    await Promise.all(clients.map((client) => client.end()));
    await database.drop();
  }
}

/** `length` text ids `prefix-chunk-i`. */
function ids(prefix: string, chunk: number, length: number): string[] {
  return Array.from({ length }, (_, i) => `${prefix}-${chunk}-${i}`);
}

async function writeChunk(
  client: pg.Client,
  chunk: number,
  events: number,
  per: (total: number) => number,
  counts: RowCounts,
  now: number,
): Promise<void> {
  const customers = ids('c', chunk, Math.round(events * per(counts.enrollments)));
  const customerOf = (i: number) => customers[i % customers.length] ?? 'c';
  const eventIds = ids('e', chunk, events);
  const messageIds = ids('m', chunk, Math.round(events * per(counts.messages)));
  const outboxKeys = ids('o', chunk, Math.round(events * per(counts.outbox)));
  const journeyEvents = Math.round(events * per(counts.journeyEvents));
  const executions = Math.round(events * per(counts.triggerExecutions));
  const decisions = ids('d', chunk, Math.round(events * per(counts.decisions)));
  const timers = ids('t', chunk, Math.round(events * per(counts.timers)));
  // 1. Ingest: the events.
  await client.query(
    `INSERT INTO events (id, customer_id, type, occurred_at, received_at, payload)
     SELECT id, c, 'step_done', to_timestamp($3), to_timestamp($3), '{"n": 1}'::jsonb
       FROM unnest($1::text[], $2::text[]) AS u(id, c)`,
    [eventIds, eventIds.map((_, i) => customerOf(i)), now],
  );
  // 2. Processing: events processed, enrollments, messages, outbox, journey events, executions.
  await client.query('BEGIN');
  await client.query(
    `UPDATE events SET status = 'processed', processed_at = to_timestamp($2) WHERE id = ANY($1::text[])`,
    [eventIds, now],
  );
  await client.query(
    `INSERT INTO journey_enrollments (id, journey_id, journey_version, customer_id, status, stage,
       step_id, state, holdout, enrolled_at, updated_at)
     SELECT 'enr-' || c, 'crash_onboarding', 1, c, 'completed', 's9', NULL, '{"stage":"s9"}'::jsonb,
            false, to_timestamp($2), to_timestamp($2)
       FROM unnest($1::text[]) AS u(c)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, stage = excluded.stage,
       state = excluded.state, updated_at = excluded.updated_at`,
    [customers, now],
  );
  await client.query(
    `INSERT INTO messages (id, customer_id, journey_id, enrollment_id, step_id, channel, priority,
       status, content, idempotency_key, created_at, updated_at, send_at)
     SELECT id, c, 'crash_onboarding', 'enr-' || c, 'm1', 'in_app', 'normal', 'queued',
            '{"title":"step 1","body":"Message 1 of 10"}'::jsonb, 'k-' || id,
            to_timestamp($3), to_timestamp($3), to_timestamp($3)
       FROM unnest($1::text[], $2::text[]) AS u(id, c)`,
    [messageIds, messageIds.map((_, i) => customerOf(i)), now],
  );
  await client.query(
    `INSERT INTO outbox (kind, idempotency_key, payload, available_at, status, lane)
     SELECT 'message', key, '{"message_id":"m"}'::jsonb, to_timestamp($2), 'pending', 'in_app'
       FROM unnest($1::text[]) AS u(key)`,
    [outboxKeys, now],
  );
  await client.query(
    `INSERT INTO journey_events (type, journey_id, customer_id, occurred_at, data)
     SELECT 'step.completed', 'crash_onboarding', c, to_timestamp($2),
            '{"stage":"s1","step_id":"m1","channel":"in_app"}'::jsonb
       FROM unnest($1::text[]) AS u(c)`,
    [Array.from({ length: journeyEvents }, (_, i) => customerOf(i)), now],
  );
  if (executions > 0) {
    await client.query(
      `INSERT INTO trigger_executions (trigger_name, customer_id, event_seq, executed_at,
         processing_time_ms, fired)
       SELECT 'journey:crash_onboarding', c, 1, to_timestamp($2), 0.01, true
         FROM unnest($1::text[]) AS u(c)`,
      [Array.from({ length: executions }, (_, i) => customerOf(i)), now],
    );
  }
  if (decisions.length > 0) {
    await client.query(
      `INSERT INTO decisions (id, customer_id, kind, subject, at, explanation)
       SELECT id, 'c', 'journey', 'e', to_timestamp($2), '{}'::jsonb FROM unnest($1::text[]) AS u(id)`,
      [decisions, now],
    );
  }
  if (timers.length > 0) {
    // The wait's timeout timer of each stage: set, then cancelled when the awaited event came.
    await client.query(
      `INSERT INTO timers (id, customer_id, enrollment_id, kind, due_at, payload, status)
       SELECT id, c, 'enr-' || c, 'wait_timeout', to_timestamp($3) + interval '30 days',
              '{"step":"s1.1"}'::jsonb, 'pending'
         FROM unnest($1::text[], $2::text[]) AS u(id, c)`,
      [timers, timers.map((_, i) => customerOf(i)), now],
    );
    await client.query(`UPDATE timers SET status = 'cancelled' WHERE id = ANY($1::text[])`, [
      timers,
    ]);
  }
  await client.query('COMMIT');
  // 3. Delivery: messages delivered, outbox entries done.
  await client.query('BEGIN');
  await client.query(
    `UPDATE messages SET status = 'delivered', sent_at = to_timestamp($2), updated_at = to_timestamp($2),
       attempts = 1, provider = 'internal', provider_message_id = id WHERE id = ANY($1::text[])`,
    [messageIds, now],
  );
  await client.query(`UPDATE outbox SET status = 'done' WHERE idempotency_key = ANY($1::text[])`, [
    outboxKeys,
  ]);
  await client.query('COMMIT');
}

/** How a run is named in the table. */
function label(run: { workers: number; batchEvents: number | null }): string {
  const processes = `${run.workers} worker process${run.workers === 1 ? '' : 'es'}`;
  return run.batchEvents === null ? processes : `${processes}, --batch-events ${run.batchEvents}`;
}

export const scaleoutBenchmark: Benchmark = {
  name: 'scaleout',
  description:
    'PostgreSQL: events/s end to end with 1, 2 and 4 waymark worker processes, against the raw set-based ceiling for the same rows',
  async run(options): Promise<BenchmarkReport> {
    const quick = options.samples !== undefined && options.samples < 5;
    const customers = quick ? 1_000 : 5_000;
    try {
      await withServer((client) => client.query('SELECT 1'), SERVER);
    } catch (error) {
      return {
        tables: [],
        checks: [
          {
            // Skipped, not failed, unless PostgreSQL is required: `npm run bench` on a laptop
            // without it still judges the other benchmarks.
            name: 'PostgreSQL reachable',
            passed: process.env['WAYMARK_REQUIRE_POSTGRES'] !== '1',
            detail: `skipped: ${SERVER}: ${String(error)} (set WAYMARK_BENCH_DATABASE_URL)`,
          },
        ],
        data: null,
      };
    }
    const server = await withServer(async (client) => {
      const rows = await client.query<{ server_version: string }>('SHOW server_version');
      return rows.rows[0]?.server_version ?? 'unknown';
    }, SERVER);
    const runs: EndToEnd[] = [];
    for (const run of RUNS) {
      runs.push(await endToEnd(run.workers, run.batchEvents, customers));
      process.stdout.write(
        `  ${label(run)}: ${formatRate(runs.at(-1)?.perSecond ?? 0)} events/s\n`,
      );
    }
    const counts = runs[0]?.counts;
    if (counts === undefined) throw new Error('no run');
    const ceilings = [await ceiling(counts, 1), await ceiling(counts, 2)];
    const best = Math.max(...ceilings.map((c) => c.perSecond));
    const two = runs.find((run) => run.workers === 2 && run.batchEvents === null);
    const perEvent = (total: number) => (total / counts.events).toFixed(2);
    const cpuText = (value: number | null) => (value === null ? '—' : value.toFixed(2));
    const rows = runs.map((run) => [
      label(run),
      run.events.toLocaleString('en-US'),
      run.seconds.toFixed(2),
      run.appendSeconds.toFixed(2),
      formatRate(run.perSecond),
      `${Math.round((run.perSecond / best) * 100)}%`,
      `${cpuText(run.cpu.workers)} / ${cpuText(run.cpu.database)} / ${cpuText(run.cpu.appender)}`,
    ]);
    rows.push(
      ...ceilings.map(({ perSecond: rate, cpu }, i) => [
        `ceiling: set-based SQL, ${i + 1} connection${i === 0 ? '' : 's'}`,
        counts.events.toLocaleString('en-US'),
        (counts.events / rate).toFixed(2),
        '',
        formatRate(rate),
        `${Math.round((rate / best) * 100)}%`,
        `— / ${cpuText(cpu.database)} / ${cpuText(cpu.appender)}`,
      ]),
    );
    const checks: ReportCheck[] = runs.flatMap((run) => run.checks);
    return {
      tables: [
        {
          title: `Scale-out on PostgreSQL ${server}: ${customers.toLocaleString('en-US')} customers × ${STEPS} events, ${cpus().length} cores shared by the workers, PostgreSQL and the appender`,
          columns: [
            'Run',
            'Events',
            'Seconds',
            'of which appending',
            'Events/s',
            'of the ceiling',
            'CPU s per 1,000 events: workers / PostgreSQL / appender',
          ],
          rows,
          notes: [
            `Rows per event (from the 1-worker run, written by the ceiling too): ${perEvent(counts.enrollments)} enrollments, ${perEvent(counts.messages)} messages, ${perEvent(counts.outbox)} outbox entries, ${perEvent(counts.journeyEvents)} journey events, ${perEvent(counts.triggerExecutions)} trigger executions, ${perEvent(counts.decisions)} decisions, ${perEvent(counts.timers)} timers.`,
            "CPU per process from /proc (PostgreSQL: the server processes of the run's database, the appender's connections included). On a machine shared with other work it is the steadier measure: on an idle machine, events/s is at most cores / (the three added up) × 1,000.",
            `Goal (issue #7): ≥ 8,000 events/s with 2 workers and ≥ 40% of the ceiling; measured ${formatRate(two?.perSecond ?? 0)} events/s, ${Math.round(((two?.perSecond ?? 0) / best) * 100)}%.`,
            ...PUBLISHED.map(
              ([name, figure, where]) =>
                `${name} (published figure quoted in issue #7, not measured here): ${figure} ${where}.`,
            ),
          ],
        },
      ],
      checks,
      data: { customers, server, runs, ceilings },
    };
  },
};

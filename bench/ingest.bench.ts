/**
 * End-to-end ingestion: `customer.created` events posted to a real `waymark serve` process (the
 * example project, embedded SQLite) in batches of 500 over two connections, timed until
 * `journey_enrollments_total{journey_id="onboarding_v2"}` reaches the number of customers — every
 * event parsed, stored, claimed, run through triggers, rules and the onboarding journey (enrollment,
 * in-app welcome, a durable wait timer), committed, and its journey events published.
 *
 * In the same run: the raw SQLite ceiling, plain batched inserts of the same rows (one transaction
 * per 500, one prepared statement) into a table with the same indexes as the event log; and the
 * same-rows ceiling, plain batched inserts of every row the run wrote (about twelve per event) into
 * Waymark's own schema — the cost of the audit trail alone, without the engine. The server runs in
 * its own process; its resident memory is sampled as enrollments grow.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  formatRate,
  type Benchmark,
  type BenchmarkReport,
  type MeasureOptions,
} from './harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BATCH = 500;
const CONNECTIONS = 2;

function customerEvent(i: number): Record<string, unknown> {
  return {
    type: 'customer.created',
    customer_id: `cust-${i}`,
    idempotency_key: `bench-created-${i}`,
    timestamp: '2026-03-02T12:00:00Z',
    properties: {
      type: i % 10 === 0 ? 'paid_annual' : 'paid',
      first_name: `Name${i}`,
      health_score: 40 + (i % 60),
      arr: 5000 + (i % 50) * 1000,
      usage_percentage: i % 100,
      csm_id: `csm-${i % 40}`,
    },
  };
}

/** Plain batched inserts of the same rows: the ceiling the engine is measured against. */
function rawSqliteCeiling(count: number, dir: string): number {
  const db = new Database(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, idempotency_key TEXT UNIQUE,
    customer_id TEXT NOT NULL, type TEXT NOT NULL, occurred_at INTEGER, received_at INTEGER, payload TEXT,
    status TEXT NOT NULL DEFAULT 'pending');
    CREATE INDEX events_pending ON events (status, customer_id, seq);`);
  const insert = db.prepare(
    'INSERT INTO events (id, idempotency_key, customer_id, type, occurred_at, received_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertBatch = db.transaction((rows: Record<string, unknown>[], base: number) => {
    rows.forEach((row, j) => {
      insert.run(
        `evt-${base + j}`,
        row['idempotency_key'],
        row['customer_id'],
        row['type'],
        Date.parse(String(row['timestamp'])),
        Date.now(),
        JSON.stringify(row['properties']),
      );
    });
  });
  const started = performance.now();
  for (let i = 0; i < count; i += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => customerEvent(i + j));
    insertBatch(rows, i);
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return count / seconds;
}

/**
 * The ceiling for the work the engine must do: every row the run left in its database (the
 * profile, the event, the enrollment, its timer and message, the journey events, trigger
 * executions, rule fires and decisions), inserted again with plain batched inserts (one
 * transaction per 500 events' worth of rows, one prepared statement per table) into a fresh
 * database with Waymark's own schema and indexes. Reads the run's database while the server idles.
 */
function sameRowsCeiling(
  count: number,
  dir: string,
): {
  perSecond: number;
  rowsPerEvent: number;
  /** Rows per event and microseconds spent inserting them per event, by table. */
  tables: Record<string, { rows: number; micros: number }>;
} {
  const source = new Database(join(dir, 'waymark.sqlite'), { readonly: true });
  const target = new Database(join(dir, 'same-rows.sqlite'));
  try {
    target.pragma('journal_mode = WAL');
    target.pragma('synchronous = NORMAL');
    target.pragma('cache_size = -65536');
    target.pragma('foreign_keys = ON');
    const schema = source
      .prepare(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
      )
      .pluck()
      .all() as string[];
    for (const statement of schema) target.exec(statement);
    const names = source
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
      )
      .pluck()
      .all() as string[];
    // Tables that grow with the events (configuration, cursors and leases do not).
    const tables = names
      .map((name) => {
        const select = source.prepare(`SELECT * FROM "${name}"`).raw();
        const columns = select.columns().map((c) => c.name);
        return { name, columns, rows: select.all() as unknown[][] };
      })
      .filter((t) => t.rows.length >= count / 10);
    const inserts = tables.map((t) =>
      target.prepare(
        `INSERT INTO "${t.name}" (${t.columns.map((c) => `"${c}"`).join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`,
      ),
    );
    const batches = Math.ceil(count / BATCH);
    // Time spent inserting each table's rows (the commit itself is in the total only).
    const spent = tables.map(() => 0);
    const insertBatch = target.transaction((b: number) => {
      tables.forEach((t, i) => {
        const from = Math.floor((b * t.rows.length) / batches);
        const to = Math.floor(((b + 1) * t.rows.length) / batches);
        const tableStarted = performance.now();
        for (let r = from; r < to; r++) inserts[i]?.run(t.rows[r]);
        spent[i] = (spent[i] ?? 0) + performance.now() - tableStarted;
      });
    });
    const started = performance.now();
    for (let b = 0; b < batches; b++) insertBatch(b);
    const seconds = (performance.now() - started) / 1000;
    const rows = tables.reduce((sum, t) => sum + t.rows.length, 0);
    return {
      perSecond: count / seconds,
      rowsPerEvent: rows / count,
      tables: Object.fromEntries(
        tables.map((t, i) => [
          t.name,
          { rows: t.rows.length / count, micros: ((spent[i] ?? 0) * 1000) / count },
        ]),
      ),
    };
  } finally {
    source.close();
    target.close();
  }
}

async function waitForServer(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

async function enrollments(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^journey_enrollments_total\{journey_id="onboarding_v2"\} (\d+)/mu.exec(text);
  return match ? Number(match[1]) : 0;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/u.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function run(options: MeasureOptions): Promise<BenchmarkReport> {
  const quick = options.samples !== undefined && options.samples < 5;
  // WAYMARK_BENCH_EVENTS sets another count, e.g. to see where resident memory levels off.
  const count = Number(process.env['WAYMARK_BENCH_EVENTS'] ?? (quick ? 10_000 : 100_000));
  if (!Number.isInteger(count) || count < 1_000) {
    throw new Error(`WAYMARK_BENCH_EVENTS: expected a whole number of at least 1000, got ${count}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'waymark-ingest-'));
  const port = 3900 + Math.floor(Math.random() * 50);
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      // e.g. WAYMARK_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server
      ...(process.env['WAYMARK_BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
      'bin/waymark.js',
      'serve',
      '--config',
      'examples/customer-success',
      '--data',
      dir,
      '--port',
      String(port),
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    await waitForServer(url, child);
    const pid = child.pid ?? 0;
    const batches: string[] = [];
    for (let i = 0; i < count; i += BATCH) {
      const events = Array.from({ length: Math.min(BATCH, count - i) }, (_, j) =>
        customerEvent(i + j),
      );
      batches.push(JSON.stringify({ events }));
    }
    const memory: [number, number][] = [[0, rssMiB(pid)]];
    const started = performance.now();
    let next = 0;
    let postedAt = 0;
    const connection = async () => {
      while (next < batches.length) {
        const body = batches[next++];
        const r = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        if (r.status !== 202)
          throw new Error(`POST /v1/events answered ${r.status}: ${await r.text()}`);
      }
    };
    const posting = Promise.all(Array.from({ length: CONNECTIONS }, connection)).then(() => {
      postedAt = performance.now();
    });
    let enrolled = 0;
    let lastMark = 0;
    while (enrolled < count) {
      await new Promise((r) => setTimeout(r, 100));
      enrolled = await enrollments(url);
      if (enrolled - lastMark >= count / 8) {
        lastMark = enrolled;
        memory.push([enrolled, rssMiB(pid)]);
      }
      if (performance.now() - started > 600_000)
        throw new Error(`only ${enrolled} enrolled after 10 min`);
    }
    await posting;
    const seconds = (performance.now() - started) / 1000;
    const endToEnd = count / seconds;
    const acceptRate = count / ((postedAt - started) / 1000);
    const ceiling = rawSqliteCeiling(count, dir);
    const sameRows = sameRowsCeiling(count, dir);
    const share = (rate: number, of: number) => `${Math.round((rate / of) * 100)}%`;
    const rows = [
      ['Raw SQLite ceiling (batched inserts of the same rows)', formatRate(ceiling), '100%', '—'],
      [
        `Same-rows ceiling (batched inserts of the run's ${sameRows.rowsPerEvent.toFixed(1)} rows per event)`,
        formatRate(sameRows.perSecond),
        share(sameRows.perSecond, ceiling),
        '100%',
      ],
      [
        'Waymark: accepted by POST /v1/events (durable, 202)',
        formatRate(acceptRate),
        share(acceptRate, ceiling),
        share(acceptRate, sameRows.perSecond),
      ],
      [
        'Waymark: end to end, until enrolled in onboarding_v2',
        formatRate(endToEnd),
        share(endToEnd, ceiling),
        share(endToEnd, sameRows.perSecond),
      ],
      ['graphile-worker (published, unbatched jobs/s)', '15.6k', '—', '—'],
    ];
    return {
      checks: [
        {
          name: 'every event enrolled',
          passed: enrolled === count,
          detail: `${enrolled} of ${count} enrolled in onboarding_v2`,
        },
      ],
      tables: [
        {
          title: `Ingestion end to end: ${count.toLocaleString('en-US')} customer.created events, batches of ${BATCH}, ${CONNECTIONS} connections`,
          columns: ['What', 'events/s', 'of raw ceiling', 'of same-rows ceiling'],
          rows,
          notes: [
            `Total ${seconds.toFixed(1)} s. Server resident memory (MiB) by enrollments: ${memory
              .map(([n, mib]) => `${n.toLocaleString('en-US')} → ${mib}`)
              .join(', ')}.`,
            `Same-rows ceiling, ${(1e6 / sameRows.perSecond).toFixed(1)} µs per event in all; rows per event and µs per event inserting them, by table: ${Object.entries(
              sameRows.tables,
            )
              .map(([table, t]) => `${table} ${t.rows.toFixed(1)} (${t.micros.toFixed(1)} µs)`)
              .join(', ')}; each table with Waymark's indexes, the rest is committing.`,
            'The server is a separate `waymark serve` process on the same 2 cores as the load generator.',
          ],
        },
      ],
      data: { count, seconds, endToEnd, acceptRate, ceiling, sameRows, memory },
    };
  } catch (error) {
    throw new Error(`${(error as Error).message}\nserver stderr (tail): ${stderr.slice(-2000)}`);
  } finally {
    // Wait for a clean exit (a --cpu-prof profile is written only then), but not forever.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The end-to-end ingestion benchmark (issue: engine core). */
export const ingestBenchmark: Benchmark = {
  name: 'ingest',
  description: 'customer.created events over HTTP until enrolled, vs the raw SQLite insert ceiling',
  run,
};

/**
 * Schedules at scale (issue: time): 1,000,000 customers (100,000 with --quick) spread over every
 * IANA zone, on a daily 09:00 schedule in each customer's own zone, on the embedded store.
 *
 * 1. Plan: the planner gives every imported customer its first fire — a durable timer each.
 *    Side by side: what planning costs with croner asked once per customer (the obvious way, and
 *    what in-process schedulers do), measured on a sample and extrapolated.
 * 2. Fire in virtual time: the clock jumps a day; every timer is due; timers fired per second
 *    (each fire checks the trigger's condition, records the execution, runs the action for those
 *    that match, and plans the next fire).
 * 3. Lag in real time: a fresh store of as many scheduled customers, whose zones come due one
 *    after another at 20,000 customers per second against the system clock, with the worker
 *    running as in `waymark serve`; lag from due time to the start of the batch that fires it.
 * Resident memory is sampled throughout.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cron } from 'croner';
import { loadConfigFromString } from '../src/config/index.js';
import { systemClock, VirtualClock, type CustomerRecord } from '../src/core/index.js';
import { Engine } from '../src/engine/index.js';
import { openStore, SQLITE_FILE_NAME } from '../src/store/index.js';
import {
  formatRate,
  type Benchmark,
  type BenchmarkReport,
  type MeasureOptions,
} from './harness.js';

const CONFIG = loadConfigFromString(
  `
schedules:
  - { name: Daily, cron: "0 9 * * *", timezone: customer.timezone }
triggers:
  - name: Check-in
    schedule: Daily
    conditions: [{ field: health_score, operator: lt, value: 20 }]
    action: create_task
`,
  'timers-bench.yaml',
);

const ZONES = Intl.supportedValuesOf('timeZone');
const START = Date.parse('2026-06-01T00:30:00Z');
const LAG_RATE = 20_000;

/** Resident MiB, and the V8 heap in use after a full GC (the engine's own state), as `rss/heap`. */
function rssMiB(): string {
  const kb = Number(/VmRSS:\s+(\d+)/u.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  (globalThis as { gc?: () => void }).gc?.();
  return `${Math.round(kb / 1024)}/${Math.round(process.memoryUsage().heapUsed / 2 ** 20)}`;
}

function customers(from: number, count: number): CustomerRecord[] {
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    return {
      id: `c${String(i).padStart(8, '0')}`,
      attributes: { timezone: ZONES[i % ZONES.length] ?? 'UTC', health_score: i % 100 },
      createdAt: START,
      updatedAt: START,
    };
  });
}

function zoneOf(customer: CustomerRecord): string {
  const zone = customer.attributes['timezone'];
  return typeof zone === 'string' ? zone : 'UTC';
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function run(options: MeasureOptions): Promise<BenchmarkReport> {
  const quick = options.samples !== undefined && options.samples < 5;
  const count = quick ? 100_000 : 1_000_000;
  const lagCount = quick ? 40_000 : 200_000;
  const dir = mkdtempSync(join(tmpdir(), 'waymark-timers-'));
  const memory: [string, string][] = [['start', rssMiB()]];
  try {
    // ---- 1. plan -------------------------------------------------------------------------
    const clock = new VirtualClock(START);
    const store = await openStore({ dataDir: dir });
    const engine = await Engine.open({ config: CONFIG, store, clock });
    for (let i = 0; i < count; i += 10_000) {
      await store.upsertCustomers(customers(i, Math.min(10_000, count - i)));
    }
    memory.push(['imported', rssMiB()]);
    let started = performance.now();
    const planned = await engine.planSchedules(clock.now());
    const planSeconds = (performance.now() - started) / 1000;
    memory.push(['planned', rssMiB()]);

    // The peer way: croner asked per customer, with the customer's zone. A sample, extrapolated.
    const sample = Math.min(5_000, count);
    started = performance.now();
    for (const customer of customers(0, sample)) {
      const cron = new Cron('0 9 * * *', {
        timezone: zoneOf(customer),
        paused: true,
      });
      cron.nextRun(new Date(START));
    }
    const cronerPerCustomerMs = (performance.now() - started) / sample;

    // ---- 2. fire in virtual time -----------------------------------------------------------
    clock.set(START + 86_400_000);
    started = performance.now();
    const fired = await engine.runUntilIdle();
    const fireSeconds = (performance.now() - started) / 1000;
    memory.push(['fired', rssMiB()]);
    const tasks = (await store.listTasks({ limit: 1 })).length;
    await engine.close();

    // ---- 3. lag in real time at 20,000 due per second ---------------------------------------
    const lagDir = join(dir, 'lag');
    const lagStore = await openStore({ dataDir: lagDir });
    const lagEngine = await Engine.open({ config: CONFIG, store: lagStore, clock: systemClock });
    // The whole population is scheduled, as in phases 1 and 2: the lag-run timers are due now,
    // the rest tomorrow, so the due index and the tables the worker reads are as deep as there.
    for (let i = 0; i < count; i += 10_000) {
      await lagStore.upsertCustomers(customers(i, Math.min(10_000, count - i)));
    }
    const tomorrow = Date.now() + 86_400_000;
    const plansOf = (from: number, size: number, dueAt: (i: number) => number) =>
      customers(from, size).map((customer, j) => {
        const timerId = `lag-${customer.id}`;
        return {
          plan: {
            customerId: customer.id,
            triggerName: 'Check-in',
            timerId,
            anchor: zoneOf(customer),
            firedAnchor: null,
          },
          timer: {
            id: timerId,
            customerId: customer.id,
            enrollmentId: null,
            kind: 'schedule' as const,
            dueAt: dueAt(from + j),
            payload: { trigger: 'Check-in' },
            status: 'pending' as const,
          },
        };
      });
    // As the schedule itself does it: whole zones come due together, one instant per zone, their
    // customers scattered over the tables (every 418th row). The first zones (a fifth of the
    // customers) come due one after another at 20,000 customers per second; the rest tomorrow.
    const lagZones = Math.round((ZONES.length * lagCount) / count);
    const perZone = count / ZONES.length;
    const firstDue = Date.now() + (quick ? 5_000 : 30_000);
    const dueOf = new Map<string, number>();
    for (let i = 0; i < count; i += 10_000) {
      const entries = plansOf(i, Math.min(10_000, count - i), (n) => {
        const zone = n % ZONES.length;
        return zone < lagZones
          ? firstDue + Math.floor((zone * perZone * 1000) / LAG_RATE)
          : tomorrow;
      });
      for (const e of entries) {
        if (e.timer.dueAt < tomorrow) dueOf.set(e.plan.customerId, e.timer.dueAt);
      }
      await lagStore.addSchedulePlans(entries);
    }
    if (Date.now() > firstDue - 1_000) throw new Error('the lag run was set up too slowly');
    lagEngine.start();
    const deadline = Date.now() + 600_000;
    const db = (await import('better-sqlite3')).default(join(lagDir, SQLITE_FILE_NAME), {
      readonly: true,
    });
    // Timers are reused for the next day's fire, so the lag is read from the executions: one per
    // customer, at the start of the batch that fired it, against the due time set above.
    // Waiting polls a count (an index range), not the rows: the benchmark shares its event loop
    // with the worker it measures.
    const firedCount = db.prepare<[], { n: number }>(
      `SELECT COUNT(*) AS n FROM trigger_executions WHERE trigger_name = 'Check-in'`,
    );
    while ((firedCount.get()?.n ?? 0) < dueOf.size && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
    }
    const lags = db
      .prepare<[], { customer_id: string; executed_at: number }>(
        `SELECT customer_id, executed_at FROM trigger_executions WHERE trigger_name = 'Check-in'`,
      )
      .all()
      .map((r) => r.executed_at - (dueOf.get(r.customer_id) ?? 0))
      .sort((a, b) => a - b);
    memory.push(['lag run', rssMiB()]);
    db.close();
    await lagEngine.close();

    const fireRate = fired.timers / fireSeconds;
    return {
      checks: [
        {
          name: 'every customer planned once',
          passed: planned === count,
          detail: `${planned} of ${count}`,
        },
        {
          name: 'every due timer fired once',
          passed: fired.timers === count,
          detail: `${fired.timers} of ${count} (${tasks > 0 ? 'tasks created' : 'no tasks'})`,
        },
        {
          name: 'every lag-run timer fired',
          passed: lags.length === dueOf.size,
          detail: `${lags.length} of ${dueOf.size}`,
        },
      ],
      tables: [
        {
          title: `Schedules: ${count.toLocaleString('en-US')} customers in ${ZONES.length} zones, daily 09:00 in each customer's zone`,
          columns: ['What', 'result', 'goal'],
          rows: [
            [
              'Plan every customer (durable timer each)',
              `${planSeconds.toFixed(1)} s (${formatRate(count / planSeconds)}/s)`,
              '< 30 s for 1M',
            ],
            [
              'Peer way: croner per customer, extrapolated',
              `${((cronerPerCustomerMs * count) / 1000).toFixed(0)} s (${formatRate(1000 / cronerPerCustomerMs)}/s)`,
              '—',
            ],
            ['Fire in virtual time', `${formatRate(fireRate)} timers/s`, '≥ 20,000/s'],
            [
              `Lag at ${LAG_RATE.toLocaleString('en-US')} due/s, real time, p50 / p99`,
              `${percentile(lags, 50)} ms / ${percentile(lags, 99)} ms`,
              'p99 < 1 s',
            ],
          ],
          notes: [
            `Planning is ${((cronerPerCustomerMs * count) / 1000 / planSeconds).toFixed(0)}× faster than asking croner per customer: next fires are computed once per zone and minute.`,
            `Lag run: a fresh store of ${count.toLocaleString('en-US')} scheduled customers, ${lags.length.toLocaleString('en-US')} of them in ${lagZones} zones due zone by zone at ${LAG_RATE.toLocaleString('en-US')}/s and the rest the next day; lag is due time to the start of the batch that fires it.`,
            `Memory, resident/V8 heap after GC (MiB): ${memory.map(([at, mib]) => `${at} ${mib}`).join(', ')}.`,
          ],
        },
      ],
      data: { count, planSeconds, cronerPerCustomerMs, fireRate, lags: lags.length, memory },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Schedules at scale: planning, firing and lag (issue: time). */
export const timersBenchmark: Benchmark = {
  name: 'timers',
  description: '1M customers on a per-zone daily schedule: plan, fire, lag',
  run,
};

/**
 * What only a shared database has to get right: several processes (here several stores, each with
 * its own connection pool) claiming, appending, committing and reading at the same time.
 *
 * The interleaving tests hold one transaction open at a chosen point with a test-only trigger that
 * waits on an advisory lock the test holds (`stallOn`), then run another transaction past it: the
 * order of events is forced, not hoped for, and no test waits on a clock.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { emptyWorkResult } from '../contract.js';
import type { ClaimOptions, JourneyEventRecord, NewEvent, Store, WorkBatch } from '../contract.js';
import type { PostgresStore } from './postgres-store.js';
import { createTestDatabase } from '../../../test/support/index.js';

const T0 = Date.UTC(2026, 0, 1);

const database = await createTestDatabase();
const available = typeof database !== 'string';
if (!available) console.warn(`skipping the PostgreSQL concurrency tests: ${database}`);

function event(customerId: string, payload: Record<string, boolean | number> = {}): NewEvent {
  return { type: 'feature.used', customerId, occurredAt: T0, payload };
}

function claim(overrides: Partial<ClaimOptions> = {}): ClaimOptions {
  return { now: T0, maxEvents: 100, maxTimers: 100, workerId: 'w', leaseMs: 60_000, ...overrides };
}

function journeyEvent(data: Record<string, boolean | number>): JourneyEventRecord {
  return {
    type: 'journey.enrolled',
    journeyId: 'onboarding',
    customerId: 'x',
    timestamp: T0,
    data,
  };
}

function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('expected a value, got nothing');
  return value;
}

async function commitAll(store: Store, batch: WorkBatch, extra = {}): Promise<void> {
  await store.commitWork(batch, {
    ...emptyWorkResult(),
    processedEventSeqs: batch.customers.flatMap((c) => c.events.map((e) => e.seq)),
    ...extra,
  });
}

/** Resolves once `check` holds; the test's own timeout bounds the wait. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe.skipIf(!available)('PostgresStore under concurrency', () => {
  const db = typeof database === 'string' ? null : database;
  const opened: PostgresStore[] = [];
  /** Releases of the gates still closed, so a failed test cannot leave the next one stalled. */
  const gates = new Set<() => Promise<void>>();
  let gateKeys = 4242;
  let main: PostgresStore;
  let schema: string;

  /** Another process on the same data: a store with a pool of its own. */
  function peer(): PostgresStore {
    const store = must(db).reopenStore(schema);
    opened.push(store);
    return store;
  }

  /** Advisory-lock waits in this test database that have not been granted yet. */
  async function waitingForLocks(): Promise<number> {
    const rows = await main.query<{ waiting: number }>(
      `SELECT COUNT(*) AS waiting FROM pg_locks l JOIN pg_database d ON d.oid = l.database
        WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()`,
    );
    return rows[0]?.waiting ?? 0;
  }

  /**
   * Makes inserts into `table` whose row mentions `"stall": true` wait until the returned release
   * is called (the gate is an advisory lock held by a connection of the test's own).
   */
  async function stallOn(table: string): Promise<() => Promise<void>> {
    const key = ++gateKeys;
    const gate = await must(db).connect();
    await gate.query(`SET search_path = ${schema}`);
    await gate.query(`
      CREATE OR REPLACE FUNCTION stall_marked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF to_jsonb(NEW)::text LIKE '%"stall": true%' THEN
          PERFORM pg_advisory_lock_shared(${key});
          PERFORM pg_advisory_unlock_shared(${key});
        END IF;
        RETURN NEW;
      END $$`);
    await gate.query(
      `CREATE TRIGGER stall_${table} BEFORE INSERT ON ${table}
         FOR EACH ROW EXECUTE FUNCTION stall_marked()`,
    );
    await gate.query(`SELECT pg_advisory_lock(${key})`);
    const release = async () => {
      if (!gates.delete(release)) return;
      await gate.query(`SELECT pg_advisory_unlock(${key})`);
      await gate.end();
    };
    gates.add(release);
    return release;
  }

  beforeEach(async () => {
    main = must(db).openStore();
    opened.push(main);
    await main.migrate();
    schema = must(main.schema);
  });

  afterEach(async () => {
    for (const release of [...gates]) await release();
  });

  afterAll(async () => {
    for (const store of opened) await store.close();
    await db?.drop();
  });

  it('never lets two claimers hold one customer, and processes every event once and in order', async () => {
    const customers = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const appenders = [peer(), peer(), peer()];
    const workers = [peer(), peer(), peer(), peer()];
    const appended = new Map<string, number[]>();
    const processed = new Map<string, number[]>();
    const held = new Set<string>();
    let appending = true;
    let batches = 0;

    // Appenders send small batches for random customers, several appenders per customer at once.
    const appends = appenders.map(async (store, a) => {
      for (let round = 0; round < 40; round++) {
        const owners = Array.from(
          { length: 5 },
          (_, i) => customers[(round * 7 + i * 11 + a * 13) % customers.length] ?? 'c0',
        );
        const results = await store.appendEvents(
          owners.map((owner) => event(owner)),
          T0,
        );
        results.forEach((result, i) => {
          const owner = owners[i] ?? '';
          appended.set(owner, [...(appended.get(owner) ?? []), result.seq]);
        });
      }
    });
    const work = workers.map(async (store, w) => {
      for (;;) {
        const batch = await store.claimWork(claim({ maxEvents: 7, workerId: `w${w}` }));
        if (batch === null) {
          if (!appending && (await store.pendingEventCount()) === 0) return;
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        batches += 1;
        for (const customer of batch.customers) {
          // The heart of it: nobody else holds this customer right now.
          expect(held.has(customer.customerId)).toBe(false);
          held.add(customer.customerId);
          const before = processed.get(customer.customerId) ?? [];
          const seqs = customer.events.map((e) => e.seq);
          // In seq order, and after everything this customer had processed before.
          expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
          expect(seqs.every((seq) => seq > (before.at(-1) ?? 0))).toBe(true);
          processed.set(customer.customerId, [...before, ...seqs]);
        }
        for (const customer of batch.customers) held.delete(customer.customerId);
        await commitAll(store, batch);
      }
    });
    await Promise.all(appends);
    appending = false;
    await Promise.all(work);

    expect(batches).toBeGreaterThan(10);
    for (const customer of customers) {
      // Every appended event processed exactly once, in the order of its seq.
      const expected = [...(appended.get(customer) ?? [])].sort((x, y) => x - y);
      expect(processed.get(customer) ?? []).toEqual(expected);
    }
  });

  it('gives a dead worker’s customers to another process once the lease expires, and refuses its late commit', async () => {
    const dying = peer();
    const survivor = peer();
    await main.appendEvents([event('a'), event('b')], T0);
    const first = must(await dying.claimWork(claim({ leaseMs: 1_000 })));
    await dying.close();
    expect(await survivor.claimWork(claim({ now: T0 + 999 }))).toBeNull();
    const takeover = must(await survivor.claimWork(claim({ now: T0 + 1_000 })));
    expect(takeover.customers.map((c) => c.customerId)).toEqual(['a', 'b']);
    expect(takeover.customers.map((c) => c.events.map((e) => e.seq))).toEqual(
      first.customers.map((c) => c.events.map((e) => e.seq)),
    );
    // The dead worker's batch, committed by anyone, is refused: it would process the events twice.
    await expect(commitAll(main, first)).rejects.toMatchObject({ code: 'STORE_LEASE_LOST' });
    await commitAll(survivor, takeover);
    expect(await main.pendingEventCount()).toBe(0);
  });

  it('never hands out a customer whose earlier event is still being appended', async () => {
    const slow = peer();
    const fast = peer();
    const claimer = peer();
    // The customer is known already (its lease row exists), as most customers are.
    await main.appendEvents([event('x')], T0);
    await commitAll(main, must(await main.claimWork(claim())));
    const release = await stallOn('events');
    const slowAppend = slow.appendEvents([event('x', { stall: true })], T0);
    await until(async () => (await waitingForLocks()) === 1);
    // A second append of the same customer commits a later seq while the first is in flight.
    const [later] = await fast.appendEvents([event('x')], T0);
    expect(await claimer.claimWork(claim())).toBeNull();
    await release();
    const [earlier] = await slowAppend;
    expect(must(earlier).seq).toBeLessThan(must(later).seq);
    const batch = must(await claimer.claimWork(claim()));
    expect(batch.customers[0]?.events.map((e) => e.seq)).toEqual([
      must(earlier).seq,
      must(later).seq,
    ]);
  });

  it('never lets a journey-event cursor pass a row that commits late', async () => {
    const first = peer();
    const second = peer();
    const reader = peer();
    await main.appendEvents([event('x'), event('y')], T0);
    const batchX = must(await first.claimWork(claim({ maxEvents: 1 })));
    const batchY = must(await second.claimWork(claim({ maxEvents: 1 })));
    const release = await stallOn('journey_events');
    // The first commit holds its journey event uncommitted; the second would commit a later seq.
    const commitX = commitAll(first, batchX, {
      journeyEvents: [journeyEvent({ stall: true, n: 1 })],
    });
    await until(async () => (await waitingForLocks()) === 1);
    let committedY = false;
    const commitY = commitAll(second, batchY, { journeyEvents: [journeyEvent({ n: 2 })] }).then(
      () => {
        committedY = true;
      },
    );
    // It queues behind the first on the journey-events commit lock (or, were there none, commits).
    await until(async () => committedY || (await waitingForLocks()) === 2);
    // A reader sees neither yet, so a cursor cannot move past the first one's seq.
    const early = await reader.readJourneyEventsFor('sink', 10);
    expect(early).toEqual([]);
    await release();
    await Promise.all([commitX, commitY]);
    const events = await reader.readJourneyEventsFor('sink', 10);
    expect(events.map((e) => e.data['n'])).toEqual([1, 2]);
    await reader.advanceCursor('sink', must(events.at(-1)?.seq));
    expect(await reader.readJourneyEventsFor('sink', 10)).toEqual([]);
  });

  it('claims an outbox entry whose transaction commits after a later one’s', async () => {
    const first = peer();
    const second = peer();
    const dispatcher = peer();
    await main.appendEvents([event('x'), event('y')], T0);
    const batchX = must(await first.claimWork(claim({ maxEvents: 1 })));
    const batchY = must(await second.claimWork(claim({ maxEvents: 1 })));
    const entry = (key: string, payload: Record<string, boolean>) => ({
      kind: 'webhook' as const,
      key,
      payload,
      availableAt: T0,
      attempts: 0,
      status: 'pending' as const,
    });
    const release = await stallOn('outbox');
    const commitX = commitAll(first, batchX, { outbox: [entry('early', { stall: true })] });
    await until(async () => (await waitingForLocks()) === 1);
    await commitAll(second, batchY, { outbox: [entry('late', {})] });
    const visible = await dispatcher.claimOutbox({ now: T0, limit: 10 });
    expect(visible.map((o) => o.key)).toEqual(['late']);
    await release();
    await commitX;
    const rest = await dispatcher.claimOutbox({ now: T0, limit: 10 });
    expect(rest.map((o) => o.key)).toEqual(['early']);
    expect(must(rest[0]?.seq)).toBeLessThan(must(visible[0]?.seq));
  });

  it('splits outbox entries between concurrent dispatchers without handing one out twice', async () => {
    const entries = Array.from({ length: 60 }, (_, i) => ({
      kind: 'message' as const,
      key: `m${i}`,
      payload: { i },
      availableAt: T0,
      attempts: 0,
      status: 'pending' as const,
      lane: i % 2 === 0 ? 'email' : 'sms',
    }));
    await main.appendEvents([event('x')], T0);
    await commitAll(main, must(await main.claimWork(claim())), { outbox: entries });
    const dispatchers = [peer(), peer(), peer()];
    const claimed = (
      await Promise.all(
        dispatchers.flatMap((d) =>
          [0, 1, 2, 3].map((i) =>
            i % 2 === 0
              ? d.claimOutbox({ now: T0, limit: 7 })
              : d.claimOutbox({ now: T0, limit: 7, lanes: ['email', 'sms'] }),
          ),
        ),
      )
    ).flat();
    const keys = claimed.map((o) => o.key);
    expect(new Set(keys).size).toBe(keys.length);
    const rest = await main.claimOutbox({ now: T0, limit: 100 });
    expect(keys.length + rest.length).toBe(60);
  });

  it('grants no more tokens than a bucket holds to processes taking at once', async () => {
    const stores = [peer(), peer(), peer(), peer()];
    const bucket = { name: 'email:per_hour', capacity: 50, windowMs: 3_600_000 };
    const grants = await Promise.all(
      stores.flatMap((store) =>
        Array.from({ length: 10 }, () => store.takeTokens([bucket], 3, T0)),
      ),
    );
    expect(grants.reduce((sum, n) => sum + n, 0)).toBe(50);
  });

  it('accepts one of two concurrent appends with the same idempotency key', async () => {
    const one = peer();
    const two = peer();
    const [a, b] = await Promise.all([
      one.appendEvents([{ ...event('x'), idempotencyKey: 'k' }], T0),
      two.appendEvents([{ ...event('x'), idempotencyKey: 'k' }], T0),
    ]);
    const results = [must(a[0]), must(b[0])];
    expect(results.map((r) => r.status).sort()).toEqual(['accepted', 'duplicate']);
    expect(results[0]?.seq).toBe(results[1]?.seq);
    expect(await main.pendingEventCount()).toBe(1);
  });

  it('versions a journey once when several processes start with the same definition', async () => {
    const saved = await Promise.all(
      [peer(), peer(), peer()].map((store) =>
        store.saveJourneyVersion('onboarding', { stages: [] }, 'h1', T0),
      ),
    );
    expect(saved.map((s) => s.version)).toEqual([1, 1, 1]);
    expect(saved.filter((s) => s.created)).toHaveLength(1);
  });
});

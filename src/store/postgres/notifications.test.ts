/**
 * Wake-ups across processes (`PostgresStore.watch`): one store listens, another (its own pool, as
 * another process would have) commits. Every wait is bounded by the test's timeout, never by a
 * clock threshold of its own.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { emptyWorkResult } from '../contract.js';
import type { OutboxEntry, StoreChange, StoreWatch } from '../contract.js';
import { changeChannels, outboxPayload, parseChange } from './notifications.js';
import type { PostgresStore } from './postgres-store.js';
import { createTestDatabase } from '../../../test/support/index.js';

const T0 = Date.UTC(2026, 0, 1);

const database = await createTestDatabase();
const available = typeof database !== 'string';
if (!available) console.warn(`skipping the PostgreSQL notification tests: ${database}`);

/** Resolves once `check` holds; the test's own timeout bounds the wait. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
}

function outboxEntry(key: string, kind: OutboxEntry['kind'], lane: string | null): OutboxEntry {
  return { kind, key, payload: {}, availableAt: T0, attempts: 0, status: 'pending', lane };
}

describe('change notifications (pure parts)', () => {
  it('gives each schema channels of its own, within the 63-byte identifier limit', () => {
    const plain = changeChannels(undefined);
    const a = changeChannels('store_1');
    const b = changeChannels('store_2');
    expect(plain).toEqual({ events: 'waymark_events', outbox: 'waymark_outbox' });
    expect(a.events).not.toBe(b.events);
    expect(changeChannels('x'.repeat(63)).outbox.length).toBeLessThan(64);
  });

  it('reads back the lanes and kinds it sent, and reads anything else as "look everywhere"', () => {
    const channels = changeChannels(undefined);
    const read = (payload: string) => parseChange(channels, channels.outbox, payload);
    expect(read(outboxPayload(['sms', 'email', 'sms'], false))).toEqual({
      kind: 'outbox',
      lanes: ['email', 'sms'],
      others: false,
    });
    expect(read(outboxPayload(null, true))).toEqual({ kind: 'outbox', lanes: null, others: true });
    expect(read(outboxPayload(['x'.repeat(8_000)], false))).toEqual({
      kind: 'outbox',
      lanes: null,
      others: false,
    });
    expect(read('not json')).toEqual({ kind: 'outbox', lanes: null, others: true });
    expect(parseChange(channels, channels.events, '')).toEqual({ kind: 'events' });
    expect(parseChange(channels, 'somebody_else', '')).toBeNull();
  });
});

describe.skipIf(!available)('PostgresStore.watch', () => {
  const db = typeof database === 'string' ? null : database;
  const opened: PostgresStore[] = [];
  const watches: StoreWatch[] = [];

  afterEach(async () => {
    for (const watch of watches.splice(0)) await watch.close();
    for (const store of opened.splice(0)) await store.close();
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** A store on a fresh schema, and a second one (another pool: another process) on the same. */
  async function twoProcesses(): Promise<[PostgresStore, PostgresStore]> {
    if (db === null) throw new Error('unreachable: skipped without a database');
    const first = db.openStore();
    await first.migrate();
    const second = db.reopenStore(first.schema ?? '');
    opened.push(first, second);
    return [first, second];
  }

  function listen(store: PostgresStore) {
    const heard: StoreChange[] = [];
    const states: boolean[] = [];
    const watch = store.watch(
      (change) => heard.push(change),
      (listening) => states.push(listening),
    );
    watches.push(watch);
    return { heard, states, watch };
  }

  it('hears appends and committed outbox entries of another process, only once they commit', async () => {
    const [listener, writer] = await twoProcesses();
    const { heard, watch } = listen(listener);
    await until(() => watch.listening);

    await writer.appendEvents(
      [{ type: 'signed_up', customerId: 'c1', occurredAt: T0, payload: {} }],
      T0,
    );
    await until(() => heard.length > 0);
    expect(heard).toEqual([{ kind: 'events' }]);

    const batch = await writer.claimWork({
      now: T0,
      maxEvents: 10,
      maxTimers: 10,
      workerId: 'w',
      leaseMs: 60_000,
    });
    if (batch === null) throw new Error('expected the appended event to be claimable');
    await writer.commitWork(batch, {
      ...emptyWorkResult(),
      processedEventSeqs: batch.customers.flatMap((c) => c.events.map((e) => e.seq)),
      outbox: [
        outboxEntry('m1', 'message', 'email'),
        outboxEntry('m2', 'message', 'sms'),
        outboxEntry('w1', 'webhook', null),
      ],
    });
    await until(() => heard.length > 1);
    expect(heard[1]).toEqual({ kind: 'outbox', lanes: ['email', 'sms'], others: true });

    // A commit refused (lease lost) notifies nobody: the notification belonged to its transaction.
    await expect(
      writer.commitWork(batch, {
        ...emptyWorkResult(),
        outbox: [outboxEntry('m3', 'message', 'email')],
      }),
    ).rejects.toMatchObject({ code: 'STORE_LEASE_LOST' });
    await writer.appendEvents(
      [{ type: 'signed_up', customerId: 'c2', occurredAt: T0, payload: {} }],
      T0,
    );
    await until(() => heard.length > 2);
    expect(heard.slice(2)).toEqual([{ kind: 'events' }]);
  });

  it('does not hear stores in other schemas of the same database', async () => {
    const [listener] = await twoProcesses();
    const [, elsewhere] = await twoProcesses();
    const { heard, watch } = listen(listener);
    await until(() => watch.listening);
    await elsewhere.appendEvents(
      [{ type: 'signed_up', customerId: 'c1', occurredAt: T0, payload: {} }],
      T0,
    );
    await listener.appendEvents(
      [{ type: 'signed_up', customerId: 'c9', occurredAt: T0, payload: {} }],
      T0,
    );
    // Notifications of one sender arrive in commit order: once the later one is heard, the earlier
    // one would have been.
    await until(() => heard.length > 0);
    expect(heard).toEqual([{ kind: 'events' }]);
  });

  it('reconnects after its connection is killed, says so, and hears changes again', async () => {
    if (db === null) throw new Error('unreachable: skipped without a database');
    const [listener, writer] = await twoProcesses();
    const { heard, states, watch } = listen(listener);
    await until(() => watch.listening);

    const admin = await db.connect();
    try {
      const killed = await admin.query<{ killed: boolean }>(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'waymark-listen'
            AND pid <> pg_backend_pid()`,
      );
      expect(killed.rows.map((row) => row.killed)).toEqual([true]);
    } finally {
      await admin.end();
    }
    await until(() => states.length >= 3);
    expect(states.slice(0, 3)).toEqual([true, false, true]);
    expect(watch.listening).toBe(true);

    await writer.appendEvents(
      [{ type: 'signed_up', customerId: 'c1', occurredAt: T0, payload: {} }],
      T0,
    );
    await until(() => heard.length > 0);
    expect(heard).toEqual([{ kind: 'events' }]);
  });

  it('stops listening when the store closes', async () => {
    const [listener, writer] = await twoProcesses();
    const { watch } = listen(listener);
    await until(() => watch.listening);
    await listener.close();
    expect(watch.listening).toBe(false);
    // The server ends the session right after the client goes: wait for it to be gone.
    await until(async () => {
      const still = await writer.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'waymark-listen'`,
      );
      return still[0]?.n === 0;
    });
  });
});

/**
 * Behaviour of the SQLite backend beyond the shared contract: its pragmas, its schema checks, and
 * two connections on one file (what several processes on one machine do).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { sequentialIds } from '../contract.js';
import { openSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'waymark-sqlite-behaviour-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 0, 1);
const claim = { maxEvents: 100, maxTimers: 100, leaseMs: 30_000 };

describe('SqliteStore', () => {
  it('opens the file in WAL mode with foreign keys and NORMAL sync, creating its directory', async () => {
    const store = openSqliteStore({ file: join(dir, 'nested', 'deeper', 'w.sqlite') });
    await store.migrate();
    const db = store.database;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('cache_size', { simple: true })).toBe(-65_536);
    await store.close();
  });

  it('refuses to work on a database that was not migrated', async () => {
    const store = openSqliteStore({ file: ':memory:' });
    await expect(store.pendingEventCount()).rejects.toMatchObject({ code: 'STORE_NOT_MIGRATED' });
    await store.migrate();
    expect(await store.pendingEventCount()).toBe(0);
    await store.close();
  });

  it('reports a file it cannot open as unavailable', () => {
    // The database's directory would have to be created inside a regular file.
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    expect(() => openSqliteStore({ file: join(blocker, 'x.sqlite') })).toThrow(
      expect.objectContaining({ code: 'STORE_UNAVAILABLE' }),
    );
  });

  it('rejects an id source that repeats an existing event id instead of calling it a duplicate', async () => {
    const file = join(dir, 'ids.sqlite');
    const first = openSqliteStore({ file, ids: sequentialIds() });
    await first.migrate();
    await first.appendEvents([{ type: 't', customerId: 'c', occurredAt: T0, payload: {} }], T0);
    await first.close();
    // A restarted simulation with a fresh counter would produce evt_000001 again.
    const second = openSqliteStore({ file, ids: sequentialIds() });
    await expect(
      second.appendEvents([{ type: 't', customerId: 'c', occurredAt: T0, payload: {} }], T0),
    ).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    expect(await second.pendingEventCount()).toBe(1);
    await second.close();
  });

  it('shares leases between two connections on one file', async () => {
    const file = join(dir, 'shared.sqlite');
    const one = openSqliteStore({ file });
    const two = openSqliteStore({ file });
    await one.migrate();
    await two.migrate();
    await one.appendEvents(
      ['a', 'b'].map((customerId) => ({ type: 't', customerId, occurredAt: T0, payload: {} })),
      T0,
    );
    const first = await one.claimWork({ ...claim, now: T0, workerId: 'one', maxEvents: 1 });
    const second = await two.claimWork({ ...claim, now: T0, workerId: 'two' });
    expect(first?.customers.map((w) => w.customerId)).toEqual(['a']);
    expect(second?.customers.map((w) => w.customerId)).toEqual(['b']);
    expect(await two.claimWork({ ...claim, now: T0, workerId: 'two' })).toBeNull();
    await one.close();
    await two.close();
  });

  it('rejects invalid claim options and page limits as invalid input', async () => {
    const store = openSqliteStore({ file: ':memory:' });
    await store.migrate();
    await expect(
      store.claimWork({ ...claim, now: T0, workerId: 'w', maxEvents: -1 }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      store.claimWork({ ...claim, now: T0, workerId: 'w', leaseMs: 0 }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.listCustomers({ limit: 0 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await store.close();
  });
});

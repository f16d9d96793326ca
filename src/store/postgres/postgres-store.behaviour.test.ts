/**
 * Behaviour of the PostgreSQL backend beyond the shared contract: how it is opened through
 * `openStore`, what it says when the database is missing or a value does not fit, and that closing
 * it leaves no connection behind.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { openStore } from '../index.js';
import { PostgresStore, openPostgresStore } from './postgres-store.js';
import { createTestDatabase, testServerUrl } from '../../../test/support/index.js';

const database = await createTestDatabase();
const available = typeof database !== 'string';
if (!available) console.warn(`skipping the PostgreSQL behaviour tests: ${database}`);

const T0 = Date.UTC(2026, 0, 1);

describe.skipIf(!available)('PostgresStore', () => {
  const db = typeof database === 'string' ? null : database;
  const opened: PostgresStore[] = [];

  function url(): string {
    if (db === null) throw new Error('no test database');
    return db.url;
  }

  afterAll(async () => {
    for (const store of opened) await store.close();
    await db?.drop();
  });

  it('is what openStore opens for a databaseUrl: migrated, or left as it is when asked', async () => {
    const untouched = await openStore({ databaseUrl: url(), migrate: false });
    await expect(untouched.pendingEventCount()).rejects.toMatchObject({
      code: 'STORE_NOT_MIGRATED',
    });
    await untouched.close();
    const store = await openStore({ databaseUrl: url(), poolSize: 2 });
    expect(store).toBeInstanceOf(PostgresStore);
    await store.appendEvents([{ type: 't', customerId: 'c', occurredAt: T0, payload: {} }], T0);
    expect(await store.pendingEventCount()).toBe(1);
    await store.close();
  });

  it('names a database that does not exist and how to create it', async () => {
    const missing = new URL(testServerUrl);
    missing.pathname = '/waymark_no_such_database';
    const error: unknown = await openStore({ databaseUrl: missing.href }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/waymark_no_such_database.*createdb/su);
  });

  it('reports a value PostgreSQL cannot store as invalid, writing nothing', async () => {
    if (db === null) throw new Error('no test database');
    const store = db.openStore();
    opened.push(store);
    await store.migrate();
    await expect(
      store.appendEvents(
        [
          { type: 't', customerId: 'fine', occurredAt: T0, payload: {} },
          { type: 't', customerId: 'c', occurredAt: T0, payload: { name: 'nul\u0000here' } },
        ],
        T0,
      ),
    ).rejects.toMatchObject({ code: 'STORE_VALUE_INVALID' });
    expect(await store.pendingEventCount()).toBe(0);
  });

  it('refuses a schema name it would have to quote, and invalid claim options', async () => {
    expect(() => openPostgresStore({ connectionString: url(), schema: 'Robert"; DROP' })).toThrow(
      expect.objectContaining({ code: 'STORE_TARGET_INVALID' }),
    );
    if (db === null) throw new Error('no test database');
    const store = db.openStore();
    opened.push(store);
    await store.migrate();
    await expect(
      store.claimWork({ now: T0, maxEvents: -1, maxTimers: 0, workerId: 'w', leaseMs: 1 }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      store.claimWork({ now: T0, maxEvents: 1, maxTimers: 0, workerId: 'w', leaseMs: 0 }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('leaves no connection open once closed', async () => {
    if (db === null) throw new Error('no test database');
    const name = `waymark-close-${Date.now()}`;
    const store = db.openStore({ applicationName: name });
    await store.migrate();
    await Promise.all([store.pendingEventCount(), store.nextTimerDueAt(), store.journeyCounts()]);
    const observer = await db.connect();
    try {
      const count = async () =>
        Number(
          (
            await observer.query<{ n: string }>(
              'SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = $1',
              [name],
            )
          ).rows[0]?.n,
        );
      expect(await count()).toBeGreaterThan(0);
      await store.close();
      await store.close();
      // Backends leave pg_stat_activity a moment after their client hangs up.
      while ((await count()) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await count()).toBe(0);
    } finally {
      await observer.end();
    }
  });
});

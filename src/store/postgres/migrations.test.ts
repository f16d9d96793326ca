/**
 * The PostgreSQL schema and its migrations: numbered, applied once however many processes start at
 * once, refused when too new, and typed as the diagnostic queries and the store's boundary expect.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { VirtualClock } from '../contract.js';
import { createPool } from './driver.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, applyMigrations } from './migrations.js';
import type { Migration } from './migrations.js';
import type { PostgresStore } from './postgres-store.js';
import { createTestDatabase } from '../../../test/support/index.js';

const database = await createTestDatabase();
const available = typeof database !== 'string';
if (!available) console.warn(`skipping the PostgreSQL migration tests: ${database}`);

const clock = new VirtualClock('2026-01-01T00:00:00Z');

describe.skipIf(!available)('PostgreSQL migrations', () => {
  const db = typeof database === 'string' ? null : database;
  const opened: PostgresStore[] = [];

  function store(schema: string): PostgresStore {
    if (db === null) throw new Error('no test database');
    const opening = db.reopenStore(schema, { clock });
    opened.push(opening);
    return opening;
  }

  afterAll(async () => {
    for (const s of opened) await s.close();
    await db?.drop();
  });

  it('are numbered 1, 2, 3, ... and the latest version is the last one', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('apply once when several processes migrate the same new database at once', async () => {
    const racers = Array.from({ length: 6 }, () => store('race'));
    await Promise.all(racers.map((s) => s.migrate()));
    const recorded = await store('race').query<{ version: number; name: string }>(
      'SELECT version, name FROM schema_migrations ORDER BY version',
    );
    expect(recorded).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    for (const racer of racers) expect(await racer.pendingEventCount()).toBe(0);
  });

  it('serialise a list of several migrations across processes, each applied exactly once', async () => {
    if (db === null) throw new Error('no test database');
    // Plain CREATE TABLE fails when run twice: any double application would throw.
    const list: Migration[] = [1, 2, 3].map((version) => ({
      version,
      name: `table ${version}`,
      sql: `CREATE TABLE t${version} (id integer PRIMARY KEY); INSERT INTO t${version} VALUES (${version});`,
    }));
    const pools = Array.from({ length: 5 }, () =>
      createPool(
        {
          connectionString: db.url,
          max: 2,
          connectionTimeoutMillis: 10_000,
          schema: 'several',
          applicationName: 'waymark-test',
        },
        () => undefined,
      ),
    );
    try {
      const applied = await Promise.all(
        pools.map((pool) => applyMigrations(pool, list, clock, 'several')),
      );
      expect(applied.flat().sort()).toEqual([1, 2, 3]);
      const rows = await pools[0]?.query<{ version: number; applied_at: number }>(
        'SELECT version, applied_at FROM schema_migrations ORDER BY version',
      );
      expect(rows?.rows).toEqual(
        [1, 2, 3].map((version) => ({ version, applied_at: clock.now() })),
      );
      // A later list with one more migration applies only that one.
      const longer = [
        ...list,
        { version: 4, name: 'table 4', sql: 'CREATE TABLE t4 (id integer)' },
      ];
      expect(await applyMigrations(pools[1] ?? pools[0]!, longer, clock, 'several')).toEqual([4]);
    } finally {
      for (const pool of pools) await pool.end();
    }
  });

  it('refuse work on an unmigrated schema, and on one migrated by a newer Waymark', async () => {
    const fresh = store('unmigrated');
    await expect(fresh.pendingEventCount()).rejects.toMatchObject({ code: 'STORE_NOT_MIGRATED' });
    await fresh.migrate();
    expect(await fresh.pendingEventCount()).toBe(0);

    const newer = store('newer');
    await newer.migrate();
    await newer.query(
      `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', now())`,
      [LATEST_SCHEMA_VERSION + 1],
    );
    await expect(newer.migrate()).rejects.toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW' });
    await expect(store('newer').pendingEventCount()).rejects.toMatchObject({
      code: 'STORE_SCHEMA_TOO_NEW',
    });
  });

  it('keep every instant as timestamptz, JSON as jsonb, flags as boolean and text bytewise', async () => {
    const typed = store('typed');
    await typed.migrate();
    const columns = await typed.query<{
      table_name: string;
      column_name: string;
      data_type: string;
      collation_name: string | null;
    }>(
      `SELECT table_name, column_name, data_type, collation_name FROM information_schema.columns
        WHERE table_schema = 'typed' AND table_name <> 'schema_migrations'`,
    );
    const typeOf = (table: string, column: string) =>
      columns.find((c) => c.table_name === table && c.column_name === column)?.data_type;
    // The columns the guide's diagnostic queries compare with NOW() - INTERVAL ...
    expect(typeOf('journey_enrollments', 'updated_at')).toBe('timestamp with time zone');
    expect(typeOf('messages', 'sent_at')).toBe('timestamp with time zone');
    expect(typeOf('trigger_executions', 'executed_at')).toBe('timestamp with time zone');
    // ... and one convention for every instant.
    const instants = columns.filter((c) => /_at$/u.test(c.column_name) || c.column_name === 'at');
    expect(instants.length).toBeGreaterThan(30);
    for (const c of instants) {
      expect([c.table_name, c.column_name, c.data_type]).toEqual([
        c.table_name,
        c.column_name,
        'timestamp with time zone',
      ]);
    }
    for (const [table, column] of [
      ['events', 'payload'],
      ['journey_enrollments', 'state'],
      ['messages', 'content'],
      ['journey_events', 'data'],
      ['outbox', 'payload'],
      ['models', 'body'],
    ] as const) {
      expect(typeOf(table, column)).toBe('jsonb');
    }
    for (const [table, column] of [
      ['journey_enrollments', 'holdout'],
      ['trigger_executions', 'fired'],
      ['trigger_states', 'value'],
    ] as const) {
      expect(typeOf(table, column)).toBe('boolean');
    }
    const text = columns.filter((c) => c.data_type === 'text');
    expect(text.length).toBeGreaterThan(50);
    expect(text.filter((c) => c.collation_name !== 'C')).toEqual([]);
  });

  it('round-trip instants to the millisecond, including before 1970 and far ahead', async () => {
    const typed = store('instants');
    await typed.migrate();
    const instants = [
      0, -1, 1, 1_767_225_600_123, 1_767_225_600_999, -86_400_001, 32_503_680_000_001,
    ];
    await typed.upsertCustomers(
      instants.map((at, i) => ({ id: `c${i}`, attributes: {}, createdAt: at, updatedAt: at })),
    );
    for (const [i, at] of instants.entries()) {
      expect(await typed.getCustomer(`c${i}`)).toMatchObject({ createdAt: at, updatedAt: at });
    }
  });
});

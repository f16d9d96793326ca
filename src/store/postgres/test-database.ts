/**
 * A clean PostgreSQL database for one test file, and a clean schema in it for every store a test
 * opens. Test support only: excluded from the build (tsconfig.build.json), never exported.
 *
 * The server is `WAYMARK_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`,
 * a maintenance database the tests only use to create and drop their own). When it cannot be
 * reached the PostgreSQL tests are skipped and say why, unless `WAYMARK_REQUIRE_POSTGRES=1` (CI),
 * where an unreachable server fails the run instead of passing it quietly.
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { openPostgresStore } from './postgres-store.js';
import type { PostgresStore, PostgresStoreOptions } from './postgres-store.js';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Where the test server is, and whether it must be there. */
export const testServerUrl = process.env['WAYMARK_TEST_DATABASE_URL'] ?? DEFAULT_URL;
export const postgresRequired = process.env['WAYMARK_REQUIRE_POSTGRES'] === '1';

/** A test file's own database on the test server. */
export interface TestDatabase {
  /** Its URL. */
  url: string;
  name: string;
  /** A store on a fresh, empty schema of this database (not migrated). */
  openStore(options?: Partial<PostgresStoreOptions>): PostgresStore;
  /** A store on an existing schema of this database (the same data, a new pool). */
  reopenStore(schema: string, options?: Partial<PostgresStoreOptions>): PostgresStore;
  /** A client of its own, for interleaving transactions by hand; the caller ends it. */
  connect(): Promise<pg.Client>;
  /** Drops the database, ending whatever is still connected to it. */
  drop(): Promise<void>;
}

/**
 * Creates `waymark_test_<random>` on the test server, or returns why it cannot (the server is not
 * reachable) as a string. With `WAYMARK_REQUIRE_POSTGRES=1` it throws instead.
 */
export async function createTestDatabase(): Promise<TestDatabase | string> {
  const admin = new pg.Client({ connectionString: testServerUrl, connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
  } catch (error) {
    const reason = `PostgreSQL not reachable at ${testServerUrl} (${error instanceof Error ? error.message : String(error)}); set WAYMARK_TEST_DATABASE_URL`;
    if (postgresRequired) throw new Error(`WAYMARK_REQUIRE_POSTGRES=1 but ${reason}`);
    return reason;
  }
  const name = `waymark_test_${randomBytes(6).toString('hex')}`;
  try {
    // The name is generated above from hex digits, so splicing it is safe.
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(testServerUrl);
  url.pathname = `/${name}`;
  let schemas = 0;
  return {
    url: url.href,
    name,
    openStore(options = {}) {
      schemas += 1;
      return openPostgresStore({
        connectionString: url.href,
        schema: `store_${schemas}`,
        poolSize: 4,
        ...options,
      });
    },
    reopenStore(schema, options = {}) {
      return openPostgresStore({ connectionString: url.href, schema, poolSize: 4, ...options });
    },
    async connect() {
      const client = new pg.Client({ connectionString: url.href });
      await client.connect();
      return client;
    },
    async drop() {
      const dropper = new pg.Client({ connectionString: testServerUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

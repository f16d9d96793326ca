/**
 * PostgreSQL for tests and benchmarks: the test server, whole databases of their own on it, and a
 * clean schema in such a database for every store a test opens. Test support only: never built,
 * never exported from the package.
 *
 * The server is `WAYMARK_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`,
 * a maintenance database the tests only use to create and drop their own). When it cannot be
 * reached the PostgreSQL tests are skipped and say why, unless `WAYMARK_REQUIRE_POSTGRES=1` (CI),
 * where an unreachable server fails the run instead of passing it quietly.
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import {
  openPostgresStore,
  type PostgresStore,
  type PostgresStoreOptions,
} from '../../src/store/index.js';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Where the test server is, and whether it must be there. */
export const testServerUrl = process.env['WAYMARK_TEST_DATABASE_URL'] ?? DEFAULT_URL;
export const postgresRequired = process.env['WAYMARK_REQUIRE_POSTGRES'] === '1';

/** Runs `use` with a client of the test server's maintenance database, then ends the client. */
export async function withServer<T>(
  use: (client: pg.Client) => Promise<T>,
  server: string = testServerUrl,
): Promise<T> {
  const client = new pg.Client({ connectionString: server, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * Why the test server cannot be used, or null when it can. With `WAYMARK_REQUIRE_POSTGRES=1` an
 * unreachable server throws instead, so CI fails rather than skipping.
 */
export async function serverUnreachable(server: string = testServerUrl): Promise<string | null> {
  try {
    await withServer((client) => client.query('SELECT 1'), server);
    return null;
  } catch (error) {
    const reason = `PostgreSQL not reachable at ${server} (${error instanceof Error ? error.message : String(error)})`;
    if (postgresRequired) throw new Error(`WAYMARK_REQUIRE_POSTGRES=1 but ${reason}`);
    return reason;
  }
}

/** A database of its own on a server: its name, its URL, and how to drop it. */
export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops it, ending whatever is still connected to it. */
  drop(): Promise<void>;
}

/**
 * Creates `<prefix>_<random hex>` on `server` (default the test server). Whole databases are for
 * what a schema cannot isolate: processes started with a `DATABASE_URL`, `waymark migrate`.
 */
export async function createScratchDatabase(
  prefix: string,
  server: string = testServerUrl,
): Promise<ScratchDatabase> {
  // Hex digits after a fixed prefix: safe to splice into the statements below.
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withServer((client) => client.query(`CREATE DATABASE ${name}`), server);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    drop: () =>
      withServer(
        (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
        server,
      ).then(() => undefined),
  };
}

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
  const unreachable = await serverUnreachable();
  if (unreachable !== null) return `${unreachable}; set WAYMARK_TEST_DATABASE_URL`;
  const database = await createScratchDatabase('waymark_test');
  let schemas = 0;
  return {
    url: database.url,
    name: database.name,
    openStore(options = {}) {
      schemas += 1;
      return openPostgresStore({
        connectionString: database.url,
        schema: `store_${schemas}`,
        poolSize: 4,
        ...options,
      });
    },
    reopenStore(schema, options = {}) {
      return openPostgresStore({ connectionString: database.url, schema, poolSize: 4, ...options });
    },
    async connect() {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      return client;
    },
    drop: () => database.drop(),
  };
}

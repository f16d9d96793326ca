/**
 * The store component: backends of the core's `Store` contract, and how to choose one.
 *
 * The embedded SQLite backend (a data directory or a file) and PostgreSQL (`databaseUrl`), both
 * behind `openStore`, so no caller changes with the backend. The conformance suite
 * (`conformance.ts`) is deliberately not exported: it imports vitest, and this index ships.
 */
import { join } from 'node:path';

import { InvalidInputError } from './contract.js';
import type { Store } from './contract.js';
import { openPostgresStore } from './postgres/index.js';
import { openSqliteStore } from './sqlite/index.js';

export { StoreError } from './errors.js';
export type { StoreErrorCode } from './errors.js';
export {
  SqliteStore,
  openSqliteStore,
  runDiagnostics,
  DIAGNOSTIC_QUERIES,
  MIGRATIONS,
  LATEST_SCHEMA_VERSION,
  DEFAULT_OUTBOX_LEASE_MS,
} from './sqlite/index.js';
export type {
  SqliteStoreOptions,
  SqliteDatabase,
  Migration,
  Diagnostics,
  StuckJourneyRow,
  MessageDeliveryRow,
  TriggerPerformanceRow,
} from './sqlite/index.js';
export {
  PostgresStore,
  openPostgresStore,
  parseDatabaseUrl,
  createDatabaseIfMissing,
  DEFAULT_POOL_SIZE,
  runDiagnostics as runPostgresDiagnostics,
  DIAGNOSTIC_QUERIES as POSTGRES_DIAGNOSTIC_QUERIES,
  MIGRATIONS as POSTGRES_MIGRATIONS,
  LATEST_SCHEMA_VERSION as POSTGRES_SCHEMA_VERSION,
} from './postgres/index.js';
export type { PostgresStoreOptions, DatabaseUrl } from './postgres/index.js';

/** File name of the embedded database inside a data directory. */
export const SQLITE_FILE_NAME = 'waymark.sqlite';

/** Where the data lives. Exactly one of the three. */
export interface OpenStoreOptions {
  /** Directory for the embedded database (`<dataDir>/waymark.sqlite`); created if missing. */
  dataDir?: string | undefined;
  /** Path of the embedded database file, or `:memory:`. */
  file?: string | undefined;
  /** PostgreSQL connection string (`DATABASE_URL`): `postgres://user[:password]@host[:port]/db`. */
  databaseUrl?: string | undefined;
  /**
   * PostgreSQL only: where the LISTEN connection of `watch()` goes (default `databaseUrl`). Point
   * it at the server, or a session-mode pool, when `databaseUrl` is PgBouncer in transaction mode.
   */
  listenDatabaseUrl?: string | undefined;
  /** Connections of the PostgreSQL pool (default `DEFAULT_POOL_SIZE`); ignored for SQLite. */
  poolSize?: number | undefined;
  /** Apply pending migrations before returning; default true. Pass false to open a database as it is. */
  migrate?: boolean | undefined;
}

/** Opens the store the options point at, migrated unless told otherwise. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const targets = [options.dataDir, options.file, options.databaseUrl].filter(
    (target) => target !== undefined,
  );
  if (targets.length !== 1) {
    throw new InvalidInputError(
      'openStore needs exactly one of dataDir, file or databaseUrl',
      {
        given: Object.keys(options).filter(
          (key) => key !== 'migrate' && key !== 'poolSize' && key !== 'listenDatabaseUrl',
        ),
      },
      'STORE_TARGET_INVALID',
    );
  }
  // A malformed URL throws here, before anything is opened; an unreachable server on migrate().
  const store =
    options.databaseUrl === undefined
      ? openSqliteStore({ file: options.file ?? join(options.dataDir ?? '.', SQLITE_FILE_NAME) })
      : openPostgresStore({
          connectionString: options.databaseUrl,
          ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
          ...(options.listenDatabaseUrl === undefined
            ? {}
            : { listenConnectionString: options.listenDatabaseUrl }),
        });
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

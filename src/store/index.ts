/**
 * The store component: backends of the core's `Store` contract, and how to choose one.
 *
 * Today the embedded SQLite backend; PostgreSQL (`databaseUrl`) plugs in at `openStore` without
 * changing any caller. The conformance suite (`conformance.ts`) is deliberately not exported: it
 * imports vitest, and this index ships.
 */
import { join } from 'node:path';

import { InvalidInputError } from './contract.js';
import type { Store } from './contract.js';
import { StoreError } from './errors.js';
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

/** File name of the embedded database inside a data directory. */
export const SQLITE_FILE_NAME = 'waymark.sqlite';

/** Where the data lives. Exactly one of the three. */
export interface OpenStoreOptions {
  /** Directory for the embedded database (`<dataDir>/waymark.sqlite`); created if missing. */
  dataDir?: string | undefined;
  /** Path of the embedded database file, or `:memory:`. */
  file?: string | undefined;
  /** PostgreSQL connection string (`DATABASE_URL`); not available in this build yet. */
  databaseUrl?: string | undefined;
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
      { given: Object.keys(options).filter((key) => key !== 'migrate') },
      'STORE_TARGET_INVALID',
    );
  }
  if (options.databaseUrl !== undefined) {
    throw new StoreError(
      'STORE_UNSUPPORTED',
      'PostgreSQL (databaseUrl) is not available in this build yet; use dataDir or file for the embedded SQLite store',
    );
  }
  const file = options.file ?? join(options.dataDir ?? '.', SQLITE_FILE_NAME);
  const store = openSqliteStore({ file });
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

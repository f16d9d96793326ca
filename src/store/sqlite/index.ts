/** The embedded SQLite backend of the `Store` contract. */
export { SqliteStore, openSqliteStore, DEFAULT_OUTBOX_LEASE_MS } from './sqlite-store.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export { MIGRATIONS, LATEST_SCHEMA_VERSION } from './migrations.js';
export type { Migration } from './migrations.js';
export { runDiagnostics, DIAGNOSTIC_QUERIES } from './diagnostics.js';
export type {
  Diagnostics,
  StuckJourneyRow,
  MessageDeliveryRow,
  TriggerPerformanceRow,
} from './diagnostics.js';
export type { SqliteDatabase } from './driver.js';

/** The PostgreSQL backend of the `Store` contract (scale-out: many processes, one database). */
export { PostgresStore, openPostgresStore, DEFAULT_POOL_SIZE } from './postgres-store.js';
export type { PostgresStoreOptions } from './postgres-store.js';
export { MIGRATIONS, LATEST_SCHEMA_VERSION } from './migrations.js';
export type { Migration } from './migrations.js';
export { parseDatabaseUrl } from './driver.js';
export type { DatabaseUrl } from './driver.js';
export { runDiagnostics, DIAGNOSTIC_QUERIES } from './diagnostics.js';
export { createDatabaseIfMissing } from './provision.js';

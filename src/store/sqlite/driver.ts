/**
 * The part of better-sqlite3's API the SQLite store uses, typed here.
 *
 * better-sqlite3 ships no type declarations and `@types/better-sqlite3` is not a dependency of
 * the project; declaring the few calls used keeps the store fully typed without adding one, and
 * shows at a glance how little of the driver the store depends on.
 */
import { createRequire } from 'node:module';

/** A value SQLite can bind: booleans and `undefined` are rejected by the driver. */
export type SqlValue = number | string | bigint | Buffer | null;

/** What an INSERT/UPDATE/DELETE reports. */
export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
  /** Row id of the last inserted row (the `seq` of an `INTEGER PRIMARY KEY` table). */
  lastInsertRowid: number | bigint;
}

/** A prepared statement: compiled once, run many times. `P` are its parameters, `R` its rows. */
export interface Statement<P extends readonly SqlValue[], R> {
  run(...params: P): RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** A function wrapped in a transaction; `immediate` takes the write lock up front. */
export type Transaction<F extends (...args: never[]) => unknown> = F & {
  /** Runs in `BEGIN IMMEDIATE`: the write lock is taken before the first read, so two writers never deadlock upgrading. */
  immediate: F;
};

/** An open SQLite connection. */
export interface SqliteDatabase {
  /** True until closed. */
  readonly open: boolean;
  /** True while a transaction is open. */
  readonly inTransaction: boolean;
  /** Compiles `sql`; its parameter and row types are declared by the caller, as the driver cannot know them. */
  prepare<P extends readonly SqlValue[], R>(sql: string): Statement<P, R>;
  exec(sql: string): void;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<F extends (...args: never[]) => unknown>(fn: F): Transaction<F>;
  close(): void;
}

/** Options of the driver's constructor that the store uses. */
export interface SqliteOpenOptions {
  /** How long to wait for a lock held by another connection before failing with SQLITE_BUSY, ms. */
  timeout?: number;
  /** Open read-only. */
  readonly?: boolean;
}

type DatabaseConstructor = new (file: string, options?: SqliteOpenOptions) => SqliteDatabase;

// better-sqlite3 is a CommonJS native addon; `createRequire` loads it from this ESM module
// without needing its (absent) type declarations.
const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as DatabaseConstructor;

/** Opens (creating if needed) the database file, or a private in-memory database for `:memory:`. */
export function openDatabase(file: string, options: SqliteOpenOptions = {}): SqliteDatabase {
  return new Database(file, options);
}

/** The driver's error: `code` is SQLite's extended result code name (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_UNIQUE`, ...). */
export interface SqliteDriverError extends Error {
  code: string;
}

/** True for errors raised by SQLite itself (rather than by the store's own checks). */
export function isSqliteError(error: unknown): error is SqliteDriverError {
  return (
    error instanceof Error &&
    error.name === 'SqliteError' &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

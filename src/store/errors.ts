import { WaymarkError } from './contract.js';

/**
 * Stable codes of the store's errors.
 * - `STORE_CONFLICT`: a uniqueness rule was violated (a record with the same id already exists),
 *   or a model was registered `after` a version that is no longer the newest.
 * - `STORE_CONSTRAINT`: a record broke another rule of the schema (missing field, unknown status).
 * - `STORE_VALUE_INVALID`: a value the database cannot store at all (PostgreSQL refuses the NUL
 *   character in text and JSON, and numbers out of a column's range); the input's fault.
 * - `STORE_LEASE_LOST`: a batch was committed after another claim took over one of its customers.
 * - `STORE_UNAVAILABLE`: the database is locked, busy, unreachable or out of space; retryable.
 * - `STORE_CLOSED`: the store was used after `close()`.
 * - `STORE_NOT_MIGRATED`: the schema is older than this code; run `waymark migrate`.
 * - `STORE_SCHEMA_TOO_NEW`: the database was migrated by a newer Waymark; refuse rather than guess.
 * - `STORE_UNSUPPORTED`: a backend that is not available in this build was asked for.
 * - `STORE_FAILED`: anything else the database reported.
 */
export type StoreErrorCode =
  | 'STORE_CONFLICT'
  | 'STORE_CONSTRAINT'
  | 'STORE_VALUE_INVALID'
  | 'STORE_LEASE_LOST'
  | 'STORE_UNAVAILABLE'
  | 'STORE_CLOSED'
  | 'STORE_NOT_MIGRATED'
  | 'STORE_SCHEMA_TOO_NEW'
  | 'STORE_UNSUPPORTED'
  | 'STORE_FAILED';

/** An error raised by a store backend; `code` is one of `StoreErrorCode`. */
export class StoreError extends WaymarkError {
  declare readonly code: StoreErrorCode;

  constructor(
    code: StoreErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean; details?: unknown } = {},
  ) {
    super(code, message, options);
  }
}

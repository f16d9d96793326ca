/**
 * The part of node-postgres (`pg`) the PostgreSQL store uses: the pool, how values cross the
 * boundary, and how the driver's failures become store errors.
 *
 * Conventions at the boundary (the core speaks epoch milliseconds and plain objects):
 * - `timestamptz` comes back as epoch ms (a type parser below), and goes in as epoch ms through
 *   `to_timestamp($n::float8 / 1000)` in the SQL. The float division is exact for millisecond
 *   instants: PostgreSQL rounds `to_timestamp`'s argument to whole microseconds, and an epoch-ms
 *   value of this era divided by 1000 is within a tenth of a microsecond of its true value.
 * - `bigint` (sequences, `COUNT(*)`) comes back as a JS number: seqs and counts stay far below
 *   2^53, and a string would leak into every record.
 * - `jsonb` comes back parsed (pg's default); it goes in as JSON text the store stringifies itself,
 *   because pg would turn a JS array into a PostgreSQL array literal, not JSON.
 *
 * No statement is ever given a `name`: node-postgres then uses the unnamed prepared statement of
 * the extended protocol, which lives for one round trip. Named statements belong to one server
 * connection, and behind PgBouncer in transaction mode consecutive transactions of one client run
 * on different server connections ("prepared statement does not exist"). The planning cost is
 * small next to a network round trip; the SQL is fixed text, so PostgreSQL's plan cache is not
 * needed for safety either.
 */
import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';

import { InvalidInputError, WaymarkError } from '../contract.js';
import { StoreError } from '../errors.js';

const { TIMESTAMPTZ, INT8 } = pg.types.builtins;

/** A type OID, as pg's type declarations spell it. */
type TypeOid = typeof TIMESTAMPTZ;

/** pg's own parser of a type (its declarations type parsers as returning `any`). */
function defaultParser(oid: TypeOid, format?: 'text' | 'binary'): (text: string) => unknown {
  return pg.types.getTypeParser(oid, format) as (text: string) => unknown;
}

const parseTimestamp = defaultParser(TIMESTAMPTZ) as (text: string) => Date;

/** Parsers of one pool: instants as epoch ms, bigints as numbers, the rest as pg does it. */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: (oid: TypeOid, format?: 'text' | 'binary') => {
    if (oid === TIMESTAMPTZ) return (text: string) => parseTimestamp(text).getTime();
    if (oid === INT8) return (text: string) => Number(text);
    return defaultParser(oid, format);
  },
};

/** A value the store binds: JSON goes in as text, instants as numbers, lists as PostgreSQL arrays. */
export type SqlValue =
  string | number | boolean | null | readonly (string | number | boolean | null)[];

/** What the store needs of a connection or of the pool: one query at a time. */
export interface Queryable {
  // The caller declares the row type of its own SQL: the driver cannot know it.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  query<R extends QueryResultRow>(
    text: string,
    values?: readonly SqlValue[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** The pool or one of its connections, seen as a `Queryable`. */
export function queryable(target: pg.Pool | PoolClient): Queryable {
  return {
    query: <R extends QueryResultRow>(text: string, values?: readonly SqlValue[]) =>
      target.query<R>(text, values === undefined ? undefined : [...values]),
  };
}

/** How to open the pool. */
export interface PoolOptions {
  connectionString: string;
  /** Most connections the pool opens. */
  max: number;
  /** How long to wait for a connection to open (or for a free one), ms. */
  connectionTimeoutMillis: number;
  /** A schema to work in instead of the database's default `search_path` (tests, side-by-side installs). */
  schema?: string | undefined;
  applicationName: string;
}

/** Opens a pool; connections are made on first use. */
export function createPool(options: PoolOptions, onIdleError: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMillis,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName,
    types: typeParsers,
    // A startup parameter rather than a `SET` on each connection: it holds for the whole session,
    // costs no round trip, and a pooled connection can never be handed out without it.
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  // An idle connection that breaks (server restart, network cut) is reported here; without a
  // listener Node would crash the process. The next query opens a new connection and reports
  // its own failure, so the pool only needs to note it.
  pool.on('error', onIdleError);
  return pool;
}

/** A schema name the store may splice into SQL: plain lower-case identifiers only. */
export function checkSchemaName(schema: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/u.test(schema)) {
    throw new InvalidInputError(
      `schema must be a plain lower-case identifier, got '${schema}'`,
      { schema },
      'STORE_TARGET_INVALID',
    );
  }
}

/** The parts of a PostgreSQL URL worth showing; the password never leaves this function. */
export interface DatabaseUrl {
  /** The URL with its password replaced by `***`, for messages and logs. */
  redacted: string;
  database: string;
}

/**
 * Checks that `url` is a PostgreSQL URL (`postgres://` or `postgresql://`) and returns what may be
 * shown of it. A malformed one is the caller's mistake: `DATABASE_URL_INVALID`.
 */
export function parseDatabaseUrl(url: string): DatabaseUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl(
      url,
      'not a valid URL (check the host and port; percent-encode special characters in the user name and password)',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw invalidUrl(
      url,
      `the scheme must be postgres:// or postgresql://, not ${parsed.protocol}//`,
    );
  }
  if (parsed.port !== '' && !(Number(parsed.port) > 0)) {
    throw invalidUrl(url, `invalid port '${parsed.port}'`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//u, ''));
  if (database.includes('/')) throw invalidUrl(url, `invalid database name '${database}'`);
  return { redacted: redact(parsed), database };
}

function redact(parsed: URL): string {
  const copy = new URL(parsed.href);
  if (copy.password !== '') copy.password = '***';
  return copy.href;
}

function invalidUrl(url: string, reason: string): InvalidInputError {
  // The URL may hold a password: show only its scheme and shape, never the text as given.
  const shown = url.replace(/\/\/([^:/@]*):[^@]*@/u, '//$1:***@');
  return new InvalidInputError(
    `invalid PostgreSQL URL '${shown}': ${reason}; expected postgres://user[:password]@host[:port]/database`,
    { reason },
    'DATABASE_URL_INVALID',
  );
}

/** node-postgres's error from the server: `code` is the SQLSTATE. */
interface ServerError extends Error {
  code: string;
  constraint?: string;
  detail?: string;
}

function isServerError(error: unknown): error is ServerError {
  return error instanceof pg.DatabaseError && typeof error.code === 'string';
}

/** System errors of a connection that never opened or broke (ECONNREFUSED, ETIMEDOUT, ...). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * Maps what the driver throws to the store's error codes; store and input errors pass through.
 * `where` names the database (redacted URL) for the messages a person reads when it is unreachable.
 */
export function toStoreError(error: unknown, where: string): Error {
  if (error instanceof WaymarkError) return error;
  if (isServerError(error)) {
    const { code } = error;
    const details = { sqlstate: code, constraint: error.constraint };
    if (code === '23505') {
      return new StoreError('STORE_CONFLICT', error.message, { cause: error, details });
    }
    // Integrity errors: the record broke a rule of the schema.
    if (code.startsWith('23')) {
      return new StoreError('STORE_CONSTRAINT', error.message, { cause: error, details });
    }
    // Data exceptions: a value PostgreSQL cannot store (the NUL character in text or jsonb, a number
    // out of range), which SQLite would have taken. The input's fault, so the API answers 400.
    if (code.startsWith('22')) {
      return new StoreError('STORE_VALUE_INVALID', error.message, { cause: error, details });
    }
    // Serialization failure, deadlock, lock timeout: another transaction was in the way.
    if (code === '40001' || code === '40P01' || code === '55P03') {
      return new StoreError('STORE_UNAVAILABLE', `database is busy: ${error.message}`, {
        cause: error,
        retryable: true,
        details,
      });
    }
    if (code === '3D000') {
      return new StoreError(
        'STORE_UNAVAILABLE',
        `${error.message} at ${where}; create it (createdb, or waymark migrate --create-database)`,
        { cause: error, details },
      );
    }
    if (code.startsWith('28')) {
      return new StoreError('STORE_UNAVAILABLE', `cannot log in to ${where}: ${error.message}`, {
        cause: error,
        details,
      });
    }
    // Connection exceptions, too many connections, out of resources, server shutting down.
    if (['08', '53', '57'].some((prefix) => code.startsWith(prefix))) {
      return new StoreError('STORE_UNAVAILABLE', `${where}: ${error.message}`, {
        cause: error,
        retryable: true,
        details,
      });
    }
    return new StoreError('STORE_FAILED', error.message, { cause: error, details });
  }
  const message = error instanceof Error ? error.message : String(error);
  const systemCode = (error as { code?: unknown } | null)?.code;
  if (
    (typeof systemCode === 'string' && NETWORK_CODES.has(systemCode)) ||
    /connection terminated|timeout exceeded when trying to connect|connection timeout/iu.test(
      message,
    )
  ) {
    return new StoreError('STORE_UNAVAILABLE', `cannot reach PostgreSQL at ${where}: ${message}`, {
      cause: error,
      retryable: true,
      details: typeof systemCode === 'string' ? { code: systemCode } : undefined,
    });
  }
  return new StoreError('STORE_FAILED', message, { cause: error });
}

/**
 * Runs `work` in one transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when
 * it throws. A connection whose rollback failed is destroyed rather than returned to the pool in
 * an unknown state.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: Queryable) => Promise<T>,
): Promise<T> {
  const client: PoolClient = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(queryable(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

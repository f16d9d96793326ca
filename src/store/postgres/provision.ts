/**
 * Creating the database itself, for `waymark migrate --create-database`: everything else in the
 * store assumes the database exists (creating one usually needs rights an application should not
 * run with), so this is a separate, explicit step.
 */
import pg from 'pg';

import { parseDatabaseUrl, toStoreError } from './driver.js';

/** SQLSTATE of CREATE DATABASE when another session created the same database first. */
const DUPLICATE_DATABASE = '42P04';

/**
 * Creates the database `connectionString` names when it does not exist yet, by connecting to the
 * same server's `postgres` maintenance database with the same credentials. Resolves to whether it
 * created it; a database created meanwhile by someone else counts as existing.
 */
export async function createDatabaseIfMissing(connectionString: string): Promise<boolean> {
  const { database, redacted } = parseDatabaseUrl(connectionString);
  const maintenance = new URL(connectionString);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({
    connectionString: maintenance.href,
    connectionTimeoutMillis: 10_000,
  });
  try {
    await client.connect();
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rows.length > 0) return false;
    // An identifier cannot be a bound parameter: quote it, doubling any quote inside.
    await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === DUPLICATE_DATABASE) return false;
    throw toStoreError(error, redacted);
  } finally {
    // Ending a client whose connection never opened rejects too; the error above is the one to report.
    await client.end().catch(() => undefined);
  }
}

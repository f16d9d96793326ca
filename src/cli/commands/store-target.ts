import { resolve } from 'node:path';
import { InvalidInputError, WaymarkError, type Store } from '../../core/index.js';
import { StoreError, openStore, parseDatabaseUrl } from '../../store/index.js';

/**
 * Where a command's store is, and where that choice came from, so that a bad URL or an unreachable
 * server is reported with the setting to fix (`DATABASE_URL`, `--database-url`, a config key).
 */
export type StoreTarget =
  | { kind: 'postgres'; databaseUrl: string; source: string; shown: string }
  | { kind: 'sqlite'; dataDir: string; source: string; shown: string };

/** What a command knows about where the store may be. */
export interface StoreTargetInputs {
  /** `--database-url`. */
  databaseUrl?: string | undefined;
  /** `--data`. */
  data?: string | undefined;
  /** The loaded config's server settings and the path they came from, when there is a config. */
  server?: { data_dir: string; database_url?: string | undefined } | undefined;
  configPath?: string | undefined;
  /** The data directory when nothing names a store (null: nothing named is an error). */
  fallbackDataDir?: string | null | undefined;
  /** What to say when nothing names a store and there is no fallback (`INVALID_INPUT`). */
  missing?: string | undefined;
}

/**
 * Chooses the store, most explicit first: `--database-url`, `--data`, the `DATABASE_URL`
 * environment variable (which overrides the config's server settings, as documented there),
 * `server.database_url`, `server.data_dir`, then the command's fallback directory. Both flags at
 * once is a contradiction, not a precedence question. A PostgreSQL URL is checked here, so a typo
 * is reported before anything starts.
 */
export function resolveStoreTarget(
  inputs: StoreTargetInputs,
  env: Readonly<Record<string, string | undefined>>,
): StoreTarget {
  if (inputs.databaseUrl !== undefined && inputs.data !== undefined) {
    throw new InvalidInputError(
      'pass either --data (the embedded store) or --database-url (PostgreSQL), not both',
      undefined,
      'STORE_TARGET_CONFLICT',
    );
  }
  const fromEnv = env['DATABASE_URL'] === '' ? undefined : env['DATABASE_URL'];
  const config = inputs.configPath ?? 'the config';
  if (inputs.databaseUrl !== undefined) return postgres(inputs.databaseUrl, '--database-url');
  if (inputs.data !== undefined) return sqlite(inputs.data, '--data');
  if (fromEnv !== undefined) return postgres(fromEnv, 'DATABASE_URL');
  if (inputs.server?.database_url !== undefined) {
    return postgres(inputs.server.database_url, `server.database_url in ${config}`);
  }
  if (inputs.server !== undefined)
    return sqlite(inputs.server.data_dir, `server.data_dir in ${config}`);
  if (typeof inputs.fallbackDataDir === 'string') return sqlite(inputs.fallbackDataDir, 'default');
  throw new InvalidInputError(
    inputs.missing ??
      'no store given: pass --data DIR (the embedded store), --database-url URL or DATABASE_URL (PostgreSQL), or --config PATH (for server.data_dir / server.database_url)',
  );
}

function postgres(url: string, source: string): StoreTarget {
  try {
    return { kind: 'postgres', databaseUrl: url, source, shown: parseDatabaseUrl(url).redacted };
  } catch (error) {
    throw located(error, source);
  }
}

function sqlite(dir: string, source: string): StoreTarget {
  const dataDir = resolve(dir);
  return { kind: 'sqlite', dataDir, source, shown: dataDir };
}

/**
 * Opens the target's store: migrated by default; with `migrate: 'check'` it is left as it is but
 * must already be reachable and migrated; with `migrate: 'no'` it is not touched at all. Failures
 * keep their code and say which setting pointed at the store:
 * `error[STORE_UNAVAILABLE]: DATABASE_URL: cannot reach PostgreSQL at ...`.
 */
export async function openTargetStore(
  target: StoreTarget,
  options: {
    migrate?: 'yes' | 'check' | 'no';
    /** PostgreSQL only: where the LISTEN connection goes, when not to the database URL. */
    listenDatabaseUrl?: string | undefined;
  } = {},
): Promise<Store> {
  const migrate = options.migrate ?? 'yes';
  let store: Store | undefined;
  try {
    store = await openStore({
      ...(target.kind === 'postgres'
        ? { databaseUrl: target.databaseUrl, listenDatabaseUrl: options.listenDatabaseUrl }
        : { dataDir: target.dataDir }),
      migrate: migrate === 'yes',
    });
    // The cheapest read: it connects and checks the schema version, so a wrong URL or an
    // unmigrated database is reported now, naming its setting, not by the command's first query.
    if (migrate === 'check') await store.nextTimerDueAt();
    return store;
  } catch (error) {
    await store?.close();
    throw located(error, target.source);
  }
}

/** The same error, its message prefixed with the setting it is about (`DATABASE_URL: ...`). */
export function located(error: unknown, source: string): unknown {
  if (!(error instanceof WaymarkError)) return error;
  const message = `${source}: ${error.message}`;
  if (error instanceof InvalidInputError) {
    return new InvalidInputError(message, error.details, error.code);
  }
  const options = { cause: error, retryable: error.retryable, details: error.details };
  return error instanceof StoreError
    ? new StoreError(error.code, message, options)
    : new WaymarkError(error.code, message, options);
}

/**
 * Choosing the store from the command line: `waymark migrate`, and the `--database-url` /
 * `DATABASE_URL` / `server.database_url` settings that `serve`, `import customers` and
 * `dead-letters` share, against a real PostgreSQL database of this file's own (skipped with the
 * reason when no server is reachable, unless WAYMARK_REQUIRE_POSTGRES=1).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createScratchDatabase,
  serverUnreachable,
  testServerUrl,
  withServer,
} from '../../../test/support/index.js';
import { POSTGRES_SCHEMA_VERSION, SQLITE_FILE_NAME, openStore } from '../../store/index.js';
import { main } from '../program.js';

async function run(
  env: Record<string, string>,
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) }, env);
  return { code, out, err };
}

/** A URL on the test server for a database of this name. */
function urlOf(name: string): string {
  const url = new URL(testServerUrl);
  url.pathname = `/${name}`;
  return url.href;
}

const unreachable = await serverUnreachable();
if (unreachable !== null) console.warn(`skipping the PostgreSQL CLI tests: ${unreachable}`);
const reachable = unreachable === null;

const dir = mkdtempSync(join(tmpdir(), 'waymark-migrate-'));
/** Databases this file created (or had `waymark migrate --create-database` create), dropped at the end. */
const created: string[] = [];

/** A name for a database that does not exist yet. */
function databaseName(): string {
  const name = `waymark_test_${randomBytes(6).toString('hex')}`;
  created.push(name);
  return name;
}

async function createDatabase(): Promise<string> {
  const database = await createScratchDatabase('waymark_test');
  created.push(database.name);
  return database.url;
}

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!reachable) return;
  await withServer(async (client) => {
    for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
});

describe('choosing the store (no server needed)', () => {
  it('reports a malformed DATABASE_URL with its source and code, and exits 1', async () => {
    const result = await run({ DATABASE_URL: 'postgres://u:pw@host:notaport/db' }, 'migrate');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /^error\[DATABASE_URL_INVALID\]: DATABASE_URL: invalid PostgreSQL URL/u,
    );
    expect(result.err).not.toContain(':pw@');
  });

  it('reports an unreachable server with the setting that named it, and exits non-zero', async () => {
    const result = await run({}, 'migrate', '--database-url', 'postgres://w:pw@127.0.0.1:1/db');
    expect(result.code).not.toBe(0);
    expect(result.err).toContain(
      'error[STORE_UNAVAILABLE]: --database-url: cannot reach PostgreSQL at postgres://w:***@127.0.0.1:1/db',
    );
  });

  it('refuses --data together with --database-url', async () => {
    const result = await run({}, 'migrate', '--data', dir, '--database-url', 'postgres://h/db');
    expect(result).toMatchObject({ code: 1, out: '' });
    expect(result.err).toContain('error[STORE_TARGET_CONFLICT]');
  });

  it('migrates the embedded store with --data, which wins over DATABASE_URL', async () => {
    const data = join(dir, 'sqlite');
    const result = await run(
      { DATABASE_URL: 'postgres://127.0.0.1:1/unused' },
      'migrate',
      '--data',
      data,
    );
    expect(result.err).toBe('');
    expect(result.out).toMatch(/embedded store .* \(--data\) is at schema version \d+/u);
    expect(existsSync(join(data, SQLITE_FILE_NAME))).toBe(true);
  });

  it('needs to be told where the store is', async () => {
    const result = await run({}, 'migrate');
    expect(result.code).toBe(1);
    expect(result.err).toContain('--database-url URL or DATABASE_URL');
  });
});

describe.skipIf(!reachable)('choosing PostgreSQL', () => {
  it('migrates the database DATABASE_URL names, again without effect', async () => {
    const url = await createDatabase();
    const first = await run({ DATABASE_URL: url }, 'migrate');
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toContain(
      `PostgreSQL ${url} (DATABASE_URL) is at schema version ${POSTGRES_SCHEMA_VERSION}`,
    );
    expect((await run({ DATABASE_URL: url }, 'migrate')).code).toBe(0);
    const store = await openStore({ databaseUrl: url, migrate: false });
    expect(await store.pendingEventCount()).toBe(0);
    await store.close();
  });

  it('creates a missing database with --create-database, and names it when not asked to', async () => {
    const name = databaseName();
    const url = urlOf(name);
    const refused = await run({}, 'migrate', '--database-url', url);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(new RegExp(`STORE_UNAVAILABLE.*${name}.*--create-database`, 'u'));
    const made = await run({}, 'migrate', '--database-url', url, '--create-database');
    expect(made).toMatchObject({ code: 0, err: '' });
    expect(made.out).toContain(`created database ${url}`);
    expect(made.out).toContain(`is at schema version ${POSTGRES_SCHEMA_VERSION}`);
  });

  it('reads server.database_url from the config, and DATABASE_URL overrides it', async () => {
    const fromConfig = await createDatabase();
    const config = join(dir, 'waymark.yaml');
    writeFileSync(config, `server:\n  database_url: ${fromConfig}\n`);
    const viaConfig = await run({}, 'migrate', '--config', config);
    expect(viaConfig.out).toContain(`(server.database_url in ${config})`);
    const fromEnv = await createDatabase();
    const viaEnv = await run({ DATABASE_URL: fromEnv }, 'migrate', '--config', config);
    expect(viaEnv.out).toContain(`PostgreSQL ${fromEnv} (DATABASE_URL)`);
  });

  it('imports customers into PostgreSQL and reviews its dead letters, which must be migrated first', async () => {
    const url = await createDatabase();
    const unmigrated = await run({ DATABASE_URL: url }, 'dead-letters', 'list');
    expect(unmigrated.code).not.toBe(0);
    expect(unmigrated.err).toContain('error[STORE_NOT_MIGRATED]: DATABASE_URL: ');
    const customers = join(dir, 'customers.csv');
    writeFileSync(customers, 'customer_id,plan\nc1,pro\nc2,free\n');
    const imported = await run({}, 'import', 'customers', customers, '--database-url', url);
    expect(imported).toMatchObject({ code: 0 });
    expect(imported.out).toContain('imported 2 customers (2 new updates');
    const store = await openStore({ databaseUrl: url });
    expect(await store.pendingEventCount()).toBe(2);
    await store.close();
    expect(await run({ DATABASE_URL: url }, 'dead-letters', 'list')).toMatchObject({
      code: 0,
      out: 'no dead letters\n',
    });
  });
  it('keeps the model registry in PostgreSQL: register and list through DATABASE_URL', async () => {
    const url = await createDatabase();
    expect(await run({ DATABASE_URL: url }, 'migrate')).toMatchObject({ code: 0 });
    const csv = join(dir, 'accounts.csv');
    const rows = Array.from(
      { length: 80 },
      (_, i) =>
        `a${i},${i % 40},${i % 2 === 0 ? 'monthly' : 'annual'},${i % 2 === 0 || i % 7 === 0 ? 'Yes' : 'No'}`,
    );
    writeFileSync(csv, `id,tenure,contract,churned\n${rows.join('\n')}\n`);
    const model = join(dir, 'churn.json');
    const trained = await run(
      {},
      'models',
      'train',
      'churn',
      '--data',
      csv,
      '--label',
      'churned',
      '--positive',
      'Yes',
      '--id',
      'id',
      '--out',
      model,
    );
    expect(trained.code).toBe(0);
    const registered = await run(
      { DATABASE_URL: url },
      'models',
      'register',
      '--name',
      'churn_predictor_v2',
      '--model',
      model,
    );
    expect(registered.err).toBe('');
    expect(registered.out).toMatch(/^registered churn_predictor_v2 version 1 /u);
    const listed = await run({}, 'models', 'list', '--database-url', url);
    expect(listed.out.split('\n')[1]).toMatch(/^churn_predictor_v2\t1\tchurn\t/u);
  });
});

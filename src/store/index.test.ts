import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { SQLITE_FILE_NAME, openStore } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'waymark-open-store-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('openStore', () => {
  it('opens a migrated SQLite store in a data directory', async () => {
    const dataDir = join(dir, 'data');
    const store = await openStore({ dataDir });
    expect(existsSync(join(dataDir, SQLITE_FILE_NAME))).toBe(true);
    expect(await store.pendingEventCount()).toBe(0);
    await store.close();
  });

  it('opens an in-memory store', async () => {
    const store = await openStore({ file: ':memory:' });
    expect(await store.nextTimerDueAt()).toBeNull();
    await store.close();
  });

  it('leaves the schema alone when asked not to migrate', async () => {
    const store = await openStore({ file: ':memory:', migrate: false });
    await expect(store.pendingEventCount()).rejects.toMatchObject({ code: 'STORE_NOT_MIGRATED' });
    await store.close();
  });

  it('refuses a malformed PostgreSQL URL before connecting, without echoing its password', async () => {
    const error: unknown = await openStore({ databaseUrl: 'mysql://root:s3cret@db/waymark' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'DATABASE_URL_INVALID' });
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('reports a PostgreSQL server it cannot reach as unavailable, naming it without the password', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const error: unknown = await openStore({
      databaseUrl: 'postgres://waymark:s3cret@127.0.0.1:1/waymark',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
    expect((error as Error).message).toContain('postgres://waymark:***@127.0.0.1:1/waymark');
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('needs exactly one place to store data', async () => {
    await expect(openStore({})).rejects.toMatchObject({ code: 'STORE_TARGET_INVALID' });
    await expect(openStore({ dataDir: dir, file: ':memory:' })).rejects.toMatchObject({
      code: 'STORE_TARGET_INVALID',
    });
  });
});

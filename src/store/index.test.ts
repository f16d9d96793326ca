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

  it('says clearly that PostgreSQL is not available yet', async () => {
    await expect(openStore({ databaseUrl: 'postgres://localhost/waymark' })).rejects.toMatchObject({
      code: 'STORE_UNSUPPORTED',
    });
  });

  it('needs exactly one place to store data', async () => {
    await expect(openStore({})).rejects.toMatchObject({ code: 'STORE_TARGET_INVALID' });
    await expect(openStore({ dataDir: dir, file: ':memory:' })).rejects.toMatchObject({
      code: 'STORE_TARGET_INVALID',
    });
  });
});

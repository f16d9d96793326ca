/**
 * WAL checkpoints on their own thread: pages reach the database file without the store's
 * connection checkpointing, and closing still leaves a complete file and no WAL behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { CustomerRecord } from '../../core/index.js';
import { startCheckpointer } from './checkpointer.js';
import { openSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'waymark-checkpoints-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 0, 1);

function customers(count: number): CustomerRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `c${i}`,
    attributes: { plan: 'pro', note: 'x'.repeat(200) },
    createdAt: T0,
    updatedAt: T0,
  }));
}

/** Bytes of the database file proper (what checkpoints write; commits only append to the WAL). */
const mainFileSize = (file: string): number => statSync(file).size;

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('background WAL checkpoints', () => {
  // ~2,000 customers of ~250 bytes: about 150 pages, far below SQLite's own inline threshold of
  // 1,000 pages, so only a checkpoint thread moves them into the database file.
  const ROWS = 2_000;
  const GROWTH = 300_000;

  it('copies committed pages into the database file from another thread', async () => {
    const file = join(dir, 'background.sqlite');
    const store = openSqliteStore({ file });
    await store.migrate();
    await until(() => mainFileSize(file) > 0, 2_000);
    const before = mainFileSize(file);
    await store.upsertCustomers(customers(ROWS));
    expect(await until(() => mainFileSize(file) > before + GROWTH, 5_000)).toBe(true);
    expect(store.database.pragma('wal_autocheckpoint', { simple: true })).toBe(16_384);
    await store.close();
  });

  it('leaves them in the WAL with inline checkpoints (what the thread changes)', async () => {
    const file = join(dir, 'inline.sqlite');
    const store = openSqliteStore({ file, checkpoints: 'inline' });
    await store.migrate();
    const before = mainFileSize(file);
    await store.upsertCustomers(customers(ROWS));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mainFileSize(file)).toBe(before);
    expect(store.database.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
    await store.close();
  });

  it('closes with everything in the database file and no WAL left, and reopens intact', async () => {
    const file = join(dir, 'closed.sqlite');
    const store = openSqliteStore({ file });
    await store.migrate();
    for (let i = 0; i < 5; i += 1) await store.upsertCustomers(customers(ROWS));
    await store.close();
    await store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const again = openSqliteStore({ file });
    await again.migrate();
    expect((await again.listCustomers({ limit: 5_000 })).items).toHaveLength(ROWS);
    await again.close();
  });

  it('keeps no thread for an in-memory database', async () => {
    const store = openSqliteStore({ file: ':memory:' });
    await store.migrate();
    expect(store.database.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
    await store.close();
  });
});

describe('a process that closes its store', () => {
  it('goes on after the close (the thread is not what keeps it alive, nor what ends it)', () => {
    const file = join(dir, 'process.sqlite');
    const script = `
      import { openSqliteStore } from ${JSON.stringify(new URL('./sqlite-store.ts', import.meta.url).pathname)};
      const store = openSqliteStore({ file: ${JSON.stringify(file)} });
      await store.migrate();
      await store.close();
      console.log('after close');
    `;
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('after close');
    expect(run.status).toBe(0);
  });
});

describe('a checkpoint thread that cannot work', () => {
  it('reports the failure, so the store can go back to inline checkpoints, and still stops', async () => {
    let failed = false;
    const checkpointer = startCheckpointer(join(dir, 'no', 'such', 'dir', 'x.sqlite'), 100, () => {
      failed = true;
    });
    expect(checkpointer).not.toBeNull();
    expect(await until(() => failed, 5_000)).toBe(true);
    await checkpointer?.stop();
  });
});

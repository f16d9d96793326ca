import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll } from 'vitest';

import { describeStoreConformance } from '../conformance.js';
import { openSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'waymark-sqlite-'));
let files = 0;

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describeStoreConformance(
  'sqlite (file)',
  () => Promise.resolve(openSqliteStore({ file: join(dir, `store-${++files}.sqlite`) })),
  {
    reopen: async (store) => {
      await store.close();
      return openSqliteStore({ file: store.file });
    },
  },
);

describeStoreConformance('sqlite (:memory:)', () =>
  Promise.resolve(openSqliteStore({ file: ':memory:' })),
);

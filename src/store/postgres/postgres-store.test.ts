/**
 * The shared `Store` conformance suite on PostgreSQL: a database of its own for this file, and a
 * fresh schema for every store the suite opens.
 */
import { afterAll, describe, it } from 'vitest';

import { describeStoreConformance } from '../conformance.js';
import { createTestDatabase } from '../../../test/support/index.js';

const database = await createTestDatabase();

if (typeof database === 'string') {
  console.warn(`skipping the PostgreSQL conformance suite: ${database}`);
  describe('Store conformance: postgres', () => {
    it.skip(`skipped: ${database}`, () => undefined);
  });
} else {
  afterAll(() => database.drop());
  describeStoreConformance('postgres', () => Promise.resolve(database.openStore()), {
    reopen: async (store) => {
      await store.close();
      const schema = store.schema;
      if (schema === undefined) throw new Error('test stores always have a schema');
      return database.reopenStore(schema);
    },
  });
}

/**
 * `journey_enrollment_counts` is kept by triggers (migration 12): after any sequence of enrollment
 * upserts (the statement the store commits with) and deletions, its non-zero rows are exactly a
 * count of the enrollments themselves, and `journeyCounts()` reads them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { VirtualClock } from '../contract.js';
import { openDatabase } from './driver.js';
import { MIGRATIONS, applyMigrations } from './migrations.js';
import { prepareStatements } from './statements.js';

const operation = fc.oneof(
  fc.record({
    kind: fc.constant('upsert' as const),
    id: fc.constantFrom('e1', 'e2', 'e3', 'e4', 'e5'),
    journey: fc.constantFrom('onboarding', 'renewal'),
    status: fc.constantFrom('active' as const, 'completed' as const, 'exited' as const),
    stage: fc.constantFrom('welcome', 'activation', 'done'),
  }),
  fc.record({ kind: fc.constant('delete' as const), id: fc.constantFrom('e1', 'e2', 'e3') }),
);

describe('journey_enrollment_counts', () => {
  it('always equals a count of the enrollments', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const db = openDatabase(':memory:');
        applyMigrations(db, MIGRATIONS, new VirtualClock(0));
        const q = prepareStatements(db);
        const remove = db.prepare<[string], never>('DELETE FROM journey_enrollments WHERE id = ?');
        for (const op of operations) {
          if (op.kind === 'delete') {
            remove.run(op.id);
          } else {
            q.upsertEnrollment.run(
              op.id,
              op.journey,
              1,
              'c1',
              op.status,
              op.stage,
              null,
              '{}',
              0,
              0,
              0,
              null,
              null,
            );
          }
        }
        const rows = (sql: string) =>
          db
            .prepare<[], { journey_id: string; status: string; stage: string; n: number }>(sql)
            .all()
            .map((r) => `${r.journey_id}/${r.status}/${r.stage}=${r.n}`);
        const kept = rows(
          `SELECT journey_id, status, stage, enrollments AS n FROM journey_enrollment_counts
            WHERE enrollments <> 0 ORDER BY 1, 2, 3`,
        );
        const counted = rows(
          `SELECT journey_id, status, stage, COUNT(*) AS n FROM journey_enrollments
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        );
        db.close();
        expect(kept).toEqual(counted);
      }),
      { numRuns: 300 },
    );
  });
});

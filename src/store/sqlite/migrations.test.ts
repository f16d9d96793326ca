import { describe, expect, it } from 'vitest';

import { VirtualClock } from '../contract.js';
import { openDatabase } from './driver.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, applyMigrations, schemaVersion } from './migrations.js';
import type { Migration } from './migrations.js';

const clock = new VirtualClock('2026-01-01T00:00:00Z');

function tables(db: ReturnType<typeof openDatabase>): string[] {
  return db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all()
    .map((row) => row.name);
}

describe('migrations', () => {
  it('are numbered 1, 2, 3, ... and the latest version is the last one', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('create every table the engine and the diagnostic queries use', () => {
    const db = openDatabase(':memory:');
    expect(applyMigrations(db, MIGRATIONS, clock)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(tables(db)).toEqual([
      'alerts',
      'consumer_cursors',
      'customers',
      'dead_letters',
      'decisions',
      'events',
      'journey_enrollment_counts',
      'journey_enrollments',
      'journey_events',
      'journey_versions',
      'journeys',
      'leases',
      'messages',
      'models',
      'outbox',
      'rate_buckets',
      'role_leases',
      'rule_fires',
      'schedule_plans',
      'schema_migrations',
      'tasks',
      'timers',
      'trigger_executions',
      'trigger_states',
    ]);
    db.close();
  });

  it('record each applied migration once and apply nothing on a second run', () => {
    const db = openDatabase(':memory:');
    applyMigrations(db, MIGRATIONS, clock);
    expect(applyMigrations(db, MIGRATIONS, clock)).toEqual([]);
    const recorded = db
      .prepare<[], { version: number; name: string; applied_at: number }>(
        'SELECT * FROM schema_migrations ORDER BY version',
      )
      .all();
    expect(recorded).toEqual([
      { version: 1, name: 'initial schema', applied_at: clock.now() },
      { version: 2, name: 'journey event consumer cursors', applied_at: clock.now() },
      { version: 3, name: 'leases without secondary indexes', applied_at: clock.now() },
      { version: 4, name: 'schedule plans', applied_at: clock.now() },
      { version: 5, name: 'timers by customer without due time', applied_at: clock.now() },
      { version: 6, name: 'schedule plans without due time', applied_at: clock.now() },
      {
        version: 7,
        name: 'delivery: lanes, attempts, providers, dead letters',
        applied_at: clock.now(),
      },
      { version: 8, name: 'messages send_at for contact caps', applied_at: clock.now() },
      {
        version: 9,
        name: 'engagement, in-app inbox, task completion, rate buckets',
        applied_at: clock.now(),
      },
      { version: 10, name: 'model registry, decisions by kind', applied_at: clock.now() },
      { version: 11, name: 'process roles', applied_at: clock.now() },
      { version: 12, name: 'enrollment counts kept by triggers', applied_at: clock.now() },
    ]);
    db.close();
  });

  it('count the enrollments already stored when the counts table arrives (12)', () => {
    const db = openDatabase(':memory:');
    applyMigrations(db, MIGRATIONS.slice(0, 11), clock);
    const insert = db.prepare<[string, string, string, string], never>(
      `INSERT INTO journey_enrollments (id, journey_id, journey_version, customer_id, status, stage,
         state, holdout, enrolled_at, updated_at) VALUES (?, ?, 1, 'c', ?, ?, '{}', 0, 0, 0)`,
    );
    insert.run('e1', 'onboarding', 'active', 'welcome');
    insert.run('e2', 'onboarding', 'active', 'welcome');
    insert.run('e3', 'onboarding', 'completed', 'activation');
    insert.run('e4', 'renewal', 'active', 'notice');
    expect(applyMigrations(db, MIGRATIONS, clock)).toEqual([12]);
    const counts = () =>
      db
        .prepare<[], { journey_id: string; status: string; stage: string; enrollments: number }>(
          'SELECT journey_id, status, stage, enrollments FROM journey_enrollment_counts ORDER BY 1, 2, 3',
        )
        .all()
        .map((r) => [r.journey_id, r.status, r.stage, r.enrollments]);
    expect(counts()).toEqual([
      ['onboarding', 'active', 'welcome', 2],
      ['onboarding', 'completed', 'activation', 1],
      ['renewal', 'active', 'notice', 1],
    ]);
    // From then on the triggers keep them.
    insert.run('e5', 'renewal', 'active', 'notice');
    db.prepare("UPDATE journey_enrollments SET status = 'exited' WHERE id = 'e1'").run();
    db.prepare("DELETE FROM journey_enrollments WHERE id = 'e3'").run();
    expect(counts()).toEqual([
      ['onboarding', 'active', 'welcome', 1],
      ['onboarding', 'completed', 'activation', 0],
      ['onboarding', 'exited', 'welcome', 1],
      ['renewal', 'active', 'notice', 2],
    ]);
    db.close();
  });

  it('apply only the missing ones to an older database', () => {
    const db = openDatabase(':memory:');
    const first: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER)' };
    const second: Migration = { version: 2, name: 'two', sql: 'ALTER TABLE a ADD COLUMN y TEXT' };
    expect(applyMigrations(db, [first], clock)).toEqual([1]);
    expect(schemaVersion(db)).toBe(1);
    expect(applyMigrations(db, [first, second], clock)).toEqual([2]);
    expect(schemaVersion(db)).toBe(2);
    db.close();
  });

  it('leave the schema at the previous version when a migration fails', () => {
    const db = openDatabase(':memory:');
    const first: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER)' };
    const broken: Migration = {
      version: 2,
      name: 'broken',
      sql: 'CREATE TABLE b (x INTEGER); CREATE TABLE a (x INTEGER)',
    };
    applyMigrations(db, [first], clock);
    expect(() => applyMigrations(db, [first, broken], clock)).toThrow(/already exists/);
    expect(schemaVersion(db)).toBe(1);
    expect(tables(db)).toEqual(['a', 'schema_migrations']);
    db.close();
  });

  it('refuse a database migrated by a newer version', () => {
    const db = openDatabase(':memory:');
    applyMigrations(db, MIGRATIONS, clock);
    db.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 0)").run();
    expect(() => applyMigrations(db, MIGRATIONS, clock)).toThrow(
      expect.objectContaining({ code: 'STORE_SCHEMA_TOO_NEW' }),
    );
    db.close();
  });

  it('refuse a list with a gap', () => {
    const db = openDatabase(':memory:');
    const gap: Migration[] = [{ version: 2, name: 'two', sql: 'SELECT 1' }];
    expect(() => applyMigrations(db, gap, clock)).toThrow(/expected 1/);
    db.close();
  });
});

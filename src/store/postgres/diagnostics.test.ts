/**
 * The guide's three diagnostic queries on PostgreSQL: run as written (NOW() and all) against rows
 * placed relative to the real time, answered the same way as SQLite's translation, and served by
 * the indexes the schema made for them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { emptyWorkResult } from '../contract.js';
import type { EnrollmentRecord, MessageRecord, Store, WorkResult } from '../contract.js';
import { openSqliteStore, runDiagnostics as runSqliteDiagnostics } from '../sqlite/index.js';
import { DIAGNOSTIC_QUERIES, runDiagnostics } from './diagnostics.js';
import type { PostgresStore } from './postgres-store.js';
import { createTestDatabase } from '../../../test/support/index.js';

const database = await createTestDatabase();
const available = typeof database !== 'string';
if (!available) console.warn(`skipping the PostgreSQL diagnostics tests: ${database}`);

const SPEC = resolve(import.meta.dirname, '../../../../shared/spec/journey-orchestration-guide.md');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function enrollment(
  id: string,
  stage: string,
  updatedAt: number,
  status: EnrollmentRecord['status'] = 'active',
): EnrollmentRecord {
  return {
    id,
    journeyId: 'onboarding',
    journeyVersion: 1,
    customerId: 'c1',
    status,
    stage,
    stepId: null,
    state: {},
    holdout: false,
    enrolledAt: updatedAt,
    updatedAt,
    endedAt: null,
    exitReason: null,
  };
}

function message(
  id: string,
  channel: string,
  status: MessageRecord['status'],
  sentAt: number | null,
  now: number,
): MessageRecord {
  return {
    id,
    customerId: 'c1',
    journeyId: null,
    enrollmentId: null,
    stepId: null,
    channel,
    priority: 'normal',
    status,
    content: {},
    idempotencyKey: id,
    createdAt: now - 2 * DAY,
    sentAt,
    updatedAt: now,
    error: null,
  };
}

/** Rows around the queries' windows, with a margin of hours so the real clock cannot move them. */
function rows(now: number): Partial<WorkResult> {
  const execution = (triggerName: string, executedAt: number, processingTimeMs: number) => ({
    triggerName,
    customerId: 'c1',
    eventSeq: null,
    executedAt,
    processingTimeMs,
    fired: false,
  });
  return {
    enrollmentUpserts: [
      enrollment('stuck-1', 'welcome', now - 8 * DAY),
      enrollment('stuck-2', 'welcome', now - 9 * DAY),
      enrollment('stuck-3', 'activation', now - 30 * DAY),
      enrollment('fresh', 'welcome', now - 6 * DAY),
      enrollment('done', 'welcome', now - 30 * DAY, 'completed'),
    ],
    messages: [
      message('m1', 'email', 'sent', now - HOUR, now),
      message('m2', 'email', 'sent', now - 2 * HOUR, now),
      message('m3', 'email', 'failed', now - 3 * HOUR, now),
      message('m4', 'sms', 'sent', now - 2 * DAY, now),
      message('m5', 'sms', 'queued', null, now),
    ],
    triggerExecutions: [
      execution('fast', now - 10 * 60_000, 1),
      execution('fast', now - 20 * 60_000, 3),
      execution('slow', now - 30 * 60_000, 50),
      execution('old', now - 3 * HOUR, 1000),
    ],
  };
}

async function seed(store: Store, now: number): Promise<void> {
  await store.appendEvents([{ type: 'x', customerId: 'c1', occurredAt: now, payload: {} }], now);
  const batch = await store.claimWork({
    now,
    maxEvents: 10,
    maxTimers: 10,
    workerId: 'w',
    leaseMs: 1000,
  });
  if (batch === null) throw new Error('expected a batch');
  await store.commitWork(batch, { ...emptyWorkResult(), ...rows(now) });
}

function sorted<T>(items: T[]): T[] {
  return [...items].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

describe.skipIf(!available)('PostgreSQL diagnostics', () => {
  const db = typeof database === 'string' ? null : database;
  const opened: PostgresStore[] = [];

  async function migrated(): Promise<PostgresStore> {
    if (db === null) throw new Error('no test database');
    const store = db.openStore();
    opened.push(store);
    await store.migrate();
    return store;
  }

  afterAll(async () => {
    for (const store of opened) await store.close();
    await db?.drop();
  });

  it.skipIf(!existsSync(SPEC))('runs the guide’s text character for character', () => {
    const guide = readFileSync(SPEC, 'utf8');
    const section = guide.slice(guide.indexOf('### Diagnostic Queries'));
    const sql = /```sql\n([\s\S]*?)```/u.exec(section)?.[1] ?? '';
    expect(sql).not.toBe('');
    for (const query of Object.values(DIAGNOSTIC_QUERIES)) expect(sql).toContain(query);
  });

  it('answers the three queries at the database’s NOW(), as SQLite answers them', async () => {
    const store = await migrated();
    // The rows are placed relative to the real time, because the queries read NOW().
    const now = Date.now();
    await seed(store, now);
    const result = await runDiagnostics(store);
    expect(sorted(result.stuckJourneys)).toEqual([
      { journey_id: 'onboarding', stage: 'activation', count: 1 },
      { journey_id: 'onboarding', stage: 'welcome', count: 2 },
    ]);
    expect(sorted(result.messageDeliveryIssues)).toEqual([
      { channel: 'email', status: 'failed', count: 1 },
      { channel: 'email', status: 'sent', count: 2 },
    ]);
    expect(result.triggerPerformance).toEqual([
      { trigger_name: 'slow', avg: 50, count: 1 },
      { trigger_name: 'fast', avg: 2, count: 2 },
    ]);

    const sqlite = openSqliteStore({ file: ':memory:' });
    await sqlite.migrate();
    await seed(sqlite, now);
    const translated = runSqliteDiagnostics(sqlite, now);
    await sqlite.close();
    expect(sorted(result.stuckJourneys)).toEqual(sorted(translated.stuckJourneys));
    expect(sorted(result.messageDeliveryIssues)).toEqual(sorted(translated.messageDeliveryIssues));
    expect(result.triggerPerformance).toEqual(translated.triggerPerformance);
  });

  it('can serve each query from the index made for it', async () => {
    if (db === null) throw new Error('no test database');
    const store = await migrated();
    const client = await db.connect();
    try {
      await client.query(`SET search_path = ${store.schema ?? 'public'}`);
      // On tables this small the planner prefers reading them whole; with sequential scans off
      // it shows which index can answer each query, i.e. that the partial indexes' conditions
      // are implied by the queries as written.
      await client.query('SET enable_seqscan = off');
      const plans = new Map<string, string>();
      for (const [name, query] of Object.entries(DIAGNOSTIC_QUERIES)) {
        const explained = await client.query<{ 'QUERY PLAN': unknown }>(
          `EXPLAIN (FORMAT JSON) ${query}`,
        );
        plans.set(name, JSON.stringify(explained.rows[0]?.['QUERY PLAN']));
      }
      expect(plans.get('stuckJourneys')).toContain('journey_enrollments_active_by_update');
      expect(plans.get('messageDeliveryIssues')).toContain('messages_by_sent_at');
      expect(plans.get('triggerPerformance')).toContain('trigger_executions_by_time');
    } finally {
      await client.end();
    }
  });
});

import { describe, expect, it } from 'vitest';

import { emptyWorkResult } from '../contract.js';
import type { EnrollmentRecord, MessageRecord } from '../contract.js';
import { runDiagnostics } from './diagnostics.js';
import { openSqliteStore } from './sqlite-store.js';

const NOW = Date.UTC(2026, 5, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function enrollment(
  id: string,
  stage: string,
  updatedAt: number,
  status = 'active',
): EnrollmentRecord {
  return {
    id,
    journeyId: 'onboarding',
    journeyVersion: 1,
    customerId: 'c1',
    status: status as EnrollmentRecord['status'],
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
    createdAt: NOW - 2 * DAY,
    sentAt,
    updatedAt: NOW,
    error: null,
  };
}

describe('runDiagnostics', () => {
  it('answers the guide’s three queries at the given instant', async () => {
    const store = openSqliteStore({ file: ':memory:' });
    await store.migrate();
    await store.appendEvents([{ type: 'x', customerId: 'c1', occurredAt: NOW, payload: {} }], NOW);
    const batch = await store.claimWork({
      now: NOW,
      maxEvents: 10,
      maxTimers: 10,
      workerId: 'w',
      leaseMs: 1000,
    });
    if (batch === null) throw new Error('expected a batch');
    const execution = (triggerName: string, executedAt: number, processingTimeMs: number) => ({
      triggerName,
      customerId: 'c1',
      eventSeq: null,
      executedAt,
      processingTimeMs,
      fired: false,
    });
    await store.commitWork(batch, {
      ...emptyWorkResult(),
      enrollmentUpserts: [
        enrollment('stuck-1', 'welcome', NOW - 8 * DAY),
        enrollment('stuck-2', 'welcome', NOW - 7 * DAY - 1),
        enrollment('stuck-3', 'activation', NOW - 30 * DAY),
        enrollment('fresh', 'welcome', NOW - 7 * DAY),
        enrollment('done', 'welcome', NOW - 30 * DAY, 'completed'),
      ],
      messages: [
        message('m1', 'email', 'sent', NOW - HOUR),
        message('m2', 'email', 'sent', NOW - 2 * HOUR),
        message('m3', 'email', 'failed', NOW - 3 * HOUR),
        message('m4', 'sms', 'sent', NOW - DAY),
        message('m5', 'sms', 'queued', null),
      ],
      triggerExecutions: [
        execution('fast', NOW - 10, 1),
        execution('fast', NOW - 20, 3),
        execution('slow', NOW - 30, 50),
        execution('old', NOW - 2 * HOUR, 1000),
      ],
    });

    const result = runDiagnostics(store, NOW);
    expect(result.stuckJourneys).toEqual(
      expect.arrayContaining([
        { journey_id: 'onboarding', stage: 'welcome', count: 2 },
        { journey_id: 'onboarding', stage: 'activation', count: 1 },
      ]),
    );
    expect(result.stuckJourneys).toHaveLength(2);
    expect(result.messageDeliveryIssues).toEqual(
      expect.arrayContaining([
        { channel: 'email', status: 'sent', count: 2 },
        { channel: 'email', status: 'failed', count: 1 },
      ]),
    );
    expect(result.messageDeliveryIssues).toHaveLength(2);
    expect(result.triggerPerformance).toEqual([
      { trigger_name: 'slow', avg: 50, count: 1 },
      { trigger_name: 'fast', avg: 2, count: 2 },
    ]);

    // The same database, read through a raw connection, gives the same answer; time is a parameter.
    expect(runDiagnostics(store.database, NOW)).toEqual(result);
    expect(runDiagnostics(store, NOW + 40 * DAY).triggerPerformance).toEqual([]);
    await store.close();
  });
});

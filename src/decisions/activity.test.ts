import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIVITY_DAYS, activityFeatures, recordActivity } from './activity.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-02T10:00:00Z');

describe('activity counters and features', () => {
  it('counts all events and tracked types, and derives recency and windows at any instant', () => {
    const tracked = new Set(['login']);
    let record = recordActivity(undefined, 'login', T0 - 40 * DAY, tracked);
    record = recordActivity(record, 'feature.used', T0 - 20 * DAY, tracked);
    record = recordActivity(record, 'login', T0 - 3 * DAY, tracked);
    record = recordActivity(record, 'feature.used', T0 - DAY, tracked);
    expect(record['all']?.total).toBe(4);
    expect(record['login']?.total).toBe(2);
    expect(record['feature.used']).toBeUndefined();
    expect(activityFeatures(record, T0)).toEqual({
      activity_all_days_since_last: 1,
      activity_all_days_since_first: 40,
      activity_all_total: 4,
      activity_all_7d: 2,
      activity_all_30d: 3,
      activity_all_90d: 4,
      activity_login_days_since_last: 3,
      activity_login_days_since_first: 40,
      activity_login_total: 2,
      activity_login_7d: 1,
      activity_login_30d: 1,
      activity_login_90d: 2,
    });
    // The same record read a month later: windows empty out, recency grows; nothing was written.
    expect(activityFeatures(record, T0 + 30 * DAY)).toMatchObject({
      activity_all_days_since_last: 31,
      activity_all_7d: 0,
      activity_all_30d: 0,
      activity_all_90d: 4,
    });
  });

  it('keeps at most the last 90 days of daily counts, and a late event counts on its own day', () => {
    let record = recordActivity(undefined, 'x', T0, new Set());
    record = recordActivity(record, 'x', T0 + 100 * DAY, new Set());
    expect(Object.keys(record['all']?.days ?? {})).toHaveLength(1);
    record = recordActivity(record, 'x', T0 + 95 * DAY, new Set());
    expect(record['all']?.last).toBe(T0 + 100 * DAY);
    expect(activityFeatures(record, T0 + 100 * DAY)['activity_all_7d']).toBe(2);
  });

  it('reads anything stored without throwing (a hand-edited profile)', () => {
    expect(activityFeatures('nonsense', T0)).toEqual({});
    expect(activityFeatures({ all: { first: 'x' } }, T0)).toEqual({});
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const features = activityFeatures(value, T0);
        for (const v of Object.values(features)) expect(Number.isFinite(v)).toBe(true);
        recordActivity(value, 'login', T0, new Set(['login']));
      }),
    );
  });

  it('property: the 90-day count equals the events of the last 90 days, however they arrive', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 60 }), (ages) => {
        let record: unknown = undefined;
        const times = ages.map((a) => T0 - a * DAY).sort((a, b) => a - b);
        for (const t of times) record = recordActivity(record, 'e', t, new Set());
        const features = activityFeatures(record, T0);
        const expected = ages.filter((a) => a < ACTIVITY_DAYS).length;
        // Events older than the newest by 90+ days are pruned on write, never miscounted.
        expect(features['activity_all_90d'] ?? 0).toBe(expected);
        expect(features['activity_all_total'] ?? 0).toBe(ages.length);
      }),
    );
  });
});

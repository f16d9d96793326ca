import { describe, expect, it } from 'vitest';
import { InvalidRuleError } from './definition.js';
import { BatchFireTally, checkRuleLimits, fireHistoryFromCounts, reachedLimit } from './limits.js';

describe('fireHistoryFromCounts', () => {
  it('answers per customer and rule, and globally', () => {
    const history = fireHistoryFromCounts({
      customers: { c1: { r: { daily: 2 } } },
      global: { r: { per_hour: 9 } },
    });
    expect(history.customerFires('c1', 'r')).toEqual({ daily: 2 });
    expect(history.customerFires('c1', 'other')).toBeUndefined();
    expect(history.customerFires('c2', 'r')).toBeUndefined();
    expect(history.globalFires('r')).toEqual({ per_hour: 9 });
    expect(history.globalFires('other')).toBeUndefined();
  });

  it('treats prototype names as ordinary ids', () => {
    const history = fireHistoryFromCounts({ customers: {} });
    expect(history.customerFires('__proto__', 'toString')).toBeUndefined();
    expect(history.customerFires('constructor', 'r')).toBeUndefined();
    expect(history.globalFires('hasOwnProperty')).toBeUndefined();
  });
});

describe('reachedLimit', () => {
  const empty = fireHistoryFromCounts({});

  it('lets a rule fire below every maximum', () => {
    const limits = { per_customer: { daily: 2, weekly: 5 }, global: { per_hour: 10 } };
    const history = fireHistoryFromCounts({
      customers: { c: { r: { daily: 1, weekly: 4 } } },
      global: { r: { per_hour: 9 } },
    });
    expect(reachedLimit(limits, 'r', 0, 'c', history, new BatchFireTally(1))).toBeUndefined();
  });

  it('reports the first window reached, customer windows before global ones', () => {
    const limits = { per_customer: { daily: 3, weekly: 4 }, global: { per_minute: 1 } };
    const history = fireHistoryFromCounts({
      customers: { c: { r: { daily: 1, weekly: 4 } } },
      global: { r: { per_minute: 5 } },
    });
    expect(reachedLimit(limits, 'r', 0, 'c', history, new BatchFireTally(1))).toEqual({
      scope: 'per_customer',
      window: 'weekly',
      max: 4,
      count: 4,
      firedInBatch: 0,
    });
  });

  it('adds this batch’s fires, per customer and globally', () => {
    const tally = new BatchFireTally(2);
    tally.record(1, 'c');
    tally.record(1, 'd');
    expect(tally.customer(1, 'c')).toBe(1);
    expect(tally.customer(0, 'c')).toBe(0);
    expect(tally.global(1)).toBe(2);
    expect(reachedLimit({ per_customer: { monthly: 1 } }, 'r', 1, 'c', empty, tally)).toMatchObject(
      {
        window: 'monthly',
        count: 1,
        firedInBatch: 1,
      },
    );
    expect(
      reachedLimit({ per_customer: { monthly: 1 } }, 'r', 1, 'e', empty, tally),
    ).toBeUndefined();
    expect(reachedLimit({ global: { per_day: 2 } }, 'r', 1, 'e', undefined, tally)).toMatchObject({
      scope: 'global',
      window: 'per_day',
      count: 2,
      firedInBatch: 2,
    });
  });
});

describe('checkRuleLimits', () => {
  it('accepts whole numbers from zero', () => {
    expect(() => {
      checkRuleLimits({ per_customer: { daily: 0, total: 3 }, global: { per_minute: 100 } }, 'r');
    }).not.toThrow();
  });

  it.each([
    [{ per_customer: { daily: -1 } }, 'limits.per_customer.daily'],
    [{ per_customer: { total: 0.5 } }, 'limits.per_customer.total'],
    [{ global: { per_hour: Number.NaN } }, 'limits.global.per_hour'],
  ])('rejects %j', (limits, path) => {
    try {
      checkRuleLimits(limits, 'r');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRuleError);
      expect((error as InvalidRuleError).details).toEqual({ ruleId: 'r', path });
    }
  });
});

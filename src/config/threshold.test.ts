import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAlertCondition, parsePanelThreshold } from './threshold.js';

describe('parseAlertCondition', () => {
  it("reads the specification's three alert conditions", () => {
    expect(parseAlertCondition('error_rate > 0.01 for 5m')).toEqual({
      ok: true,
      value: {
        text: 'error_rate > 0.01 for 5m',
        metric: 'error_rate',
        op: 'gt',
        threshold: 0.01,
        forMs: 300_000,
      },
    });
    expect(parseAlertCondition('queue_depth > 10000')).toEqual({
      ok: true,
      value: { text: 'queue_depth > 10000', metric: 'queue_depth', op: 'gt', threshold: 10000 },
    });
    expect(parseAlertCondition('journey.progression_rate < 0.5 for 24h')).toMatchObject({
      ok: true,
      value: { metric: 'journey.progression_rate', op: 'lt', threshold: 0.5, forMs: 86_400_000 },
    });
  });

  it('reads every operator, percentages and digit separators', () => {
    expect(parseAlertCondition('a >= 1').ok && parseAlertCondition('a >= 1')).toMatchObject({
      value: { op: 'gte' },
    });
    expect(parseAlertCondition('a <= 1')).toMatchObject({ value: { op: 'lte' } });
    expect(parseAlertCondition('a == 1')).toMatchObject({ value: { op: 'eq' } });
    expect(parseAlertCondition('a != 1')).toMatchObject({ value: { op: 'ne' } });
    expect(parseAlertCondition('error_rate > 1%')).toMatchObject({ value: { threshold: 0.01 } });
    expect(parseAlertCondition('queue_depth > 10_000')).toMatchObject({
      value: { threshold: 10000 },
    });
  });

  it.each([
    'error_rate >> 0.01',
    'error_rate > lots',
    '> 5',
    'error_rate > 1 for ever',
    'x > 1 for 0s',
  ])('rejects %j', (text) => {
    expect(parseAlertCondition(text).ok).toBe(false);
  });

  it('property: never throws', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseAlertCondition(text);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});

describe('parsePanelThreshold', () => {
  it('reads "> 0.01" and rejects a bare number', () => {
    expect(parsePanelThreshold('> 0.01')).toEqual({
      ok: true,
      value: { text: '> 0.01', op: 'gt', threshold: 0.01 },
    });
    expect(parsePanelThreshold('0.01').ok).toBe(false);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRate } from './rate.js';

describe('parseRate', () => {
  it.each([
    ['100/minute', 100, 60_000],
    ['50/second', 50, 1_000],
    ['1000/hour', 1000, 3_600_000],
    ['5/day', 5, 86_400_000],
    ['10 per minute', 10, 60_000],
    ['500/5m', 500, 300_000],
    ['20/s', 20, 1_000],
  ])('reads %s', (text, count, perMs) => {
    expect(parseRate(text)).toEqual({ ok: true, value: { text, count, perMs } });
  });

  it.each(['100/fortnight', 'fast', '0/minute', '100', '1/month', '-5/minute', '100/-1m'])(
    'rejects %j',
    (text) => {
      const result = parseRate(text);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).toMatch(/expected a rate such as 100\/minute/);
    },
  );

  it('property: never throws; accepted rates have a positive count and window', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\d{1,4}\/[a-z0-9 ]{0,8}$/)), (text) => {
        const result = parseRate(text);
        if (result.ok) {
          expect(result.value.count).toBeGreaterThanOrEqual(1);
          expect(result.value.perMs).toBeGreaterThan(0);
        } else {
          expect(result.message).toContain('expected a rate');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('property: count/unit round-trips', () => {
    const units = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])),
        (count, unit) => {
          const result = parseRate(`${count}/${unit}`);
          expect(result.ok && result.value).toMatchObject({ count, perMs: units[unit] });
        },
      ),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { liftOf, normalCdf, wilson } from './uplift.js';

describe('uplift statistics', () => {
  it("reproduces Newcombe's (1998) published intervals", () => {
    // Wilson interval for 81/263: 0.2553 to 0.3662 (Newcombe 1998, Table I).
    const [lo, hi] = wilson(81, 263);
    expect(lo).toBeCloseTo(0.2553, 4);
    expect(hi).toBeCloseTo(0.3662, 4);
    // Difference 56/70 − 48/80, method 10 (hybrid score): 0.0524 to 0.3339 (Table II, example a).
    const lift = liftOf({ customers: 70, conversions: 56 }, { customers: 80, conversions: 48 });
    expect(lift.absolute).toBeCloseTo(0.2, 10);
    expect(lift.ci95?.[0]).toBeCloseTo(0.0524, 4);
    expect(lift.ci95?.[1]).toBeCloseTo(0.3339, 4);
    expect(lift.relative).toBeCloseTo(0.2 / 0.6, 10);
    // Pooled z = 2.650, two-sided p = 0.00805.
    expect(lift.pValue).toBeCloseTo(0.00805, 4);
  });

  it('the normal CDF matches known quantiles', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 6);
  });

  it('answers nulls for an empty group and no p-value without variance', () => {
    expect(
      liftOf({ customers: 0, conversions: 0 }, { customers: 10, conversions: 1 }),
    ).toMatchObject({
      absolute: null,
      ci95: null,
      treated: { rate: null, ci95: null },
    });
    expect(
      liftOf({ customers: 5, conversions: 0 }, { customers: 5, conversions: 0 }),
    ).toMatchObject({
      absolute: 0,
      relative: null,
      pValue: null,
    });
  });

  it('the interval always holds the observed lift and stays within [-1, 1]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (nt, nh, ft, fh) => {
          const lift = liftOf(
            { customers: nt, conversions: Math.floor(nt * ft) },
            { customers: nh, conversions: Math.floor(nh * fh) },
          );
          const [lo, hi] = lift.ci95 ?? [NaN, NaN];
          expect(lo).toBeLessThanOrEqual((lift.absolute ?? NaN) + 1e-12);
          expect(hi).toBeGreaterThanOrEqual((lift.absolute ?? NaN) - 1e-12);
          expect(lo).toBeGreaterThanOrEqual(-1 - 1e-12);
          expect(hi).toBeLessThanOrEqual(1 + 1e-12);
        },
      ),
    );
  });
});

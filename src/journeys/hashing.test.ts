import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unitInterval } from './hashing.js';

describe('unitInterval', () => {
  it('is a number in [0, 1) determined by its parts', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 4 }), (parts) => {
        const u = unitInterval(...parts);
        expect(u).toBeGreaterThanOrEqual(0);
        expect(u).toBeLessThan(1);
        expect(unitInterval(...parts)).toBe(u);
      }),
    );
  });

  it('separates parts, so moving a character between them changes the value', () => {
    expect(unitInterval('a', 'bc')).not.toBe(unitInterval('ab', 'c'));
  });

  it('is close to uniform over 10,000 customers (every decile within 15% of 1,000)', () => {
    const deciles = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const bucket = Math.floor(unitInterval('seed', 'journey', `cus_${i}`) * 10);
      deciles[bucket] = (deciles[bucket] ?? 0) + 1;
    }
    for (const count of deciles) {
      expect(count).toBeGreaterThan(850);
      expect(count).toBeLessThan(1150);
    }
  });
});

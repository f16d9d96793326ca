import { describe, expect, it } from 'vitest';
import { InvalidRuleError, priorityBand } from './definition.js';

describe('priorityBand', () => {
  it.each([
    [1, 'critical'],
    [10, 'critical'],
    [11, 'high'],
    [50, 'high'],
    [51, 'medium'],
    [100, 'medium'],
    [101, 'low'],
    [500, 'low'],
  ] as const)('puts %d in the specification’s %s band', (priority, band) => {
    expect(priorityBand(priority)).toBe(band);
  });

  it('keeps the open ends and fractions in the nearest band', () => {
    expect(priorityBand(0)).toBe('critical');
    expect(priorityBand(-5)).toBe('critical');
    expect(priorityBand(10.5)).toBe('high');
    expect(priorityBand(100.01)).toBe('low');
    expect(priorityBand(10_000)).toBe('low');
  });

  it('rejects a priority that is not a finite number', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      expect(() => priorityBand(bad)).toThrow(InvalidRuleError);
    }
    try {
      priorityBand(Number.NaN);
    } catch (error) {
      expect((error as InvalidRuleError).code).toBe('RULE_INVALID');
    }
  });
});

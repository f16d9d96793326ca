import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationFromMs, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30, 'second', 30_000],
    ['1m', 1, 'minute', 60_000],
    ['5m', 5, 'minute', 300_000],
    ['60s', 60, 'second', 60_000],
    ['1h', 1, 'hour', 3_600_000],
    ['24h', 24, 'hour', 86_400_000],
    ['500ms', 500, 'millisecond', 500],
    ['7_days', 7, 'day', 7 * 86_400_000],
    ['7 days', 7, 'day', 7 * 86_400_000],
    ['-30 days', -30, 'day', -30 * 86_400_000],
    ['2 weeks', 2, 'week', 14 * 86_400_000],
    ['1 month', 1, 'month', 30 * 86_400_000],
    ['1.5h', 1.5, 'hour', 5_400_000],
    ['2 Hours', 2, 'hour', 7_200_000],
  ] as const)('reads %s', (text, amount, unit, ms) => {
    const result = parseDuration(text);
    expect(result).toEqual({
      ok: true,
      value: { text, amount, unit, ms, calendar: ['day', 'week', 'month', 'year'].includes(unit) },
    });
  });

  it.each([
    ['5 parsecs', /unknown duration unit 'parsecs'/],
    ['abc', /expected a duration/],
    ['', /found an empty string/],
    ['60', /without one/],
    ['1M', /ambiguous unit 'M'/],
    ['1.5 days', /whole number of days/],
    ['1 minuets', /did you mean 'minutes'/],
  ])('rejects %j with a message saying what was expected', (text, message) => {
    const result = parseDuration(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('keeps calendar units apart from their nominal length', () => {
    const month = parseDuration('1 month');
    expect(month.ok && month.value).toMatchObject({ unit: 'month', amount: 1, calendar: true });
    const hours = parseDuration('24h');
    expect(hours.ok && hours.value.calendar).toBe(false);
  });

  it('property: a value or a message, never an exception, for any text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseDuration(text);
        if (result.ok) {
          expect(Number.isSafeInteger(result.value.ms)).toBe(true);
          expect(result.value.text).toBe(text);
        } else {
          expect(result.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('property: amount and unit written in any accepted spelling give amount × unit length', () => {
    const spellings = {
      s: 1_000,
      sec: 1_000,
      seconds: 1_000,
      m: 60_000,
      minutes: 60_000,
      h: 3_600_000,
      hours: 3_600_000,
      d: 86_400_000,
      days: 86_400_000,
      w: 604_800_000,
      weeks: 604_800_000,
    } as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.constantFrom(...(Object.keys(spellings) as (keyof typeof spellings)[])),
        fc.constantFrom('', ' ', '_'),
        fc.boolean(),
        (amount, unit, separator, negative) => {
          const text = `${negative ? '-' : ''}${amount}${separator}${unit}`;
          const result = parseDuration(text);
          expect(result.ok).toBe(true);
          if (result.ok)
            expect(result.value.ms).toBe((negative ? -1 : 1) * amount * spellings[unit] || 0);
        },
      ),
    );
  });

  it('property: durationFromMs round-trips through parseDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 ** 12 }), (ms) => {
        const duration = durationFromMs(ms);
        const again = parseDuration(duration.text);
        expect(again.ok && again.value.ms).toBe(ms);
      }),
    );
  });
});

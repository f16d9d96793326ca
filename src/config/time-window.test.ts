import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTimeOfDay, parseTimeWindow } from './time-window.js';

const clock = (minute: number): string =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

describe('parseTimeWindow', () => {
  it('reads a window that wraps midnight', () => {
    expect(parseTimeWindow('22:00-08:00')).toEqual({
      ok: true,
      value: { text: '22:00-08:00', startMinute: 1320, endMinute: 480, wrapsMidnight: true },
    });
  });

  it('reads a daytime window and 24:00 as the end of the day', () => {
    expect(parseTimeWindow('09:00-17:30')).toMatchObject({
      ok: true,
      value: { startMinute: 540, endMinute: 1050, wrapsMidnight: false },
    });
    expect(parseTimeWindow('18:00-24:00')).toMatchObject({ ok: true, value: { endMinute: 1440 } });
  });

  it.each([
    ['25:00-08:00', /hour 25 .* out of range/],
    ['22:60-08:00', /minute 60 .* out of range/],
    ['22:00', /expected a time window/],
    ['09:00-09:00', /same time of day/],
    ['24:00-08:00', /hour 24/],
    ['nine-five', /not a time of day/],
  ])('rejects %j', (text, message) => {
    const result = parseTimeWindow(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('property: never throws on any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.stringMatching(/^\d{1,2}:\d{2}-\d{1,2}:\d{2}$/)),
        (text) => {
          const result = parseTimeWindow(text);
          if (result.ok) {
            expect(result.value.startMinute).toBeGreaterThanOrEqual(0);
            expect(result.value.endMinute).toBeLessThanOrEqual(1440);
            expect(result.value.wrapsMidnight).toBe(
              result.value.endMinute < result.value.startMinute,
            );
          } else {
            expect(result.message).toContain('expected a time window');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: HH:MM-HH:MM round-trips to the same minutes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1439 }),
        fc.integer({ min: 0, max: 1439 }),
        (start, end) => {
          fc.pre(start !== end);
          const result = parseTimeWindow(`${clock(start)}-${clock(end)}`);
          expect(result.ok && result.value).toMatchObject({ startMinute: start, endMinute: end });
        },
      ),
    );
  });
});

describe('parseTimeOfDay', () => {
  it('reads HH:MM and rejects 24:00', () => {
    expect(parseTimeOfDay('09:00')).toEqual({ ok: true, value: { text: '09:00', minute: 540 } });
    expect(parseTimeOfDay('24:00').ok).toBe(false);
  });
});

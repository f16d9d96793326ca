import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRuleError } from './definition.js';
import { CompiledSchedule, LocalTimeTable } from './schedule.js';

const MON = 1;
const FRI = 5;
const SAT = 6;
const SUN = 7;

describe('CompiledSchedule.admits', () => {
  it('without days or windows admits every moment', () => {
    const schedule = new CompiledSchedule({ timezone: 'UTC' }, 'r');
    for (let day = 1; day <= 7; day++) expect(schedule.admits(day, 0)).toBe(true);
  });

  it('treats a window end as exclusive and its start as inclusive', () => {
    const schedule = new CompiledSchedule(
      { timezone: 'UTC', windows: [{ startMinute: 540, endMinute: 1020 }] },
      'r',
    );
    expect(schedule.admits(MON, 539)).toBe(false);
    expect(schedule.admits(MON, 540)).toBe(true);
    expect(schedule.admits(MON, 1019)).toBe(true);
    expect(schedule.admits(MON, 1020)).toBe(false);
  });

  it('gives the after-midnight part of a wrapping window to the day it opened', () => {
    const friday = new CompiledSchedule(
      { timezone: 'UTC', days: [FRI], windows: [{ startMinute: 22 * 60, endMinute: 8 * 60 }] },
      'r',
    );
    expect(friday.admits(FRI, 23 * 60)).toBe(true);
    expect(friday.admits(SAT, 3 * 60)).toBe(true);
    expect(friday.admits(FRI, 3 * 60)).toBe(false);
    expect(friday.admits(SAT, 23 * 60)).toBe(false);
    expect(friday.admits(FRI, 12 * 60)).toBe(false);
    const sunday = new CompiledSchedule(
      { timezone: 'UTC', days: [SUN], windows: [{ startMinute: 22 * 60, endMinute: 8 * 60 }] },
      'r',
    );
    expect(sunday.admits(MON, 60)).toBe(true);
  });

  it('admits a moment inside any of several windows', () => {
    const schedule = new CompiledSchedule(
      {
        timezone: 'UTC',
        windows: [
          { startMinute: 60, endMinute: 120 },
          { startMinute: 600, endMinute: 1440 },
        ],
      },
      'r',
    );
    expect([30, 90, 300, 700, 1439].map((m) => schedule.admits(MON, m))).toEqual([
      false,
      true,
      false,
      true,
      true,
    ]);
  });

  it('matches a plain definition of "inside" for any window and day set (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1 }),
        fc.integer({ min: 0, max: 1439 }),
        fc.integer({ min: 1, max: 1440 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 1439 }),
        (days, start, end, weekday, minute) => {
          fc.pre(start !== end);
          const schedule = new CompiledSchedule(
            { timezone: 'UTC', days, windows: [{ startMinute: start, endMinute: end }] },
            'r',
          );
          // Walk back to the window's opening on a 7-day clock, then ask whether that day is listed.
          const week = (weekday - 1) * 1440 + minute;
          let inside = false;
          for (let opened = 0; opened < 7; opened++) {
            const openAt = opened * 1440 + start;
            const length = (end - start + 1440) % 1440 || 1440;
            const offset = (week - openAt + 7 * 1440) % (7 * 1440);
            if (offset < length && days.includes(opened + 1)) inside = true;
          }
          expect(schedule.admits(weekday, minute)).toBe(inside);
        },
      ),
    );
  });

  it('explains itself', () => {
    const schedule = new CompiledSchedule(
      { timezone: 'UTC', windows: [{ startMinute: 75, endMinute: 1440 }] },
      'r',
    );
    const local = new LocalTimeTable(Date.parse('2026-01-05T12:00:00Z')).in('UTC');
    expect(local).toBeDefined();
    if (local === undefined) return;
    expect(schedule.explain(local, true)).toEqual({
      open: true,
      timezone: 'UTC',
      localTime: '2026-01-05T12:00:00Z',
      weekday: 1,
      days: [1, 2, 3, 4, 5, 6, 7],
      windows: ['01:15-24:00'],
    });
  });
});

describe('LocalTimeTable', () => {
  it('converts an instant to each zone’s weekday and minute of day', () => {
    const table = new LocalTimeTable(Date.parse('2026-01-04T23:45:00Z')); // Sunday in UTC
    expect(table.in('UTC')).toMatchObject({ weekday: SUN, minuteOfDay: 23 * 60 + 45 });
    expect(table.in('Asia/Kolkata')).toMatchObject({ weekday: MON, minuteOfDay: 5 * 60 + 15 });
    expect(table.in('America/Los_Angeles')).toMatchObject({
      weekday: SUN,
      minuteOfDay: 15 * 60 + 45,
    });
  });

  it('answers undefined for a zone that is not IANA, and repeats answers from its memo', () => {
    const table = new LocalTimeTable(0);
    expect(table.in('Not/AZone')).toBeUndefined();
    expect(table.in('')).toBeUndefined();
    expect(table.in('Europe/Paris')).toBe(table.in('Europe/Paris'));
  });
});

describe('schedule validation', () => {
  it.each([
    [{ timezone: 'Europe/Nowhere' }, 'schedule.timezone'],
    [{ timezone: 'UTC', days: [8] }, 'schedule.days[0]'],
    [{ timezone: 'UTC', days: [1, 2.5] }, 'schedule.days[1]'],
    [{ timezone: 'UTC', windows: [{ startMinute: -1, endMinute: 10 }] }, 'schedule.windows[0]'],
    [{ timezone: 'UTC', windows: [{ startMinute: 0, endMinute: 1441 }] }, 'schedule.windows[0]'],
    [{ timezone: 'UTC', windows: [{ startMinute: 1440, endMinute: 10 }] }, 'schedule.windows[0]'],
  ])('rejects %j at %s', (schedule, path) => {
    try {
      new CompiledSchedule(schedule, 'r');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRuleError);
      expect((error as InvalidRuleError).details).toEqual({ ruleId: 'r', path });
    }
  });
});

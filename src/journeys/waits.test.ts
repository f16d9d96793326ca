import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../core/index.js';
import {
  compileJourney,
  JourneyScenario,
  type JourneyDuration,
  type WaitStepDefinition,
} from './index.js';
import { addToInstant, customerZone, parseTimeOfDay, readAnchor } from '../scheduling/index.js';

const NY = 'America/New_York';
const DAY = 86_400_000;
const duration = (amount: number, unit: string, msPerUnit: number): JourneyDuration => ({
  text: `${amount} ${unit}`,
  amount,
  unit,
  ms: amount * msPerUnit,
});
const daysOffset = (n: number) => duration(n, 'day', DAY);
const utc = (iso: string) => Date.parse(iso);

/** Enrols a customer in a journey of one wait step and returns the scenario. */
function waitFor(
  step: Omit<WaitStepDefinition, 'type' | 'id'>,
  attributes: JsonObject,
  start: string,
) {
  const journey = compileJourney(
    {
      id: 'renewal',
      stages: [
        {
          id: 'main',
          steps: [
            { id: 'w', type: 'wait', ...step },
            { id: 'after', type: 'send', channel: 'email', content: { body: 'renewal soon' } },
          ],
        },
      ],
    },
    1,
  );
  const s = new JourneyScenario(journey, { id: 'cus_1', attributes }, { start: utc(start) });
  s.enroll();
  return s;
}

function dueOf(s: JourneyScenario): number | undefined {
  return [...s.timers.values()][0]?.dueAt;
}

describe('until_field', () => {
  it('subtracts 30 calendar days across the March DST change in America/New_York', () => {
    // 09:00 local on 2026-03-20 is EDT (UTC-4); 30 days earlier is 2026-02-18, EST (UTC-5).
    const s = waitFor(
      { until_field: 'customer.contract.end_date', offset: daysOffset(-30) },
      { timezone: NY, contract: { end_date: '2026-03-20T09:00:00' } },
      '2026-01-05T12:00:00Z',
    );
    expect(dueOf(s)).toBe(utc('2026-02-18T14:00:00Z'));
    // Nominal milliseconds would have landed an hour off, at 08:00 local.
    expect(utc('2026-03-20T13:00:00Z') - 30 * DAY).toBe(utc('2026-02-18T13:00:00Z'));
  });

  it('keeps the local hour across the November change, and `at` sets the local time', () => {
    const s = waitFor(
      { until_field: 'renewal_date', offset: daysOffset(-30), at: '09:30' },
      { timezone: NY, renewal_date: '2026-11-10' },
      '2026-01-05T12:00:00Z',
    );
    // 2026-10-11 is still EDT (UTC-4).
    expect(dueOf(s)).toBe(utc('2026-10-11T13:30:00Z'));
  });

  it('anchors on Feb 29: one year earlier is Feb 28, one day later is Mar 1', () => {
    const yearBefore = waitFor(
      { until_field: 'renewal_date', offset: duration(-1, 'year', 365 * DAY), at: '09:00' },
      { timezone: NY, renewal_date: '2028-02-29' },
      '2026-01-05T12:00:00Z',
    );
    expect(dueOf(yearBefore)).toBe(utc('2027-02-28T14:00:00Z'));
    const dayAfter = waitFor(
      { until_field: 'renewal_date', offset: daysOffset(1) },
      { renewal_date: '2028-02-29' },
      '2026-01-05T12:00:00Z',
    );
    expect(dueOf(dayAfter)).toBe(utc('2028-03-01T00:00:00Z'));
    const monthAfter = waitFor(
      { until_field: 'renewal_date', offset: duration(1, 'month', 30 * DAY) },
      { renewal_date: '2028-01-31' },
      '2026-01-05T12:00:00Z',
    );
    expect(dueOf(monthAfter)).toBe(utc('2028-02-29T00:00:00Z'));
  });

  it('reads an ISO instant with offset and epoch milliseconds', () => {
    const iso = waitFor(
      { until_field: 'd' },
      { d: '2026-02-01T10:00:00+01:00' },
      '2026-01-05T12:00:00Z',
    );
    expect(dueOf(iso)).toBe(utc('2026-02-01T09:00:00Z'));
    const epoch = waitFor(
      { until_field: 'd' },
      { d: utc('2026-02-01T00:00:00Z') },
      '2026-01-05T12:00:00Z',
    );
    expect(dueOf(epoch)).toBe(utc('2026-02-01T00:00:00Z'));
  });

  it('continues at once past a target already passed', () => {
    const s = waitFor(
      { until_field: 'renewal_date', offset: daysOffset(-30) },
      { renewal_date: '2026-01-20' },
      '2026-01-05T12:00:00Z',
    );
    expect(s.timers.size).toBe(0);
    expect(
      s.journeyEvents.find((e) => e.type === 'step.completed' && e.data['step_id'] === 'w'),
    ).toMatchObject({
      type: 'step.completed',
      data: { outcome: 'target_passed', due_at: utc('2025-12-21T00:00:00Z') },
    });
    expect(s.enrollment?.status).toBe('completed');
  });

  it.each([
    ['missing_field', {}],
    ['missing_field', { renewal_date: null }],
    ['invalid_date', { renewal_date: 'next spring' }],
    ['invalid_date', { renewal_date: true }],
  ])('a %s continues and records step.skipped (%j)', (reason, attributes) => {
    const s = waitFor({ until_field: 'renewal_date' }, attributes, '2026-01-05T12:00:00Z');
    const skipped = s.journeyEvents.find((e) => e.type === 'step.skipped');
    expect(skipped?.data).toMatchObject({ step_id: 'w', reason, field: 'renewal_date' });
    expect(s.eventTypes.filter((t) => t === 'step.completed')).toHaveLength(1);
    expect(s.enrollment?.status).toBe('completed');
  });

  it('follows the field when the profile changes', () => {
    const s = waitFor(
      { until_field: 'renewal_date', offset: daysOffset(-1) },
      { renewal_date: '2026-03-01' },
      '2026-01-05T12:00:00Z',
    );
    const first = [...s.timers.keys()][0];
    expect(dueOf(s)).toBe(utc('2026-02-28T00:00:00Z'));
    s.updateProfile({ renewal_date: '2026-04-01' });
    expect(s.settledTimers.get(first ?? '')).toBe('cancelled');
    expect(dueOf(s)).toBe(utc('2026-03-31T00:00:00Z'));
    // Unchanged: nothing happens. Removed: the last known date still stands.
    const effects = s.effects.length;
    s.updateProfile({ plan: 'pro' });
    s.updateProfile({ renewal_date: null });
    expect(s.effects.length).toBe(effects);
    // Moved into the past: continue now.
    s.updateProfile({ renewal_date: '2026-01-01' });
    expect(s.timers.size).toBe(0);
    expect(s.enrollment?.status).toBe('completed');
  });
});

describe('durations and local times', () => {
  it('"1 day" keeps the local time across spring-forward; "24h" is 24 elapsed hours', () => {
    const start = '2026-03-07T14:00:00Z'; // 09:00 EST
    const oneDay = waitFor({ duration: daysOffset(1) }, { timezone: NY }, start);
    expect(dueOf(oneDay)).toBe(utc('2026-03-08T13:00:00Z')); // 09:00 EDT
    const hours = waitFor({ duration: duration(24, 'hour', 3_600_000) }, { timezone: NY }, start);
    expect(dueOf(hours)).toBe(utc('2026-03-08T14:00:00Z'));
  });

  it('a duration with `at` lands on that local time of the resulting day', () => {
    const s = waitFor(
      { duration: daysOffset(2), at: '08:00' },
      { timezone: NY },
      '2026-01-05T22:00:00Z',
    );
    expect(dueOf(s)).toBe(utc('2026-01-07T13:00:00Z'));
  });

  it('uses UTC (or the journey default) for a missing or invalid timezone attribute', () => {
    expect(customerZone({}, 'UTC')).toBe('UTC');
    expect(customerZone({ timezone: 'Mars/Olympus' }, 'Europe/Paris')).toBe('Europe/Paris');
    expect(customerZone({ timezone: NY }, 'UTC')).toBe(NY);
    expect(customerZone({ timezone: 7 }, 'not a zone')).toBe('UTC');
  });

  it('a fractional calendar amount or a unitless duration is added as milliseconds', () => {
    const at = utc('2026-03-07T14:00:00Z');
    expect(addToInstant(at, { ms: 36 * 3_600_000, amount: 1.5, unit: 'day' }, NY)).toBe(
      at + 36 * 3_600_000,
    );
    expect(addToInstant(at, { ms: 5000 }, NY)).toBe(at + 5000);
    expect(addToInstant(at, { ms: -DAY, amount: 1, sign: -1, unit: 'days' }, NY)).toBe(
      utc('2026-03-06T14:00:00Z'),
    );
  });

  it("days and weeks land where luxon's calendar arithmetic puts them, in any zone (fast path)", () => {
    const zones = [
      NY,
      'Europe/Berlin',
      'Australia/Lord_Howe', // a 30-minute daylight-saving shift
      'Asia/Kathmandu', // +05:45
      'Pacific/Kiritimati', // UTC+14
      'Etc/GMT+12', // UTC−12
      'America/Santiago', // transitions at local midnight
      'UTC',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        // 2020-2032, so every daylight-saving change of those years is crossed by some case.
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2032, 0, 1) }),
        fc.integer({ min: -400, max: 400 }),
        fc.constantFrom('day', 'days', 'd', 'week', 'w'),
        (zone, at, amount, unit) => {
          const weeks = unit.startsWith('w');
          const d: JourneyDuration = { amount, unit, ms: amount * (weeks ? 7 : 1) * DAY };
          const expected = DateTime.fromMillis(at, { zone })
            .plus({ [weeks ? 'weeks' : 'days']: amount })
            .toMillis();
          expect(addToInstant(at, d, zone)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('parses times of day and anchors', () => {
    expect(parseTimeOfDay('9:05')).toEqual({ hour: 9, minute: 5, second: 0 });
    expect(parseTimeOfDay('23:59:30')).toEqual({ hour: 23, minute: 59, second: 30 });
    expect(parseTimeOfDay('24:00')).toBeNull();
    expect(parseTimeOfDay('noon')).toBeNull();
    const anchor = readAnchor('2026-07-01', NY);
    expect(typeof anchor === 'string' ? anchor : anchor.toISO()).toBe(
      '2026-07-01T00:00:00.000-04:00',
    );
    expect(readAnchor('', NY)).toBe('missing_field');
    expect(readAnchor({ y: 2026 }, NY)).toBe('invalid_date');
    expect(DateTime.fromISO('2026-02-30').isValid).toBe(false);
    expect(readAnchor('2026-02-30', NY)).toBe('invalid_date');
  });
});

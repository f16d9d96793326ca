import { Cron } from 'croner';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  anchoredFireAt,
  CronTimetable,
  insideWindow,
  nextOpenMoment,
  windowEnd,
  type BusinessHours,
} from './index.js';

const NY = 'America/New_York';
const utc = (iso: string) => Date.parse(iso);
const local = (ms: number | string | null, zone: string) =>
  typeof ms === 'number'
    ? DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true })
    : ms;
const NINE = { hour: 9, minute: 0, second: 0 };
const days = (n: number) => ({ ms: n * 86_400_000, amount: n, unit: 'days' });

describe('cron timetables in a customer zone', () => {
  it('fires a 02:30 schedule once on the spring-forward day, when the clock has jumped', () => {
    const daily = new CronTimetable('30 2 * * *');
    // 2026-03-08: New York skips 02:00-03:00.
    const first = daily.nextAfter(utc('2026-03-07T12:00:00Z'), NY);
    expect(local(first, NY)).toBe('2026-03-08T03:30:00-04:00');
    expect(local(daily.nextAfter(first ?? 0, NY), NY)).toBe('2026-03-09T02:30:00-04:00');
  });

  it('fires a 01:30 schedule once on the fall-back day, although 01:30 happens twice', () => {
    const daily = new CronTimetable('30 1 * * *');
    const first = daily.nextAfter(utc('2026-10-31T12:00:00Z'), NY);
    expect(local(first, NY)).toBe('2026-11-01T01:30:00-04:00');
    // The second 01:30 (EST) is not a second fire.
    expect(local(daily.nextAfter(first ?? 0, NY), NY)).toBe('2026-11-02T01:30:00-05:00');
  });

  it('month-end 0 10 31 * * fires only in months with a 31st', () => {
    const monthEnd = new CronTimetable('0 10 31 * *');
    const fires: (string | null)[] = [];
    let at = utc('2026-01-01T00:00:00Z');
    for (let i = 0; i < 4; i++) {
      const next = monthEnd.nextAfter(at, 'UTC');
      fires.push(local(next, 'UTC'));
      at = next ?? at;
    }
    expect(fires).toEqual([
      '2026-01-31T10:00:00Z',
      '2026-03-31T10:00:00Z',
      '2026-05-31T10:00:00Z',
      '2026-07-31T10:00:00Z',
    ]);
  });

  it('reaches UTC+14 and UTC−12 customers at 9 AM their time, 26 hours apart', () => {
    const morning = new CronTimetable('0 9 * * 1-5');
    const after = utc('2026-06-01T00:00:00Z');
    const kiritimati = morning.nextAfter(after, 'Pacific/Kiritimati');
    const bakerIsland = morning.nextAfter(after, 'Etc/GMT+12');
    expect(local(kiritimati, 'Pacific/Kiritimati')).toBe('2026-06-02T09:00:00+14:00');
    expect(local(bakerIsland, 'Etc/GMT+12')).toBe('2026-06-01T09:00:00-12:00');
    expect(local(kiritimati, 'UTC')).toBe('2026-06-01T19:00:00Z');
    expect(local(bakerIsland, 'UTC')).toBe('2026-06-01T21:00:00Z');
  });

  it('its per-minute cache gives what croner gives for every instant', () => {
    const timetable = new CronTimetable('15 9 * * 1-5');
    const zones = [NY, 'Europe/Berlin', 'Asia/Kathmandu', 'Australia/Lord_Howe'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: utc('2026-01-01T00:00:00Z'), max: utc('2027-01-01T00:00:00Z') }),
        (zone, at) => {
          const croner = new Cron('15 9 * * 1-5', { timezone: zone, paused: true });
          expect(timetable.nextAfter(at, zone)).toBe(croner.nextRun(new Date(at))?.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects an expression croner cannot read when compiled', () => {
    expect(() => new CronTimetable('61 * * * *')).toThrow();
  });
});

describe('anchored fires', () => {
  it('30 days before a contract end, at 09:00 local', () => {
    expect(local(anchoredFireAt('2026-12-31', days(-30), 'Asia/Tokyo', NINE), 'Asia/Tokyo')).toBe(
      '2026-12-01T09:00:00+09:00',
    );
  });

  it('keeps the local time across a DST change between anchor and fire', () => {
    // Anchor after the spring-forward, fire before it: still 09:00 local.
    expect(local(anchoredFireAt('2026-03-20', days(-30), NY, NINE), NY)).toBe(
      '2026-02-18T09:00:00-05:00',
    );
  });

  it('Feb 29 anchors: a year later is Feb 28, a day before is Feb 28', () => {
    const year = { ms: 365 * 86_400_000, amount: 1, unit: 'year' };
    expect(local(anchoredFireAt('2028-02-29', year, 'UTC', NINE), 'UTC')).toBe(
      '2029-02-28T09:00:00Z',
    );
    expect(local(anchoredFireAt('2028-02-29', days(-1), 'UTC', NINE), 'UTC')).toBe(
      '2028-02-28T09:00:00Z',
    );
    expect(local(anchoredFireAt('2028-03-01', days(-1), 'UTC', NINE), 'UTC')).toBe(
      '2028-02-29T09:00:00Z',
    );
  });

  it('an hour offset keeps the anchor time; bad anchors say why', () => {
    const hours = { ms: -2 * 3_600_000, amount: 2, sign: -1, unit: 'hours' };
    expect(local(anchoredFireAt('2026-05-05T15:00:00Z', hours, 'UTC', NINE), 'UTC')).toBe(
      '2026-05-05T13:00:00Z',
    );
    expect(anchoredFireAt(undefined, days(-30), 'UTC', NINE)).toBe('missing_field');
    expect(anchoredFireAt('next tuesday', days(-30), 'UTC', NINE)).toBe('invalid_date');
  });
});

describe('quiet hours', () => {
  const night = { startMinute: 22 * 60, endMinute: 8 * 60 };

  it('a window over midnight holds to the next local morning, before or after midnight', () => {
    const berlin = 'Europe/Berlin';
    const lateEvening = DateTime.fromISO('2026-06-10T23:10', { zone: berlin }).toMillis();
    const earlyMorning = DateTime.fromISO('2026-06-11T06:00', { zone: berlin }).toMillis();
    const noon = DateTime.fromISO('2026-06-11T12:00', { zone: berlin }).toMillis();
    expect(insideWindow(night, lateEvening, berlin)).toBe(true);
    expect(local(windowEnd(night, lateEvening, berlin), berlin)).toBe('2026-06-11T08:00:00+02:00');
    expect(local(windowEnd(night, earlyMorning, berlin), berlin)).toBe('2026-06-11T08:00:00+02:00');
    expect(insideWindow(night, noon, berlin)).toBe(false);
    expect(windowEnd(night, noon, berlin)).toBe(noon);
  });

  it('ends at 08:00 wall time on a night the clocks change', () => {
    const lateEvening = DateTime.fromISO('2026-03-07T23:00', { zone: NY }).toMillis();
    expect(local(windowEnd(night, lateEvening, NY), NY)).toBe('2026-03-08T08:00:00-04:00');
  });

  it('is in the customer zone: 23:00 in Tokyo is quiet while it is 10:00 in New York', () => {
    const at = utc('2026-06-10T14:00:00Z');
    expect(insideWindow(night, at, 'Asia/Tokyo')).toBe(true);
    expect(insideWindow(night, at, NY)).toBe(false);
  });
});

describe('business hours', () => {
  const hours: BusinessHours = {
    days: [1, 2, 3, 4, 5],
    hours: { startMinute: 9 * 60, endMinute: 17 * 60 },
    holidays: new Set(['2026-12-25']),
  };
  const at = (iso: string) => DateTime.fromISO(iso, { zone: NY }).toMillis();

  it('now during opening hours, else the next open day at 9', () => {
    expect(local(nextOpenMoment(hours, at('2026-12-22T10:00'), NY), NY)).toBe(
      '2026-12-22T10:00:00-05:00',
    );
    expect(local(nextOpenMoment(hours, at('2026-12-22T18:00'), NY), NY)).toBe(
      '2026-12-23T09:00:00-05:00',
    );
    expect(local(nextOpenMoment(hours, at('2026-12-22T07:00'), NY), NY)).toBe(
      '2026-12-22T09:00:00-05:00',
    );
  });

  it('skips weekends and holidays: Christmas Eve evening → Monday the 28th', () => {
    expect(local(nextOpenMoment(hours, at('2026-12-24T17:30'), NY), NY)).toBe(
      '2026-12-28T09:00:00-05:00',
    );
  });

  it('is null for a calendar that never opens', () => {
    expect(nextOpenMoment({ ...hours, days: [] }, at('2026-12-22T10:00'), NY)).toBeNull();
  });
});

/**
 * Calendar arithmetic in a customer's time zone: when a wait ends, when an anchored schedule
 * fires. It happens in the customer's time zone with luxon, so "wait
 * 1 day" keeps the local time of day across a daylight-saving change, "-30 days" before a contract
 * end lands on the same local hour, and "1 year" after Feb 29 lands on Feb 28.
 */
import { DateTime } from 'luxon';
import { isValidTimeZone, zoneOffsetMinutes } from '../core/index.js';

/**
 * A duration as the config loader parses it (`2 days`, `-30 days`, `36h`): nominal milliseconds,
 * plus the amount and unit as written when it is calendar-based.
 */
export interface CalendarDuration {
  /** Nominal length in milliseconds (negative for `-30 days`). */
  readonly ms: number;
  /** Magnitude in `unit`s; its sign, or else `sign`, or else the sign of `ms`, gives the direction. */
  readonly amount?: number | undefined;
  /** `1` or `-1` when the loader keeps the sign apart from `amount`. */
  readonly sign?: number | undefined;
  /** Unit as written or normalised (`days`, `day`, `d`, `weeks`, `month`, `h`, ...). */
  readonly unit?: string | undefined;
}

/** A local time of day. */
export interface TimeOfDay {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** Parses `HH:mm` or `HH:mm:ss` (24h); null when malformed or out of range. */
export function parseTimeOfDay(text: string): TimeOfDay | null {
  const match = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (match === null) return null;
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  const second = match[3] === undefined ? 0 : Number(match[3]);
  if (hour > 23 || minute > 59 || second > 59) return null;
  return { hour, minute, second };
}

/** A time of day from minutes since midnight (0-1439); null when out of range. */
export function minuteOfDay(minute: number): TimeOfDay | null {
  if (!Number.isInteger(minute) || minute < 0 || minute >= 24 * 60) return null;
  return { hour: Math.floor(minute / 60), minute: minute % 60, second: 0 };
}

/**
 * The customer's time zone: the profile's `timezone` attribute when it is a valid IANA name, else
 * the journey's default.
 */
export function customerZone(
  attributes: Readonly<Record<string, unknown>>,
  fallback: string,
): string {
  const zone = attributes['timezone'];
  if (typeof zone === 'string' && isValidTimeZone(zone)) return zone;
  return isValidTimeZone(fallback) ? fallback : 'UTC';
}

/** Luxon's calendar units, keyed by the spellings a parsed duration may carry. */
const CALENDAR_UNITS: ReadonlyMap<string, 'days' | 'weeks' | 'months' | 'quarters' | 'years'> =
  new Map([
    ['d', 'days'],
    ['day', 'days'],
    ['days', 'days'],
    ['w', 'weeks'],
    ['week', 'weeks'],
    ['weeks', 'weeks'],
    ['mo', 'months'],
    ['month', 'months'],
    ['months', 'months'],
    ['q', 'quarters'],
    ['quarter', 'quarters'],
    ['quarters', 'quarters'],
    ['y', 'years'],
    ['year', 'years'],
    ['years', 'years'],
  ]);

/**
 * Adds a duration to a zoned date-time: whole calendar units (days and longer) by the calendar in
 * that zone, anything else (hours, minutes, fractional days, a duration without a unit) as exact
 * milliseconds. Hours stay exact on purpose: "wait 24h" is 24 elapsed hours even across a
 * daylight-saving change, whereas "wait 1 day" is the same local time tomorrow.
 */
export function addDuration(start: DateTime, duration: CalendarDuration): DateTime {
  const unit =
    duration.unit === undefined ? undefined : CALENDAR_UNITS.get(duration.unit.toLowerCase());
  const amount = signedAmount(duration);
  if (unit !== undefined && amount !== undefined && Number.isInteger(amount)) {
    return start.plus({ [unit]: amount });
  }
  return start.plus({ milliseconds: duration.ms });
}

function signedAmount(duration: CalendarDuration): number | undefined {
  const { amount, sign, ms } = duration;
  if (amount === undefined || !Number.isFinite(amount)) return undefined;
  if (sign === -1 || sign === 1) return sign * Math.abs(amount);
  if (amount < 0) return amount;
  return ms < 0 ? -amount : amount;
}

const DAY_MS = 86_400_000;

/** Adds a duration to an instant in a zone; for waits, task due dates and cooldowns. */
export function addToInstant(instant: number, duration: CalendarDuration, zone: string): number {
  const unit =
    duration.unit === undefined ? undefined : CALENDAR_UNITS.get(duration.unit.toLowerCase());
  if (unit === undefined) return instant + duration.ms;
  // Whole days and weeks with the same offset at both ends are plain arithmetic: the same local
  // time N days later is exactly N × 24 h later. This is the common case, and skipping luxon here
  // matters on the ingestion hot path. Across an offset change, months and years: the calendar.
  const amount = signedAmount(duration);
  if ((unit === 'days' || unit === 'weeks') && amount !== undefined && Number.isInteger(amount)) {
    const target = instant + amount * (unit === 'weeks' ? 7 : 1) * DAY_MS;
    if (zoneOffsetMinutes(zone, instant) === zoneOffsetMinutes(zone, target)) return target;
  }
  return addDuration(DateTime.fromMillis(instant, { zone }), duration).toMillis();
}

/** Moves a zoned date-time to a local time of day on the same local date. */
export function atTimeOfDay(moment: DateTime, at: TimeOfDay): DateTime {
  // In a spring-forward gap luxon moves the time forward by the gap, which is what a person means.
  return moment.set({ hour: at.hour, minute: at.minute, second: at.second, millisecond: 0 });
}

/** Why an anchor date could not be read. */
export type AnchorProblem = 'missing_field' | 'invalid_date';

/**
 * Reads a profile value as a date-time in `zone`. ISO-8601 text (date-only = local midnight, a
 * time without offset = local time, with an offset = that instant) or epoch milliseconds.
 */
export function readAnchor(value: unknown, zone: string): DateTime | AnchorProblem {
  if (value === undefined || value === null || value === '') return 'missing_field';
  let moment: DateTime;
  if (typeof value === 'number') {
    moment = DateTime.fromMillis(value, { zone });
  } else if (typeof value === 'string') {
    moment = DateTime.fromISO(value.trim(), { zone });
  } else {
    return 'invalid_date';
  }
  return moment.isValid ? moment : 'invalid_date';
}

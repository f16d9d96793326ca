import { closestName } from './closest-name.js';
import { parsed, rejected, type ParseResult } from './parse-result.js';

/**
 * Durations as written in config (`30s`, `5m`, `7_days`, `-30 days`, `2 weeks`, `1 month`) and
 * their compiled form.
 *
 * Glossary
 * - nominal length (`ms`): the length in milliseconds with a day of 24 h, a week of 7 days, a
 *   month of 30 days and a year of 365 days. Good for timers and rate windows.
 * - calendar unit: day, week, month and year. Adding "1 month" to March 31st in a customer's time
 *   zone is a calendar operation (luxon's `plus({ months: 1 })`), not `+ 30 days`; such code reads
 *   `unit` and `amount` instead of `ms`.
 */

/** The unit a duration was written in. */
export type DurationUnit =
  'millisecond' | 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

/** A duration parsed at load time. Nothing downstream parses the text again. */
export interface Duration {
  /** The text as written, for messages and round-tripping (`"7_days"`). */
  readonly text: string;
  /** Signed amount in `unit` (`-30` for `-30 days`). */
  readonly amount: number;
  /** The unit as written, normalised (`days` → `day`). */
  readonly unit: DurationUnit;
  /** Signed nominal length in milliseconds (a month counts 30 days, a year 365). */
  readonly ms: number;
  /** True for day/week/month/year: add these in the customer's time zone, not as `ms`. */
  readonly calendar: boolean;
}

const UNIT_MS: Readonly<Record<DurationUnit, number>> = {
  millisecond: 1,
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000,
  year: 365 * 86_400_000,
};

/** Every spelling accepted for each unit. Single letters are lower-case only (`M` is ambiguous). */
const UNIT_SPELLINGS: Readonly<Record<string, DurationUnit>> = {
  ms: 'millisecond',
  msec: 'millisecond',
  msecs: 'millisecond',
  millisecond: 'millisecond',
  milliseconds: 'millisecond',
  s: 'second',
  sec: 'second',
  secs: 'second',
  second: 'second',
  seconds: 'second',
  m: 'minute',
  min: 'minute',
  mins: 'minute',
  minute: 'minute',
  minutes: 'minute',
  h: 'hour',
  hr: 'hour',
  hrs: 'hour',
  hour: 'hour',
  hours: 'hour',
  d: 'day',
  day: 'day',
  days: 'day',
  w: 'week',
  wk: 'week',
  wks: 'week',
  week: 'week',
  weeks: 'week',
  mo: 'month',
  month: 'month',
  months: 'month',
  y: 'year',
  yr: 'year',
  yrs: 'year',
  year: 'year',
  years: 'year',
};

const CALENDAR_UNITS: ReadonlySet<DurationUnit> = new Set(['day', 'week', 'month', 'year']);

/** Examples quoted in every duration error, so the fix is obvious. */
export const DURATION_EXAMPLES = '30s, 5m, 1h, 7 days, 7_days, 2 weeks, 1 month or 500ms';

// sign, number, optional separator (spaces or one underscore), unit letters.
const DURATION_PATTERN = /^([+-]?)\s*(\d+(?:\.\d+)?)(?:\s*|_)([A-Za-z]+)$/;

/** Looks up a unit spelling; single letters must be lower case, words are case-insensitive. */
export function durationUnitOf(spelling: string): DurationUnit | undefined {
  const key = spelling.length === 1 ? spelling : spelling.toLowerCase();
  return Object.hasOwn(UNIT_SPELLINGS, key) ? UNIT_SPELLINGS[key] : undefined;
}

/** Nominal milliseconds of one `unit`. */
export function durationUnitMs(unit: DurationUnit): number {
  return UNIT_MS[unit];
}

/**
 * Parses a duration. Accepts an optional sign, a number, an optional space or underscore and a
 * unit: `30s`, `1m`, `24h`, `7_days`, `7 days`, `-30 days`, `2 weeks`, `1 month`, `500ms`.
 * Calendar units (day and longer) take whole numbers only.
 */
export function parseDuration(text: string): ParseResult<Duration> {
  const trimmed = text.trim();
  if (trimmed === '')
    return rejected(`expected a duration such as ${DURATION_EXAMPLES}; found an empty string`);
  const match = DURATION_PATTERN.exec(trimmed);
  if (!match) {
    if (/^[+-]?\d+(?:\.\d+)?$/.test(trimmed)) {
      return rejected(
        `expected a duration with a unit (for example '${trimmed}s' or '${trimmed}m'); found '${text}' without one`,
      );
    }
    return rejected(`expected a duration such as ${DURATION_EXAMPLES}; found '${text}'`);
  }
  const [, sign = '', digits = '', spelling = ''] = match;
  const unit = durationUnitOf(spelling);
  if (unit === undefined) {
    if (spelling === 'M') {
      return rejected(
        `ambiguous unit 'M' in '${text}': write 'm' or 'min' for minutes, 'mo' or 'month' for months`,
      );
    }
    const suggestion = closestName(
      spelling,
      Object.keys(UNIT_SPELLINGS).filter((u) => u.length > 1),
    );
    const hint = suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
    return rejected(
      `unknown duration unit '${spelling}' in '${text}'${hint}; expected ms, s, m, h, d, w, mo or y (or seconds, minutes, hours, days, weeks, months, years)`,
    );
  }
  const magnitude = Number(digits);
  const calendar = CALENDAR_UNITS.has(unit);
  if (calendar && !Number.isInteger(magnitude)) {
    return rejected(
      `expected a whole number of ${unit}s in '${text}'; use a smaller unit for fractions (for example hours)`,
    );
  }
  const amount = sign === '-' ? -magnitude : magnitude;
  const ms = Math.round(amount * UNIT_MS[unit]);
  if (!Number.isSafeInteger(ms)) return rejected(`duration '${text}' is too long`);
  return parsed({ text, amount: amount === 0 ? 0 : amount, unit, ms: ms === 0 ? 0 : ms, calendar });
}

/** A duration of `ms` nominal milliseconds in the largest unit that divides it exactly. */
export function durationFromMs(ms: number): Duration {
  const units: readonly [DurationUnit, string][] = [
    ['week', 'w'],
    ['day', 'd'],
    ['hour', 'h'],
    ['minute', 'm'],
    ['second', 's'],
  ];
  for (const [unit, short] of units) {
    const size = UNIT_MS[unit];
    if (ms !== 0 && ms % size === 0) {
      const amount = ms / size;
      return { text: `${amount}${short}`, amount, unit, ms, calendar: CALENDAR_UNITS.has(unit) };
    }
  }
  return { text: `${ms}ms`, amount: ms, unit: 'millisecond', ms, calendar: false };
}

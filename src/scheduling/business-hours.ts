import { DateTime } from 'luxon';
import type { DailyWindow } from './daily-window.js';

/** When a business is open, in a customer's local time. */
export interface BusinessHours {
  /** Open weekdays, ISO numbering (1 = Monday … 7 = Sunday). */
  readonly days: readonly number[];
  /** Opening hours on an open day; must not wrap midnight. */
  readonly hours: DailyWindow;
  /** Closed local dates, `YYYY-MM-DD` (public holidays, company days off). */
  readonly holidays: ReadonlySet<string>;
}

/** How far ahead an open moment is looked for: a calendar with no open day in a year is a mistake. */
const MAX_DAYS_AHEAD = 366;

/**
 * The first moment at or after `instant` when the business is open in `zone`: `instant` itself
 * during opening hours, else the opening time of the next open day that is not a holiday ("next
 * business day 9–5"). Null when nothing opens within a year.
 */
export function nextOpenMoment(hours: BusinessHours, instant: number, zone: string): number | null {
  const moment = DateTime.fromMillis(instant, { zone });
  for (let ahead = 0; ahead <= MAX_DAYS_AHEAD; ahead++) {
    const day = moment.plus({ days: ahead }).startOf('day');
    if (!hours.days.includes(day.weekday)) continue;
    if (hours.holidays.has(day.toISODate() ?? '')) continue;
    const opens = atMinute(day, hours.hours.startMinute);
    const closes = atMinute(day, hours.hours.endMinute);
    if (instant < opens) return opens;
    if (instant < closes) return instant;
  }
  return null;
}

/** A local wall time on `day` (a spring-forward gap moves it forward, as luxon does). */
function atMinute(day: DateTime, minute: number): number {
  if (minute >= 1440) return day.plus({ days: 1 }).startOf('day').toMillis();
  return day.set({ hour: Math.floor(minute / 60), minute: minute % 60 }).toMillis();
}

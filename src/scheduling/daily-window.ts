import { DateTime } from 'luxon';

/** A daily local time window `[startMinute, endMinute)`, wrapping midnight when end ≤ start. */
export interface DailyWindow {
  /** Minutes after local midnight, 0–1439. */
  readonly startMinute: number;
  /** Minutes after local midnight, 1–1440 (1440 = 24:00). */
  readonly endMinute: number;
}

/** Minutes after local midnight of `instant` in `zone`. */
function localMinute(moment: DateTime): number {
  return moment.hour * 60 + moment.minute + moment.second / 60 + moment.millisecond / 60_000;
}

/** Whether `instant` falls inside the window in `zone`'s local time. */
export function insideWindow(window: DailyWindow, instant: number, zone: string): boolean {
  const minute = localMinute(DateTime.fromMillis(instant, { zone }));
  const { startMinute: start, endMinute: end } = window;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/**
 * When a window that `instant` is inside ends, epoch ms, in `zone`'s local time: for quiet hours
 * `22:00-08:00`, a message at 23:10 is held to 08:00 the next local morning, one at 06:00 to 08:00
 * the same morning. An instant outside the window is returned unchanged. The end is a local wall
 * time, so it stays 08:00 across a daylight-saving change in between.
 */
export function windowEnd(window: DailyWindow, instant: number, zone: string): number {
  if (!insideWindow(window, instant, zone)) return instant;
  const moment = DateTime.fromMillis(instant, { zone });
  const wraps = window.endMinute <= window.startMinute;
  // Inside a wrapping window before midnight: it ends tomorrow; after midnight (or not wrapping): today.
  const endsTomorrow = wraps && localMinute(moment) >= window.startMinute;
  const day = endsTomorrow ? moment.plus({ days: 1 }) : moment;
  // A wall time, not elapsed minutes from midnight, so a DST change during the night does not
  // move 08:00 to 07:00 or 09:00.
  if (window.endMinute === 1440) return day.plus({ days: 1 }).startOf('day').toMillis();
  return day
    .set({
      hour: Math.floor(window.endMinute / 60),
      minute: window.endMinute % 60,
      second: 0,
      millisecond: 0,
    })
    .toMillis();
}

import { parsed, rejected, type ParseResult } from './parse-result.js';

/**
 * A daily time-of-day window such as quiet hours `22:00-08:00`, in minutes after local midnight.
 * The window is half-open: `[startMinute, endMinute)`. When it wraps midnight, `endMinute` is the
 * minute on the following day (so `22:00-08:00` is 1320 → 480 with `wrapsMidnight: true`).
 */
export interface TimeWindow {
  /** The text as written. */
  readonly text: string;
  /** Start, in minutes after midnight (0–1439). */
  readonly startMinute: number;
  /** End, in minutes after midnight (1–1440; 1440 is `24:00`). */
  readonly endMinute: number;
  /** True when the window runs over midnight (end before start). */
  readonly wrapsMidnight: boolean;
}

/** A time of day such as `09:00`, in minutes after local midnight. */
export interface TimeOfDay {
  /** The text as written. */
  readonly text: string;
  /** Minutes after midnight (0–1439). */
  readonly minute: number;
}

const CLOCK_PATTERN = /^(\d{1,2}):(\d{2})$/;

function clockMinute(text: string, allowEndOfDay: boolean): number | string {
  const match = CLOCK_PATTERN.exec(text.trim());
  if (!match) return `'${text.trim()}' is not a time of day HH:MM`;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (minutes > 59) return `minute ${match[2]} in '${text.trim()}' is out of range 00–59`;
  if (hours === 24 && minutes === 0 && allowEndOfDay) return 1440;
  if (hours > 23) return `hour ${match[1]} in '${text.trim()}' is out of range 00–23`;
  return hours * 60 + minutes;
}

/** Parses a time of day `HH:MM` (24-hour clock). */
export function parseTimeOfDay(text: string): ParseResult<TimeOfDay> {
  const minute = clockMinute(text, false);
  if (typeof minute === 'string')
    return rejected(`expected a time of day such as 09:00; ${minute}`);
  return parsed({ text, minute });
}

/** Parses a window `HH:MM-HH:MM` (24-hour clock; `24:00` is allowed as the end). */
export function parseTimeWindow(text: string): ParseResult<TimeWindow> {
  const expected = 'expected a time window such as 22:00-08:00 or 09:00-17:00';
  const parts = text.split('-');
  if (parts.length !== 2) return rejected(`${expected}; found '${text}'`);
  const [startText = '', endText = ''] = parts;
  const start = clockMinute(startText, false);
  if (typeof start === 'string') return rejected(`${expected}; ${start}`);
  const end = clockMinute(endText, true);
  if (typeof end === 'string') return rejected(`${expected}; ${end}`);
  if (start === end || (start === 0 && end === 1440)) {
    return rejected(`${expected}; '${text}' starts and ends at the same time of day`);
  }
  return parsed({ text, startMinute: start, endMinute: end, wrapsMidnight: end < start });
}

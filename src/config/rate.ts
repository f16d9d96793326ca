import { durationUnitOf, parseDuration } from './duration.js';
import { parsed, rejected, type ParseResult } from './parse-result.js';

/** A throughput limit such as `100/minute`: at most `count` in any window of `perMs`. */
export interface Rate {
  /** The text as written. */
  readonly text: string;
  /** How many are allowed per window (a positive integer). */
  readonly count: number;
  /** Window length in milliseconds. */
  readonly perMs: number;
}

const RATE_PATTERN = /^(\d+)\s*(?:\/|\s+per\s+)\s*(.+)$/i;

/**
 * Parses `100/minute`, `50/second`, `1000/hour`, `5/day`, `10 per minute`, and windows written as
 * durations (`500/5m`). Month-long windows are rejected: use contact limits (`rate_limits`) for those.
 */
export function parseRate(text: string): ParseResult<Rate> {
  const trimmed = text.trim();
  const expected = 'expected a rate such as 100/minute, 50/second, 1000/hour or 5/day';
  const match = RATE_PATTERN.exec(trimmed);
  if (!match) return rejected(`${expected}; found '${text}'`);
  const [, digits = '', per = ''] = match;
  const count = Number(digits);
  if (!Number.isSafeInteger(count) || count < 1) {
    return rejected(
      `${expected}; the count must be a whole number of at least 1, found '${digits}'`,
    );
  }
  const unit = durationUnitOf(per.trim());
  const window = parseDuration(unit === undefined ? per : `1${per.trim()}`);
  if (!window.ok)
    return rejected(`${expected}; found '${text}' ('${per.trim()}' is not a unit or duration)`);
  const { ms, unit: windowUnit } = window.value;
  if (ms <= 0) return rejected(`${expected}; the window must be positive, found '${per.trim()}'`);
  if (windowUnit === 'month' || windowUnit === 'year') {
    return rejected(
      `${expected}; a rate window of ${windowUnit}s is not supported, use rate_limits.customer for monthly caps`,
    );
  }
  return parsed({ text, count, perMs: ms });
}

import { Cron } from 'croner';
import { parsed, rejected, type ParseResult } from './parse-result.js';

/** A cron expression checked at load time with croner (the library that also runs it). */
export interface CronExpression {
  /** The expression as written, trimmed. */
  readonly text: string;
  /** True for six-field expressions whose first field is seconds. */
  readonly hasSeconds: boolean;
}

const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly']);

// A fixed, clock-independent instant from which "does it ever fire?" is asked; croner looks
// several years ahead, so Feb 31st-style expressions come back with no next run.
const PROBE_FROM = new Date(Date.UTC(2024, 0, 1));

/**
 * Checks a cron expression: five fields (minute hour day-of-month month day-of-week), six with a
 * leading seconds field, or a nickname such as `@daily`. Names (`MON-FRI`, `JAN`) are accepted.
 */
export function parseCron(text: string): ParseResult<CronExpression> {
  const expression = text.trim();
  const expected = "expected a cron expression of 5 fields ('0 9 * * 1-5') or 6 with seconds";
  if (expression === '') return rejected(`${expected}; found an empty string`);
  const isNickname = NICKNAMES.has(expression.toLowerCase());
  const fields = expression.split(/\s+/).length;
  if (!isNickname && fields !== 5 && fields !== 6) {
    return rejected(
      `${expected}; found ${fields} field${fields === 1 ? '' : 's'} in '${expression}'`,
    );
  }
  let job: Cron;
  try {
    job = new Cron(expression, { paused: true });
  } catch (error) {
    const reason =
      error instanceof Error ? error.message.replace(/^CronPattern:\s*/, '') : String(error);
    return rejected(`invalid cron expression '${expression}': ${reason}`);
  }
  const next = job.nextRun(PROBE_FROM);
  job.stop();
  if (next === null) return rejected(`cron expression '${expression}' never fires`);
  return parsed({ text: expression, hasSeconds: !isNickname && fields === 6 });
}

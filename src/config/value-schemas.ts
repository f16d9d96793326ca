import { DateTime } from 'luxon';
import { z } from 'zod';
import { validateParams, validateTemplate } from '../templates/index.js';
import { parseCron } from './cron-expression.js';
import { DURATION_EXAMPLES, parseDuration, type Duration } from './duration.js';
import { describeFound, type ParseResult } from './parse-result.js';
import { parsePercentage } from './percentage.js';
import { parseRate } from './rate.js';
import { parseAlertCondition, parsePanelThreshold } from './threshold.js';
import { parseTimeOfDay, parseTimeWindow } from './time-window.js';
import { parseTimeZone, parseZoneName } from './time-zone.js';

/**
 * Building blocks of the config schema: strict objects with "did you mean" support, and every
 * textual value (durations, rates, windows, cron, zones, thresholds, templates) as a zod string
 * whose transform compiles it once at load time. In JSON Schema (input side) each is a string with
 * a description and examples, which is what an editor needs.
 */

// Zod's final issue for unknown keys does not say which keys were allowed. The error hook below
// sees the schema's shape while the issue is raised and records it against the offending input
// object, so the issue formatter can suggest the closest allowed key.
const allowedKeysByInput = new WeakMap<object, readonly string[]>();

/** The field names that were allowed on `input` when it was rejected for unknown keys. */
export function allowedKeysOf(input: unknown): readonly string[] | undefined {
  return typeof input === 'object' && input !== null ? allowedKeysByInput.get(input) : undefined;
}

/** `z.strictObject` that remembers its field names for "did you mean" hints on unknown fields. */
export function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const keys = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys' && issue.input !== undefined) {
        allowedKeysByInput.set(issue.input, keys);
      }
      return undefined;
    },
  });
}

function expectedString(what: string) {
  return z.string({
    // The only issue a bare string schema raises itself is a wrong type.
    error: (issue) => `expected ${what}; found ${describeFound(issue.input)}`,
  });
}

/** A string compiled by `parse`; a rejection becomes a located issue with the parser's message. */
function compiledText<T>(
  what: string,
  parse: (text: string) => ParseResult<T>,
  examples: string[],
) {
  return expectedString(what)
    .meta({ description: `${what[0]?.toUpperCase() ?? ''}${what.slice(1)}.`, examples })
    .transform((text, ctx): T => {
      const result = parse(text);
      if (result.ok) return result.value;
      ctx.addIssue({ code: 'custom', message: result.message, input: text });
      return z.NEVER;
    });
}

/** Which signs a duration field accepts. */
export type DurationSign = 'positive' | 'non_negative' | 'any';

/** A duration such as `30s`, `7 days`; compiled to {@link Duration}. */
export function durationSchema(sign: DurationSign = 'positive') {
  const what =
    sign === 'any'
      ? `a duration, negative for "before" (such as -30 days, 2 hours)`
      : `a duration such as ${DURATION_EXAMPLES}`;
  return compiledText(
    what,
    (text): ParseResult<Duration> => {
      const result = parseDuration(text);
      if (!result.ok) return result;
      if (sign === 'positive' && result.value.ms <= 0) {
        return { ok: false, message: `expected a positive duration; found '${text}'` };
      }
      if (sign === 'non_negative' && result.value.ms < 0) {
        return { ok: false, message: `expected a duration of zero or more; found '${text}'` };
      }
      return result;
    },
    sign === 'any' ? ['-30 days', '2h'] : ['30s', '5m', '7 days'],
  );
}

/** A throughput limit such as `100/minute`. */
export const rateSchema = compiledText('a rate such as 100/minute', parseRate, [
  '100/minute',
  '50/second',
]);

/** A daily window such as `22:00-08:00`. */
export const timeWindowSchema = compiledText(
  'a time window HH:MM-HH:MM such as 22:00-08:00',
  parseTimeWindow,
  ['22:00-08:00', '09:00-17:00'],
);

/** A time of day such as `09:00`. */
export const timeOfDaySchema = compiledText('a time of day HH:MM such as 09:00', parseTimeOfDay, [
  '09:00',
]);

/** A percentage such as `10%`, compiled to a fraction (0.1). */
export const percentageSchema = compiledText("a percentage such as '10%'", parsePercentage, [
  '10%',
]);

/** A cron expression, checked with croner. */
export const cronSchema = compiledText(
  "a cron expression such as '0 9 * * 1-5' (5 fields, or 6 with seconds)",
  parseCron,
  ['0 9 * * 1-5', '0 10 1 * *'],
);

/** An IANA zone or `customer.<field>`. */
export const timeZoneSchema = compiledText(
  "an IANA time zone such as 'Europe/Paris' or a customer field such as 'customer.timezone'",
  parseTimeZone,
  ['Europe/Paris', 'customer.timezone'],
);

/** An IANA zone name only. */
export const zoneNameSchema = compiledText(
  "an IANA time zone such as 'Europe/Paris' or 'UTC'",
  parseZoneName,
  ['UTC', 'America/New_York'],
);

/** An alert condition such as `error_rate > 0.01 for 5m`. */
export const alertConditionSchema = compiledText(
  "an alert condition such as 'error_rate > 0.01 for 5m'",
  parseAlertCondition,
  ['error_rate > 0.01 for 5m', 'queue_depth > 10000'],
);

/** A panel threshold such as `> 0.01`. */
export const panelThresholdSchema = compiledText(
  "a threshold such as '> 0.01'",
  parsePanelThreshold,
  ['> 0.01'],
);

/** An ISO-8601 instant with an offset or `Z`, compiled to epoch milliseconds. */
export const instantSchema = compiledText(
  "an ISO-8601 date-time with offset such as '2026-03-01T09:00:00Z'",
  (text): ParseResult<{ text: string; epochMs: number }> => {
    const instant = DateTime.fromISO(text, { setZone: true });
    if (!instant.isValid || !/(Z|[+-]\d{2}:?\d{2})$/i.test(text.trim())) {
      return {
        ok: false,
        message: `expected an ISO-8601 date-time with an offset or Z, such as '2026-03-01T09:00:00Z'; found '${text}'`,
      };
    }
    return { ok: true, value: { text, epochMs: instant.toMillis() } };
  },
  ['2026-03-01T09:00:00Z'],
);

/** Where in a string a template problem is, for the loader to turn into a column. */
export interface TextOffset {
  /** UTF-16 code units from the start of the string value. */
  offset: number;
}

/**
 * Text that may contain `{{placeholders}}`, checked by the templates component (balanced braces,
 * known filters, valid field paths), so that what loads is what renders.
 */
export const templateTextSchema = expectedString('text')
  .meta({ description: 'Text; may contain {{placeholders}} such as {{customer.first_name}}.' })
  .superRefine((text, ctx) => {
    for (const problem of validateTemplate(text)) {
      const params: TextOffset = { offset: problem.offset };
      ctx.addIssue({ code: 'custom', message: `template: ${problem.message}`, params });
    }
  });

/** Any JSON-like value; every string inside it is checked as template text. */
export const templatedJsonSchema = z.unknown().superRefine((value, ctx) => {
  for (const problem of validateParams(value)) {
    const params: TextOffset = { offset: problem.offset };
    ctx.addIssue({
      code: 'custom',
      message: `template: ${problem.message}`,
      path: [...(problem.path ?? [])],
      params,
    });
  }
});

/** A map of names to JSON-like values whose strings may hold placeholders. */
export const templatedRecordSchema = z.record(z.string(), templatedJsonSchema);

function patterned(pattern: RegExp, what: string) {
  return expectedString(what)
    .regex(pattern, { error: (issue) => `expected ${what}; found ${describeFound(issue.input)}` })
    .meta({ description: `${what[0]?.toUpperCase() ?? ''}${what.slice(1)}.` });
}

/** Journey, stage and channel identifiers: lower-case letters, digits and underscores. */
export const identifierSchema = patterned(
  /^[a-z0-9_]+$/,
  'an identifier of lower-case letters, digits and underscores',
);

/** Keys such as rule ids, step ids and policy names: letters, digits, `_`, `-`, `.`. */
export const keySchema = patterned(
  /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/,
  'a key of letters, digits, underscores, dashes or dots',
);

/** A human-readable name (any non-empty text). */
export const nameSchema = expectedString('a name')
  .trim()
  .min(1, { error: 'expected a non-empty name' });

/** An event type such as `customer.created`. */
export const eventNameSchema = patterned(
  /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
  'an event type such as customer.created',
);

/** A dotted field path such as `customer.contract.end_date`. */
export const fieldPathSchema = patterned(
  /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/,
  'a field path such as customer.health_score',
);

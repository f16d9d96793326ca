/**
 * Template filters. Each is total: it never throws and returns `undefined` ("no value") for
 * input it cannot use, so `default` can follow it and the placeholder is reported missing.
 * Absent input passes through every filter except `default`.
 */
import { DateTime } from 'luxon';
import { isValidTimeZone } from '../core/index.js';
import { isAbsent, parseInstant, type FieldPath } from '../conditions/index.js';

/** A filter argument or placeholder head as parsed: a literal or a field path. */
export type Operand =
  | { readonly kind: 'literal'; readonly value: unknown; readonly offset: number }
  | { readonly kind: 'path'; readonly path: FieldPath; readonly offset: number };

/** A compile-time complaint about one argument. */
export interface ArgumentProblem {
  readonly index: number;
  readonly message: string;
}

/** What a filter accepts and does. */
export interface FilterDefinition {
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Argument checks that can be made before rendering (literal formats and zones). */
  readonly check?: (args: readonly Operand[]) => ArgumentProblem | undefined;
  readonly apply: (value: unknown, args: readonly unknown[]) => unknown;
}

/**
 * Text for a value: strings as they are, numbers and booleans via `String`, dates as ISO-8601,
 * arrays and objects as JSON. `undefined` when there is nothing to show (absent, invalid date,
 * a value JSON cannot encode).
 */
export function toText(value: unknown): string | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  return toJson(value);
}

/** JSON text, or `undefined` for values JSON cannot encode (cycles, BigInt, absent). */
export function toJson(value: unknown): string | undefined {
  if (isAbsent(value)) return undefined;
  try {
    // Typed as string, but undefined for a symbol.
    const json: string | undefined = JSON.stringify(value);
    return json;
  } catch {
    // Cycles, BigInt and throwing toJSON are values this filter cannot show: report no value.
    return undefined;
  }
}

function mapText(value: unknown, map: (text: string) => string): string | undefined {
  const text = toText(value);
  return text === undefined ? undefined : map(text);
}

/** Epoch ms of a date-like value: ISO string, valid `Date` or finite epoch-ms number. */
function instantOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') return parseInstant(value);
  if (value instanceof Date) {
    const time = value.getTime();
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}

function literalString(operand: Operand | undefined): string | undefined {
  return operand?.kind === 'literal' && typeof operand.value === 'string'
    ? operand.value
    : undefined;
}

/** Format text for the `date` filter when rendering; locale defaults to en-US for stable output. */
function formatDate(value: unknown, args: readonly unknown[]): string | undefined {
  const instant = instantOf(value);
  const [format, zone, locale] = args;
  if (instant === undefined || typeof format !== 'string') return undefined;
  // A zone read from a field may be missing or wrong; UTC is the documented default.
  const useZone = typeof zone === 'string' && isValidTimeZone(zone) ? zone : 'utc';
  const useLocale = typeof locale === 'string' && locale.length > 0 ? locale : 'en-US';
  const date = DateTime.fromMillis(instant, { zone: useZone, locale: useLocale });
  return date.isValid ? date.toFormat(format) : undefined;
}

/** The filters, by name. */
export const FILTERS: Readonly<Record<string, FilterDefinition>> = {
  upper: { minArgs: 0, maxArgs: 0, apply: (value) => mapText(value, (t) => t.toUpperCase()) },
  lower: { minArgs: 0, maxArgs: 0, apply: (value) => mapText(value, (t) => t.toLowerCase()) },
  capitalize: {
    minArgs: 0,
    maxArgs: 0,
    // Only the first character changes, so "McDonald" stays "McDonald".
    apply: (value) =>
      mapText(value, (text) => {
        const first = text.codePointAt(0);
        if (first === undefined) return text;
        const head = String.fromCodePoint(first);
        return head.toUpperCase() + text.slice(head.length);
      }),
  },
  json: { minArgs: 0, maxArgs: 0, apply: (value) => toJson(value) },
  default: {
    minArgs: 1,
    maxArgs: 1,
    apply: (value, [fallback]) => (isAbsent(value) || value === '' ? fallback : value),
  },
  date: {
    minArgs: 1,
    maxArgs: 3,
    check: ([format, zone, locale]) => {
      if (literalString(format) === undefined) {
        return { index: 0, message: 'date needs a quoted format, e.g. date: "yyyy-MM-dd"' };
      }
      if (zone?.kind === 'literal') {
        const name = literalString(zone);
        if (name === undefined || !isValidTimeZone(name)) {
          return { index: 1, message: `unknown time zone ${JSON.stringify(zone.value)}` };
        }
      }
      if (locale?.kind === 'literal' && literalString(locale) === undefined) {
        return { index: 2, message: 'the locale must be a quoted string, e.g. "fr"' };
      }
      return undefined;
    },
    apply: formatDate,
  },
};

/** Filter names, for messages. */
export const FILTER_NAMES: readonly string[] = Object.keys(FILTERS);

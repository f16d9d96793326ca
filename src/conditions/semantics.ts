/**
 * The meaning of every operator, written plainly. This is the reference the compiler is tested
 * against (property tests assert compiled === interpreted), and the compiler's generated code
 * calls back into it for the uncommon value kinds (deep equality, dates, arrays) where inlining
 * would gain nothing.
 */
import { assertNever } from '../core/index.js';
import type { ConditionContext, FieldPath, Operator } from './types.js';

/** Absent: missing, `undefined`, `null` or a function (functions are never data). */
export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'function';
}

/**
 * The own property `key` of `container`, or `undefined`. Only own properties of objects and
 * arrays are fields: inherited members (`toString`, a polluted prototype) never are, and a
 * path through a primitive or a function is absent.
 */
export function readOwn(container: unknown, key: string | number): unknown {
  if (typeof container !== 'object' || container === null) return undefined;
  if (!Object.hasOwn(container, key)) return undefined;
  return (container as Record<string | number, unknown>)[key];
}

/** Follows `segments` from `start`, one own property at a time. */
export function readSegments(start: unknown, segments: readonly string[]): unknown {
  let current = start;
  for (const segment of segments) current = readOwn(current, segment);
  return current;
}

/** The value of a resolved field in `context`; may be absent. */
export function readField(context: ConditionContext, path: FieldPath): unknown {
  const root: unknown = context[path.root];
  const value = readSegments(root, path.segments);
  if (path.fallback !== undefined && isAbsent(value)) return readSegments(root, path.fallback);
  return value;
}

/**
 * `YYYY-MM-DD`, optionally followed by `THH:MM`, seconds, a fraction and an offset (`Z`,
 * `±HH:MM`, `±HHMM`, `±HH`). `T` may be a space; `T`/`Z` may be lower case (RFC 3339).
 */
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Epoch milliseconds of a strict ISO-8601 date or date-time, or `undefined` when `text` is not
 * one. A date alone is midnight UTC and a date-time without an offset is UTC, so the result never
 * depends on the machine's time zone (unlike `Date.parse`). Calendar-invalid dates (`02-30`) are
 * not dates.
 */
export function parseInstant(text: string): number | undefined {
  const match = ISO_INSTANT.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction, offset] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1) return undefined;
  const monthDays = month === 2 && !isLeapYear(year) ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (day > monthDays || hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (offset !== undefined && offset !== 'Z' && offset !== 'z') {
    const digits = offset.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMins = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (offset.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
  date.setUTCFullYear(year);
  return date.getTime() - offsetMinutes * 60_000;
}

/** True for a `Date` holding a real instant. */
export function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/**
 * The instant a configured value denotes (an ISO date string or a valid `Date`), or `undefined`
 * when the value is not a date. Decides, per value, whether comparisons are by instant.
 */
export function dateValue(value: unknown): number | undefined {
  if (typeof value === 'string') return parseInstant(value);
  if (isValidDate(value)) return value.getTime();
  return undefined;
}

/** The instant a field value denotes (ISO string or `Date`), or `NaN` so every comparison fails. */
export function fieldInstant(actual: unknown): number {
  if (typeof actual === 'string') return parseInstant(actual) ?? Number.NaN;
  if (actual instanceof Date) return actual.getTime();
  return Number.NaN;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/**
 * `eq`: strict and type-aware. Numbers equal numbers (never NaN), strings strings, booleans
 * booleans; a string never equals a number. An expected date (ISO string or `Date`) equals a field
 * that is an ISO string or `Date` for the same instant. Arrays compare element-wise and objects
 * key-wise with this same function; an expected absent value (`null`) equals an absent field, and
 * inside objects a key holding an absent value is the same as a missing key.
 */
export function equals(actual: unknown, expected: unknown): boolean {
  if (isAbsent(expected)) return isAbsent(actual);
  if (typeof expected === 'string') {
    if (actual === expected) return true;
    const instant = parseInstant(expected);
    return instant !== undefined && fieldInstant(actual) === instant;
  }
  if (typeof expected === 'object' && expected !== null) return equalsObject(actual, expected);
  // Numbers and booleans: strict identity is type-aware, and NaN never equals itself.
  return actual === expected;
}

function equalsObject(actual: unknown, expected: object): boolean {
  if (expected instanceof Date) {
    const instant = expected.getTime();
    return !Number.isNaN(instant) && fieldInstant(actual) === instant;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    for (let index = 0; index < expected.length; index++) {
      if (!equals(readOwn(actual, index), readOwn(expected, index))) return false;
    }
    return true;
  }
  if (!isPlainRecord(actual) || !isPlainRecord(expected)) return false;
  for (const key of Object.keys(expected)) {
    if (!equals(readOwn(actual, key), expected[key])) return false;
  }
  for (const key of Object.keys(actual)) {
    if (!Object.hasOwn(expected, key) && !isAbsent(actual[key])) return false;
  }
  return true;
}

/** The ordering operators. */
export type OrderOperator = 'gt' | 'gte' | 'lt' | 'lte';

function ordered<T extends number | string>(a: T, operator: OrderOperator, b: T): boolean {
  switch (operator) {
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    default:
      return assertNever(operator, 'operator');
  }
}

/**
 * `gt`/`gte`/`lt`/`lte`. A number value compares numbers; a date value (ISO string or `Date`)
 * compares instants with a field that parses as one; any other string value compares strings
 * by UTF-16 code units. Every other pairing — type mismatch, absent field, array — is false.
 */
export function compareOrder(actual: unknown, operator: OrderOperator, expected: unknown): boolean {
  if (typeof expected === 'number') {
    return typeof actual === 'number' && ordered(actual, operator, expected);
  }
  const instant = dateValue(expected);
  if (instant !== undefined) {
    const field = fieldInstant(actual);
    return !Number.isNaN(field) && ordered(field, operator, instant);
  }
  if (typeof expected === 'string') {
    return typeof actual === 'string' && ordered(actual, operator, expected);
  }
  return false;
}

/**
 * `contains`: a string field contains a string value as a substring; an array field contains a
 * value when some element `equals` it; anything else contains nothing.
 */
export function contains(actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'string') return typeof expected === 'string' && actual.includes(expected);
  if (Array.isArray(actual)) {
    for (let index = 0; index < actual.length; index++) {
      if (equals(readOwn(actual, index), expected)) return true;
    }
  }
  return false;
}

/**
 * `in`: the value is a list. An absent field is in nothing; an array field is in the list when
 * the two overlap; any other field when it `equals` some element.
 */
export function isIn(actual: unknown, expected: unknown): boolean {
  if (isAbsent(actual) || !Array.isArray(expected)) return false;
  if (Array.isArray(actual)) {
    for (let index = 0; index < actual.length; index++) {
      if (isElementOf(readOwn(actual, index), expected)) return true;
    }
    return false;
  }
  return isElementOf(actual, expected);
}

function isElementOf(actual: unknown, list: readonly unknown[]): boolean {
  for (let index = 0; index < list.length; index++) {
    if (equals(actual, readOwn(list, index))) return true;
  }
  return false;
}

/**
 * The `eq` operator: `equals`, plus one rule for list fields. A list field compared with a single
 * (non-list, non-object, non-null) value matches when some element equals it — MongoDB's rule, and
 * what the guide's `customer.journey_active eq "risk_mitigation"` exception needs, since a customer
 * can be in several journeys at once. `ne` is its complement: no element equals the value.
 */
export function matchesEq(actual: unknown, expected: unknown): boolean {
  if (equals(actual, expected)) return true;
  if (!Array.isArray(actual) || isAbsent(expected)) return false;
  if (typeof expected === 'object' && !(expected instanceof Date)) return false;
  for (let index = 0; index < actual.length; index++) {
    if (equals(readOwn(actual, index), expected)) return true;
  }
  return false;
}

/** Applies one operator to a field value; every negation is the exact complement. */
export function applyOperator(operator: Operator, actual: unknown, expected: unknown): boolean {
  switch (operator) {
    case 'eq':
      return matchesEq(actual, expected);
    case 'ne':
      return !matchesEq(actual, expected);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return compareOrder(actual, operator, expected);
    case 'contains':
      return contains(actual, expected);
    case 'not_contains':
      return !contains(actual, expected);
    case 'in':
      return isIn(actual, expected);
    case 'not_in':
      return !isIn(actual, expected);
    case 'exists':
      return !isAbsent(actual);
    case 'not_exists':
      return isAbsent(actual);
    default:
      return assertNever(operator, 'operator');
  }
}

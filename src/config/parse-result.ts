/**
 * What the text-value parsers (durations, rates, windows, ...) return: a value, or a message that
 * says what was expected and what was found. The parsers never throw on bad input, so the loader
 * can attach a file, line and column to the message instead of crashing.
 */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** Wraps a parsed value. */
export function parsed<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

/** Wraps a rejection message. */
export function rejected<T>(message: string): ParseResult<T> {
  return { ok: false, message };
}

/** Describes a config value for an error message: `string 'abc'`, `number 60`, `a list`, ... */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (typeof value === 'string') return value === '' ? 'an empty string' : `string '${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

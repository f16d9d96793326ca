/**
 * Reading one field of a context with exactly the path rules of conditions: the path is resolved
 * by the conditions component (`resolveFieldPath`: bare names are customer fields, `event.x`
 * falls back to `event.properties.x`), and only own properties of objects and arrays are read,
 * so inherited members never count as fields. Absent (missing, `null`, a function) reads as
 * `null`, as in condition explanations.
 *
 * The conditions component does not export its reader; field.test.ts pins this one to the
 * `actual` value its explanations report, so the two cannot drift apart unnoticed.
 */
import { resolveFieldPath, type ConditionContext } from '../conditions/index.js';

function readSegments(start: unknown, segments: readonly string[]): unknown {
  let current = start;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'function';
}

/**
 * A reader for `field`; the value is `null` when the field is absent.
 *
 * @throws InvalidFieldPathError (from the conditions component) for a malformed path.
 */
export function fieldReader(field: string): (context: ConditionContext) => unknown {
  const { root, segments, fallback } = resolveFieldPath(field);
  return (context) => {
    const start: unknown = context[root];
    let value = readSegments(start, segments);
    if (fallback !== undefined && isAbsent(value)) value = readSegments(start, fallback);
    return isAbsent(value) ? null : value;
  };
}

import { InvalidFieldPathError } from './errors.js';
import { FIELD_ROOTS, type CompileOptions, type FieldPath, type FieldRoot } from './types.js';

/**
 * Segment names refused in any path. Reads are own-property only, so these could not reach a
 * prototype anyway; refusing them keeps config honest and lets templates and other consumers
 * reuse the same paths without re-checking.
 */
const RESERVED_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Event paths that never fall back to `event.properties`. */
const EVENT_OWN_FIELDS: ReadonlySet<string> = new Set(['type', 'properties']);

/**
 * Why `field` is not a readable path, or `undefined` when it is. Segments may hold any
 * characters (including spaces and quotes) except that none may be empty or reserved.
 */
export function fieldPathProblem(field: string): string | undefined {
  if (field.length === 0) return 'the path is empty';
  const segments = field.split('.');
  for (const [index, segment] of segments.entries()) {
    if (segment.length === 0) {
      return `segment ${index + 1} is empty (a leading, trailing or doubled '.')`;
    }
    if (RESERVED_SEGMENTS.has(segment)) return `'${segment}' is a reserved name`;
  }
  return undefined;
}

function isRoot(segment: string | undefined): segment is FieldRoot {
  return segment !== undefined && (FIELD_ROOTS as readonly string[]).includes(segment);
}

/**
 * Splits `field` and decides which root it reads. A first segment naming a root (`customer`,
 * `event`, `journey`) selects it; any other path is read below `options.defaultRoot`
 * (default `customer`), so `health_score` and `customer.health_score` are the same field.
 * `event.x` paths other than `event.type` and `event.properties...` carry a fallback to
 * `event.properties.x`.
 *
 * @throws InvalidFieldPathError for an empty path, an empty segment or a reserved segment.
 */
export function resolveFieldPath(field: string, options: CompileOptions = {}): FieldPath {
  const problem = fieldPathProblem(field);
  if (problem !== undefined) throw new InvalidFieldPathError(field, problem);
  const parts = field.split('.');
  const first = parts[0];
  const root = isRoot(first) ? first : (options.defaultRoot ?? 'customer');
  const segments = isRoot(first) ? parts.slice(1) : parts;
  const head = segments[0];
  if (root === 'event' && head !== undefined && !EVENT_OWN_FIELDS.has(head)) {
    return { field, root, segments, fallback: ['properties', ...segments] };
  }
  return { field, root, segments };
}

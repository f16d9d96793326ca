/**
 * Reading one field of a context with exactly the path rules of conditions (bare names are
 * customer fields, `event.x` falls back to `event.properties.x`, only own properties count).
 */
import {
  isAbsent,
  readField,
  resolveFieldPath,
  type ConditionContext,
} from '../conditions/index.js';

/**
 * A reader for `field`, resolved once; the value is `null` when the field is absent, as in
 * condition explanations.
 *
 * @throws InvalidFieldPathError (from the conditions component) for a malformed path.
 */
export function fieldReader(field: string): (context: ConditionContext) => unknown {
  const path = resolveFieldPath(field);
  return (context) => {
    const value = readField(context, path);
    return isAbsent(value) ? null : value;
  };
}

import { WaymarkError } from '../core/index.js';
import type { ConditionProblem } from './types.js';

/** A condition group that cannot be compiled or evaluated; `details` lists every problem found. */
export class InvalidConditionsError extends WaymarkError {
  /** The located problems, also available as `details`. */
  readonly problems: readonly ConditionProblem[];

  constructor(problems: readonly ConditionProblem[]) {
    const first = problems[0];
    const where =
      first === undefined ? '' : ` at ${formatProblemPath(first.path)}: ${first.message}`;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('CONDITIONS_INVALID', `invalid conditions${where}${more}`, { details: problems });
    this.problems = problems;
  }
}

/** A field path that cannot be read (empty segment, reserved name). */
export class InvalidFieldPathError extends WaymarkError {
  constructor(field: string, reason: string) {
    super('FIELD_PATH_INVALID', `invalid field path ${JSON.stringify(field)}: ${reason}`, {
      details: { field, reason },
    });
  }
}

/** Renders a problem path as `conditions[1].operator` for messages. */
export function formatProblemPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(group)';
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`,
    )
    .join('');
}

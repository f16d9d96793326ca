import { WaymarkError } from '../core/index.js';
import type { TemplateProblem } from './types.js';

/** A template that cannot be compiled; `details` lists every located problem. */
export class InvalidTemplateError extends WaymarkError {
  /** The located problems, also available as `details`. */
  readonly problems: readonly TemplateProblem[];

  constructor(problems: readonly TemplateProblem[]) {
    const first = problems[0];
    const where =
      first === undefined
        ? ''
        : ` at ${first.path === undefined || first.path.length === 0 ? '' : `${first.path.join('.')}, `}offset ${first.offset}: ${first.message}`;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('TEMPLATE_INVALID', `invalid template${where}${more}`, { details: problems });
    this.problems = problems;
  }
}

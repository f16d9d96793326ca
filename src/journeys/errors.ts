import { WaymarkError } from '../core/index.js';

/** One thing wrong with a journey definition, with the path of the offending field. */
export interface JourneyProblem {
  /** e.g. `stages[1].steps[0].next`. */
  readonly path: string;
  readonly message: string;
}

/**
 * A journey definition that cannot be compiled (an unknown stage target, a duplicate step id, no
 * stages). The config loader reports these with file and line first; this guards definitions that
 * arrive another way (`PUT /journeys/{id}`, tests). `details` lists every problem found.
 */
export class InvalidJourneyError extends WaymarkError {
  /** The problems, also available as `details`. */
  readonly problems: readonly JourneyProblem[];

  constructor(journeyId: string, problems: readonly JourneyProblem[]) {
    const first = problems[0];
    const where = first === undefined ? '' : `: ${first.path}: ${first.message}`;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('JOURNEY_INVALID', `journey '${journeyId}' is invalid${where}${more}`, {
      details: problems,
    });
    this.problems = problems;
  }
}

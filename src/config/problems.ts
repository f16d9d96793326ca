import { WaymarkError } from '../core/index.js';

/**
 * Located config problems and the errors that carry them.
 *
 * Glossary
 * - config path: where a value sits inside a document, as segments (`['rules', 1, 'conditions']`)
 *   or as text (`rules[1].conditions`). In a problem it is the path inside the file named by
 *   `file`, so it matches what the user sees in that file.
 * - severity: `error` makes the config unusable; `warning` is worth reading but not fatal (for
 *   example a reference to a kind of thing this config does not define at all).
 */

/** A path into a config document. */
export type ConfigPath = readonly (string | number)[];

/** How serious a problem is. */
export type ProblemSeverity = 'error' | 'warning';

/** One problem, located in a source file. Lines and columns are 1-based. */
export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Path inside the file, e.g. `rules[1].conditions.conditions[0].operator` (empty for the file). */
  readonly path: string;
  /** What was expected and what was found. */
  readonly message: string;
  readonly severity: ProblemSeverity;
}

/** A config that cannot be used. Code `CONFIG_INVALID`; `details` holds every problem. */
export class ConfigError extends WaymarkError {
  /** Every problem found, errors and warnings, in file order. */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    const first = errors[0];
    const head = first === undefined ? 'invalid configuration' : formatProblem(first);
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    super('CONFIG_INVALID', `${head}${more}`, { details: problems });
    this.problems = problems;
  }
}

/** The config path does not exist or holds no YAML files. Code `CONFIG_NOT_FOUND`. */
export class ConfigNotFoundError extends WaymarkError {
  constructor(message: string, path: string) {
    super('CONFIG_NOT_FOUND', message, { details: { path } });
  }
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Writes a path the way users write it in YAML terms: `rules[1].conditions`, `channels["my-sms"]`. */
export function formatPath(path: ConfigPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/**
 * One problem as one line, the format compilers use so editors and CI annotate it:
 * `file:line:col: error: path: message`.
 */
export function formatProblem(problem: ConfigProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  const path = problem.path === '' ? '' : `${problem.path}: `;
  return `${where}: ${problem.severity}: ${path}${problem.message}`;
}

/** Orders problems by file, line and column (stable for equal positions). */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.column - b.column,
  );
}

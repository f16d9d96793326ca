/**
 * Conditions: the specification's `Condition` and `ConditionGroup`, evaluated against a context
 * made of the customer's profile, the current event and the customer's journey state.
 *
 * Glossary
 * - field path: dot-separated path such as `customer.contract.end_date`. Its first segment names a
 *   root of the context (`customer`, `event`, `journey`); a path whose first segment is not a root is
 *   read from `customer` (so condition triggers can say `health_score`).
 * - absent: a field that is missing, `undefined` or `null`.
 */

/** Every operator, in documentation order: the specification's eight, `exists`, and the negations users ask for. */
export const OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'not_contains',
  'in',
  'not_in',
  'exists',
  'not_exists',
] as const;

/** A comparison operator (one of {@link OPERATORS}). */
export type Operator = (typeof OPERATORS)[number];

/** One comparison (the specification's `Condition`). `value` is unused by `exists`/`not_exists`. */
export interface Condition {
  field: string;
  operator: Operator;
  value?: unknown;
}

/** Conditions joined by AND or OR; groups nest (the specification's `ConditionGroup`). */
export interface ConditionGroup {
  logic: 'AND' | 'OR';
  conditions: readonly (Condition | ConditionGroup)[];
}

/** What conditions are evaluated against. Each root is a plain JSON-like object. */
export interface ConditionContext {
  customer?: Readonly<Record<string, unknown>> | undefined;
  event?: Readonly<Record<string, unknown>> | undefined;
  journey?: Readonly<Record<string, unknown>> | undefined;
}

/** A compiled condition group: a specialised predicate, safe to call millions of times a second. */
export type CompiledConditions = (context: ConditionContext) => boolean;

/** The roots of a condition context; the first segment of a field path may name one. */
export type FieldRoot = 'customer' | 'event' | 'journey';

/** Every field root. */
export const FIELD_ROOTS: readonly FieldRoot[] = ['customer', 'event', 'journey'];

/** Options for compiling, evaluating and explaining conditions, and for resolving field paths. */
export interface CompileOptions {
  /**
   * Root read by a path whose first segment is not a root name. Default `'customer'`: bare fields
   * in condition triggers (`health_score`) are customer fields.
   */
  defaultRoot?: FieldRoot;
}

/** A field path split into its root and the segments read below it. */
export interface FieldPath {
  /** The path as written in config. */
  readonly field: string;
  readonly root: FieldRoot;
  /** Own-property names read one after another from the root; empty means the root itself. */
  readonly segments: readonly string[];
  /**
   * Segments read below the root when `segments` finds nothing: set for `event.x` paths, which
   * fall back to `event.properties.x` because the specification's events keep their data there.
   */
  readonly fallback?: readonly string[];
}

/** A structural problem in a condition group, located by its path inside the group. */
export interface ConditionProblem {
  /** Keys and indices from the group to the offending node, e.g. `['conditions', 1, 'operator']`. */
  readonly path: readonly (string | number)[];
  /** Human-readable explanation naming what was expected. */
  readonly message: string;
}

/** How one condition fared: what was read, what it was compared with, and the outcome. */
export interface ConditionExplanation {
  field: string;
  operator: Operator;
  /** The configured value; omitted for `exists`/`not_exists`. */
  value?: unknown;
  /** The value read from the context; `null` when the field is absent. */
  actual: unknown;
  result: boolean;
}

/** How a group fared, with every child evaluated (no short-circuit) so explanations are complete. */
export interface GroupExplanation {
  logic: 'AND' | 'OR';
  result: boolean;
  children: (ConditionExplanation | GroupExplanation)[];
}

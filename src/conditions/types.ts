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

/** Comparison operators: the specification's eight plus `exists` and the negations users ask for. */
export type Operator =
  | 'eq'
  | 'ne'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'contains'
  | 'not_contains'
  | 'in'
  | 'not_in'
  | 'exists'
  | 'not_exists';

/** Every operator, in documentation order. */
export const OPERATORS: readonly Operator[] = [
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
];

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

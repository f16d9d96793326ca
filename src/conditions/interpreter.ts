import { InvalidConditionsError } from './errors.js';
import { resolveFieldPath } from './field-path.js';
import { applyOperator, isAbsent, readField } from './semantics.js';
import type {
  CompileOptions,
  Condition,
  ConditionContext,
  ConditionExplanation,
  ConditionGroup,
  FieldPath,
  GroupExplanation,
} from './types.js';
import { validateConditions } from './validate.js';

/** True when `node` is a nested group rather than a single condition. */
export function isGroup(node: Condition | ConditionGroup): node is ConditionGroup {
  return 'logic' in node;
}

/**
 * Groups already found valid, by identity. Explaining runs once per fired rule per customer, and
 * re-validating the same (immutable) config group every time cost more than the explanation itself.
 */
const validGroups = new WeakSet<object>();

/** Throws `InvalidConditionsError` listing every problem when `group` is malformed. */
export function assertValidConditions(group: ConditionGroup): void {
  if (validGroups.has(group)) return;
  const problems = validateConditions(group);
  if (problems.length > 0) throw new InvalidConditionsError(problems);
  validGroups.add(group);
}

/**
 * Resolved paths by default root, then field. Explaining resolves every condition's path per fired
 * rule per customer, and splitting the same config strings again showed in profiles; bounded like
 * the time-zone caches in case fields come from somewhere unbounded.
 */
const resolvedPaths = new Map<string, Map<string, FieldPath>>();

function resolvedPath(field: string, options: CompileOptions): FieldPath {
  const root = options.defaultRoot ?? 'customer';
  let byField = resolvedPaths.get(root);
  if (byField === undefined) {
    byField = new Map();
    resolvedPaths.set(root, byField);
  }
  let path = byField.get(field);
  if (path === undefined) {
    path = resolveFieldPath(field, options);
    if (byField.size >= 10_000) byField.clear();
    byField.set(field, path);
  }
  return path;
}

function evaluateCondition(
  condition: Condition,
  context: ConditionContext,
  options: CompileOptions,
): boolean {
  const actual = readField(context, resolvedPath(condition.field, options));
  return applyOperator(condition.operator, actual, condition.value);
}

/** Evaluates a group already known to be valid (the compiler's fallback when eval is disabled). */
export function evaluateGroup(
  group: ConditionGroup,
  context: ConditionContext,
  options: CompileOptions,
): boolean {
  const test = (node: Condition | ConditionGroup): boolean =>
    isGroup(node)
      ? evaluateGroup(node, context, options)
      : evaluateCondition(node, context, options);
  return group.logic === 'AND' ? group.conditions.every(test) : group.conditions.some(test);
}

/**
 * Evaluates `group` against `context` by walking the tree: the reference semantics, in plain
 * code. An empty AND holds and an empty OR does not. Prefer `compileConditions` on hot paths.
 *
 * @throws InvalidConditionsError when the group is malformed (see `validateConditions`).
 */
export function evaluateConditions(
  group: ConditionGroup,
  context: ConditionContext,
  options: CompileOptions = {},
): boolean {
  assertValidConditions(group);
  return evaluateGroup(group, context, options);
}

/** JSON-friendly form of a value read from the context: absent becomes `null`. */
function shown(actual: unknown): unknown {
  return isAbsent(actual) ? null : actual;
}

function explainNode(
  node: Condition | ConditionGroup,
  context: ConditionContext,
  options: CompileOptions,
): ConditionExplanation | GroupExplanation {
  if (isGroup(node)) return explainGroup(node, context, options);
  const actual = readField(context, resolvedPath(node.field, options));
  const result = applyOperator(node.operator, actual, node.value);
  if (node.operator === 'exists' || node.operator === 'not_exists') {
    return { field: node.field, operator: node.operator, actual: shown(actual), result };
  }
  return {
    field: node.field,
    operator: node.operator,
    value: node.value,
    actual: shown(actual),
    result,
  };
}

function explainGroup(
  group: ConditionGroup,
  context: ConditionContext,
  options: CompileOptions,
): GroupExplanation {
  const children = group.conditions.map((node) => explainNode(node, context, options));
  const result =
    group.logic === 'AND'
      ? children.every((child) => child.result)
      : children.some((child) => child.result);
  return { logic: group.logic, result, children };
}

/**
 * Evaluates `group` and returns the tree of outcomes — for each condition the field, operator,
 * configured value, the value read (`actual`, `null` when absent) and the result — so the rules
 * engine can say which conditions matched or which exception blocked. Every child is evaluated
 * (no short-circuit); `result` equals `evaluateConditions`.
 *
 * @throws InvalidConditionsError when the group is malformed.
 */
export function explainConditions(
  group: ConditionGroup,
  context: ConditionContext,
  options: CompileOptions = {},
): GroupExplanation {
  assertValidConditions(group);
  return explainGroup(group, context, options);
}

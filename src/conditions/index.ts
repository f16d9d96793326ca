/**
 * Conditions: compile, evaluate, explain and validate the specification's condition groups.
 * Semantics are documented in docs/conditions.md.
 */
export type {
  CompileOptions,
  CompiledConditions,
  Condition,
  ConditionContext,
  ConditionExplanation,
  ConditionGroup,
  ConditionProblem,
  FieldPath,
  FieldRoot,
  GroupExplanation,
  Operator,
} from './types.js';
export { FIELD_ROOTS, OPERATORS } from './types.js';
export { compileConditions } from './compile.js';
export { evaluateConditions, explainConditions } from './interpreter.js';
export { validateConditions, MAX_GROUP_DEPTH } from './validate.js';
export { fieldPathProblem, resolveFieldPath } from './field-path.js';
export { InvalidConditionsError, InvalidFieldPathError, formatProblemPath } from './errors.js';
export { isAbsent, parseInstant, readField } from './semantics.js';

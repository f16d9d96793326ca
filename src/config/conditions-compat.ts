import type { Condition, ConditionGroup, Operator } from '../conditions/index.js';
import type {
  ConditionOperator,
  ConfigCondition,
  ConfigConditionGroup,
} from './conditions-schema.js';

type Proves<T extends true> = T;

/**
 * Compile-time proof that what the loader produces is what the conditions component compiles,
 * and that both sides know the same operators. If the two drift apart this file stops type-checking.
 */
export type ConditionCompatibility = [
  Proves<ConfigConditionGroup extends ConditionGroup ? true : false>,
  Proves<ConfigCondition extends Condition ? true : false>,
  Proves<ConditionOperator extends Operator ? true : false>,
  Proves<Operator extends ConditionOperator ? true : false>,
];

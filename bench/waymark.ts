/**
 * The Waymark components the benchmarks measure, each reached through its public `index.js`
 * (the same surface other components use), gathered here so every benchmark imports one place.
 */
export {
  compileConditions,
  evaluateConditions,
  type ConditionGroup,
  type Condition,
} from '../src/conditions/index.js';
export { compileRuleSet, type RuleDefinition, type RuleContext } from '../src/rules/index.js';

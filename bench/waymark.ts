/**
 * The Waymark components the benchmarks measure, imported through their public `index.js`.
 *
 * The lint rule against deep imports is written for components importing one another
 * (`../x/y.js`); from bench/ every path into src/ looks "deep" to it, so it is switched off for
 * exactly these lines, which reach only each component's public surface.
 */
/* eslint-disable no-restricted-imports */
export {
  compileConditions,
  evaluateConditions,
  type ConditionGroup,
  type Condition,
} from '../src/conditions/index.js';
export { compileRuleSet, type RuleDefinition, type RuleContext } from '../src/rules/index.js';
/* eslint-enable no-restricted-imports */

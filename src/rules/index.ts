/**
 * The rules engine: priority-ordered rules with conditions, exceptions, schedules and limits,
 * compiled once and evaluated over batches of customers. Pure: no I/O, time comes in as `now`.
 */
export {
  DEFAULT_RULE_PRIORITY,
  InvalidRuleError,
  priorityBand,
  type CustomerRuleLimits,
  type GlobalRuleLimits,
  type LocalTimeWindow,
  type PriorityBand,
  type RuleActionDefinition,
  type RuleDefinition,
  type RuleDuration,
  type RuleLimits,
  type RuleRetry,
  type RuleSchedule,
} from './definition.js';
export { CompiledAction, type ResolvedAction } from './actions.js';
export {
  fireHistoryFromCounts,
  type CustomerFireCounts,
  type FireCountsData,
  type GlobalFireCounts,
  type LimitExplanation,
  type RuleFireHistory,
} from './limits.js';
export type { ScheduleExplanation } from './schedule.js';
export {
  compileRuleSet,
  matchedComparisons,
  type EvaluateOptions,
  type ExplainMode,
  type FiredRule,
  type RuleContext,
  type RuleEvaluation,
  type RuleExplanation,
  type RuleSet,
  type RuleSummary,
  type SkippedRule,
  type SkipReason,
} from './rule-set.js';

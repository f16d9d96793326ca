/**
 * The rules engine: a compiled, priority-ordered rule set evaluated over batches of customers.
 *
 * Evaluation order, per customer and rule (rules in priority order):
 *   1. conditions: not met → `conditions_not_met` (counted; listed and explained only with
 *      `explain: 'all'`, because explaining every rule that does not apply to every customer would
 *      cost far more than deciding);
 *   2. exceptions: one matches → skipped, `exception`;
 *   3. schedule: closed in the customer's local time → skipped, `outside_schedule`;
 *   4. limits: reached (history plus this batch) → skipped, `limit_reached`;
 *   5. otherwise the rule fires and its actions are resolved.
 * The cheap, per-customer checks come first so that the common case (conditions not met) costs one
 * compiled predicate call; the reason reported for a skip is the first check that failed.
 *
 * Everything that can be decided once is decided in `compileRuleSet`: order, compiled conditions
 * and exceptions, compiled action params, validated schedules and limits. `evaluate` allocates
 * nothing per customer beyond its results, one local-time conversion per time zone, and a counter
 * per customer for rules with limits.
 */
import { WaymarkError } from '../core/index.js';
import {
  compileConditions,
  explainConditions,
  type CompiledConditions,
  type ConditionContext,
  type ConditionExplanation,
  type ConditionGroup,
  type GroupExplanation,
} from '../conditions/index.js';
import { CompiledAction, type ResolvedAction } from './actions.js';
import {
  DEFAULT_RULE_PRIORITY,
  InvalidRuleError,
  priorityBand,
  type PriorityBand,
  type RuleDefinition,
  type RuleLimits,
} from './definition.js';
import {
  BatchFireTally,
  checkRuleLimits,
  reachedLimit,
  type LimitExplanation,
  type RuleFireHistory,
} from './limits.js';
import { CompiledSchedule, LocalTimeTable, type ScheduleExplanation } from './schedule.js';
import { fieldReader } from './field.js';

/** What rules are evaluated against: a condition context that knows whose it is. */
export interface RuleContext extends ConditionContext {
  /** The customer the context belongs to; limits are counted per customer id. */
  readonly customerId: string;
}

/**
 * How much explanation to build:
 * - `none`: none (fastest; skips are still listed for exceptions, schedules and limits);
 * - `fired` (default): fired rules, and rules skipped by an exception, schedule or limit;
 * - `all`: also every rule whose conditions were not met, each listed in `skipped`.
 */
export type ExplainMode = 'none' | 'fired' | 'all';

/** Options of one evaluation. */
export interface EvaluateOptions {
  /** The batch's instant, epoch ms: schedules are checked and delays counted from it. */
  readonly now: number;
  /** Past fires, for rules with limits. Omitted: no past fires. */
  readonly history?: RuleFireHistory | undefined;
  /** Default `fired`. */
  readonly explain?: ExplainMode | undefined;
  /**
   * Stop at the first rule that fires for a customer (rules skipped by an exception, schedule or
   * limit do not count as a match); rules after it are not evaluated at all. Default false: every
   * matching rule fires, in priority order.
   */
  readonly firstMatchOnly?: boolean | undefined;
}

/** Why a rule did not fire. */
export type SkipReason = 'conditions_not_met' | 'exception' | 'outside_schedule' | 'limit_reached';

/** Why a rule fired or not, for one customer. */
export interface RuleExplanation {
  /** The rule's conditions, with each comparison's actual value and outcome. */
  readonly conditions: GroupExplanation;
  /** The rule's exceptions, when it has some and they were evaluated. */
  readonly exceptions?: GroupExplanation | undefined;
  /**
   * For an `exception` skip: the exception comparisons that matched (those that made the
   * exception group true), so the answer to "why not?" names them directly.
   */
  readonly matchedExceptions?: readonly ConditionExplanation[] | undefined;
  /** When the rule has a schedule and it was checked. */
  readonly schedule?: ScheduleExplanation | undefined;
  /** For a `limit_reached` skip: the limit and the count that reached it. */
  readonly limit?: LimitExplanation | undefined;
}

/** A rule that fired for a customer. */
export interface FiredRule {
  readonly ruleId: string;
  readonly name: string;
  readonly priority: number;
  readonly band: PriorityBand;
  /** The rule's actions, resolved for this customer, in definition order. */
  readonly actions: readonly ResolvedAction[];
  /** Present unless `explain: 'none'`. */
  readonly explanation?: RuleExplanation | undefined;
}

/** A rule that did not fire for a customer. */
export interface SkippedRule {
  readonly ruleId: string;
  readonly name: string;
  readonly priority: number;
  readonly reason: SkipReason;
  /** Present unless `explain: 'none'`. */
  readonly explanation?: RuleExplanation | undefined;
}

/** The outcome for one context, in the order of the input contexts. */
export interface RuleEvaluation {
  readonly customerId: string;
  /** Rules that fired, in priority order. */
  readonly fired: readonly FiredRule[];
  /**
   * Rules skipped by an exception, schedule or limit, in priority order; with `explain: 'all'`
   * also the rules whose conditions were not met.
   */
  readonly skipped: readonly SkippedRule[];
  /** How many rules were evaluated and did not have their conditions met. */
  readonly conditionsNotMet: number;
}

/** A rule as the compiled set presents it. */
export interface RuleSummary {
  readonly id: string;
  readonly name: string;
  readonly priority: number;
  readonly band: PriorityBand;
  /** Position in the definitions given to `compileRuleSet` (the tie-break for equal priorities). */
  readonly declarationIndex: number;
}

/** A compiled rule set. Immutable; safe to share and to evaluate concurrently. */
export interface RuleSet {
  /** The rules in evaluation order: priority ascending, then declaration order. */
  readonly rules: readonly RuleSummary[];
  /** Evaluates every rule for every context; results are in the order of `contexts`. */
  evaluate(contexts: readonly RuleContext[], options: EvaluateOptions): RuleEvaluation[];
}

interface CompiledRule {
  readonly summary: RuleSummary;
  readonly conditions: ConditionGroup;
  readonly matches: CompiledConditions;
  readonly exceptions: ConditionGroup | undefined;
  readonly blocked: CompiledConditions | undefined;
  readonly actions: readonly CompiledAction[];
  readonly schedule: CompiledSchedule | undefined;
  /** Reads the customer's own zone, for schedules with a `timezoneField`. */
  readonly readZone: ((context: ConditionContext) => unknown) | undefined;
  readonly limits: RuleLimits | undefined;
}

/**
 * Compiles rule definitions into a `RuleSet`: validates them, orders them by priority (ties keep
 * declaration order, so of two equal-priority rules the one written first is considered first),
 * and compiles conditions, exceptions and action params once.
 *
 * @throws InvalidRuleError for duplicate ids, a non-finite priority, a bad schedule, limit or
 *   action, and for conditions the condition compiler rejects (its error is the `cause`).
 */
export function compileRuleSet(definitions: readonly RuleDefinition[]): RuleSet {
  const seen = new Set<string>();
  const compiled = definitions.map((definition, index) => {
    if (typeof definition.id !== 'string' || definition.id === '') {
      throw new InvalidRuleError(`rules[${index}]: id must be a non-empty string`, {
        path: `rules[${index}].id`,
      });
    }
    if (seen.has(definition.id)) {
      throw new InvalidRuleError(`duplicate rule id '${definition.id}'`, {
        ruleId: definition.id,
        path: `rules[${index}].id`,
      });
    }
    seen.add(definition.id);
    return compileRule(definition, index);
  });
  compiled.sort(
    (a, b) =>
      a.summary.priority - b.summary.priority ||
      a.summary.declarationIndex - b.summary.declarationIndex,
  );
  return new CompiledRuleSet(compiled);
}

function compileRule(definition: RuleDefinition, declarationIndex: number): CompiledRule {
  const ruleId = definition.id;
  const priority = definition.priority ?? DEFAULT_RULE_PRIORITY;
  if (!Number.isFinite(priority)) {
    throw new InvalidRuleError(
      `rule '${ruleId}': priority must be a finite number, got ${String(priority)}`,
      {
        ruleId,
        path: 'priority',
      },
    );
  }
  const compileGroup = (group: ConditionGroup, path: string): CompiledConditions => {
    try {
      return compileConditions(group);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidRuleError(
        `rule '${ruleId}': ${path}: ${reason}`,
        { ruleId, path, problems: error instanceof WaymarkError ? error.details : undefined },
        error,
      );
    }
  };
  const actions: unknown = definition.actions;
  if (!Array.isArray(actions)) {
    throw new InvalidRuleError(`rule '${ruleId}': actions must be a list`, {
      ruleId,
      path: 'actions',
    });
  }
  if (definition.limits !== undefined) checkRuleLimits(definition.limits, ruleId);
  const schedule =
    definition.schedule === undefined
      ? undefined
      : new CompiledSchedule(definition.schedule, ruleId);
  const timezoneField = definition.schedule?.timezoneField;
  return {
    summary: {
      id: ruleId,
      name: definition.name,
      priority,
      band: priorityBand(priority),
      declarationIndex,
    },
    conditions: definition.conditions,
    matches: compileGroup(definition.conditions, 'conditions'),
    exceptions: definition.exceptions,
    blocked:
      definition.exceptions === undefined
        ? undefined
        : compileGroup(definition.exceptions, 'exceptions'),
    actions: definition.actions.map(
      (action, i) => new CompiledAction(action, ruleId, `actions[${i}]`),
    ),
    schedule,
    readZone: timezoneField === undefined ? undefined : zoneReader(timezoneField, ruleId),
    limits: definition.limits,
  };
}

function zoneReader(field: string, ruleId: string): (context: ConditionContext) => unknown {
  try {
    return fieldReader(field);
  } catch (error) {
    throw new InvalidRuleError(
      `rule '${ruleId}': schedule.timezoneField: ${error instanceof Error ? error.message : String(error)}`,
      { ruleId, path: 'schedule.timezoneField' },
      error,
    );
  }
}

/** Per-batch state: the local-time conversions and the fires decided so far. */
interface Batch {
  readonly now: number;
  readonly history: RuleFireHistory | undefined;
  readonly localTimes: LocalTimeTable;
  readonly tally: BatchFireTally;
}

class CompiledRuleSet implements RuleSet {
  readonly rules: readonly RuleSummary[];
  readonly #rules: readonly CompiledRule[];

  constructor(rules: readonly CompiledRule[]) {
    this.#rules = rules;
    this.rules = rules.map((rule) => rule.summary);
  }

  evaluate(contexts: readonly RuleContext[], options: EvaluateOptions): RuleEvaluation[] {
    const now = options.now;
    if (!Number.isFinite(now)) {
      throw new InvalidRuleError(`evaluate: now must be epoch milliseconds, got ${String(now)}`);
    }
    const explain = options.explain ?? 'fired';
    const explainFired = explain !== 'none';
    const explainAll = explain === 'all';
    const firstMatchOnly = options.firstMatchOnly === true;
    const rules = this.#rules;
    const ruleCount = rules.length;
    const batch: Batch = {
      now,
      history: options.history,
      localTimes: new LocalTimeTable(now),
      tally: new BatchFireTally(ruleCount),
    };
    const results = new Array<RuleEvaluation>(contexts.length);
    for (let c = 0; c < contexts.length; c++) {
      const context = contexts[c] as RuleContext;
      // Most customers match few rules: arrays are allocated on first use, else shared and empty.
      let fired: FiredRule[] | undefined;
      let skipped: SkippedRule[] | undefined;
      let conditionsNotMet = 0;
      for (let r = 0; r < ruleCount; r++) {
        const rule = rules[r] as CompiledRule;
        if (!rule.matches(context)) {
          conditionsNotMet++;
          if (explainAll) {
            (skipped ??= []).push(
              skip(rule, 'conditions_not_met', {
                conditions: explainConditions(rule.conditions, context),
              }),
            );
          }
          continue;
        }
        if (rule.blocked !== undefined && rule.blocked(context)) {
          (skipped ??= []).push(
            skip(rule, 'exception', explainFired ? explainException(rule, context) : undefined),
          );
          continue;
        }
        let scheduleExplanation: ScheduleExplanation | undefined;
        if (rule.schedule !== undefined) {
          const local = localTimeFor(rule, rule.schedule, context, batch.localTimes);
          const open = rule.schedule.admits(local.weekday, local.minuteOfDay);
          if (explainFired) scheduleExplanation = rule.schedule.explain(local, open);
          if (!open) {
            (skipped ??= []).push(
              skip(
                rule,
                'outside_schedule',
                explainFired ? explainRule(rule, context, scheduleExplanation) : undefined,
              ),
            );
            continue;
          }
        }
        if (rule.limits !== undefined) {
          const limit = reachedLimit(
            rule.limits,
            rule.summary.id,
            r,
            context.customerId,
            batch.history,
            batch.tally,
          );
          if (limit !== undefined) {
            (skipped ??= []).push(
              skip(
                rule,
                'limit_reached',
                explainFired
                  ? { ...explainRule(rule, context, scheduleExplanation), limit }
                  : undefined,
              ),
            );
            continue;
          }
          batch.tally.record(r, context.customerId);
        }
        (fired ??= []).push(
          fire(
            rule,
            context,
            now,
            explainFired ? explainRule(rule, context, scheduleExplanation) : undefined,
          ),
        );
        if (firstMatchOnly) break;
      }
      results[c] = {
        customerId: context.customerId,
        fired: fired ?? NONE,
        skipped: skipped ?? NONE,
        conditionsNotMet,
      };
    }
    return results;
  }
}

/** Shared by every result with nothing to list; frozen, so sharing is safe. */
const NONE: readonly never[] = Object.freeze([]);

function fire(
  rule: CompiledRule,
  context: RuleContext,
  now: number,
  explanation: RuleExplanation | undefined,
): FiredRule {
  const { id, name, priority, band } = rule.summary;
  const compiled = rule.actions;
  let actions: readonly ResolvedAction[] = NONE;
  if (compiled.length > 0) {
    const resolved = new Array<ResolvedAction>(compiled.length);
    for (let a = 0; a < compiled.length; a++) {
      resolved[a] = (compiled[a] as CompiledAction).resolve(context, now);
    }
    actions = resolved;
  }
  return { ruleId: id, name, priority, band, actions, explanation };
}

function skip(
  rule: CompiledRule,
  reason: SkipReason,
  explanation: RuleExplanation | undefined,
): SkippedRule {
  const { id, name, priority } = rule.summary;
  return { ruleId: id, name, priority, reason, explanation };
}

/** Conditions, exceptions (when the rule has some) and the schedule check, if one was made. */
function explainRule(
  rule: CompiledRule,
  context: RuleContext,
  schedule: ScheduleExplanation | undefined,
): RuleExplanation {
  return {
    conditions: explainConditions(rule.conditions, context),
    exceptions:
      rule.exceptions === undefined ? undefined : explainConditions(rule.exceptions, context),
    schedule,
  };
}

function explainException(rule: CompiledRule, context: RuleContext): RuleExplanation {
  const exceptions = explainConditions(rule.exceptions as ConditionGroup, context);
  return {
    conditions: explainConditions(rule.conditions, context),
    exceptions,
    matchedExceptions: matchedComparisons(exceptions),
  };
}

/**
 * The comparisons that made a true group true: every true comparison reachable through true
 * groups. (In a true AND group all children are true; in a true OR group only the true ones count.)
 */
export function matchedComparisons(group: GroupExplanation): ConditionExplanation[] {
  const matched: ConditionExplanation[] = [];
  const walk = (node: GroupExplanation): void => {
    if (!node.result) return;
    for (const child of node.children) {
      if (!child.result) continue;
      if ('children' in child) walk(child);
      else matched.push(child);
    }
  };
  walk(group);
  return matched;
}

/** The batch's local time for this rule and customer: their own zone when valid, else the rule's. */
function localTimeFor(
  rule: CompiledRule,
  schedule: CompiledSchedule,
  context: RuleContext,
  localTimes: LocalTimeTable,
): NonNullable<ReturnType<LocalTimeTable['in']>> {
  if (rule.readZone !== undefined) {
    const zone = rule.readZone(context);
    if (typeof zone === 'string' && zone !== '') {
      const local = localTimes.in(zone);
      if (local !== undefined) return local;
    }
  }
  // The schedule's own zone was validated at compile time, so this conversion cannot fail.
  const local = localTimes.in(schedule.definition.timezone);
  if (local === undefined) {
    throw new InvalidRuleError(`rule '${rule.summary.id}': invalid schedule timezone`);
  }
  return local;
}

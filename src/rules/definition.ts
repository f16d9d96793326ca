/**
 * The rule definitions the engine accepts: the specification's `Rule` interface, already validated
 * by the config loader, with its units made explicit (durations in milliseconds, time windows in
 * minutes of the day, weekdays as numbers). Nothing in the rules engine parses a string again.
 *
 * Glossary
 * - priority: lower number = considered first. The specification's bands: 1-10 critical,
 *   11-50 high, 51-100 medium, 101-500 low.
 * - conditions: what must hold for the rule to apply (a `ConditionGroup`).
 * - exceptions: what blocks a rule whose conditions hold (also a `ConditionGroup`).
 * - schedule: when, in local time, a rule may fire.
 * - limits: how often a rule may fire, per customer and in total.
 * - fire: a rule whose conditions hold, no exception matches, whose schedule is open and whose
 *   limits are not reached, yields its actions for the customer.
 */
import { WaymarkError } from '../core/index.js';
import type { ConditionGroup } from '../conditions/index.js';

/** The priority a rule gets when its definition has none (the spec's progression rule has none). */
export const DEFAULT_RULE_PRIORITY = 100;

/** The specification's priority bands. */
export type PriorityBand = 'critical' | 'high' | 'medium' | 'low';

/**
 * The specification's band for a priority: 1-10 critical, 11-50 high, 51-100 medium, 101-500 low.
 * The table leaves the ends open, so anything below 1 counts as critical and anything above 500 as
 * low; fractional priorities fall into the band whose upper bound they do not exceed (10.5 is high).
 *
 * @throws InvalidRuleError when `priority` is not a finite number.
 */
export function priorityBand(priority: number): PriorityBand {
  if (!Number.isFinite(priority)) {
    throw new InvalidRuleError(`priority must be a finite number, got ${String(priority)}`);
  }
  if (priority <= 10) return 'critical';
  if (priority <= 50) return 'high';
  if (priority <= 100) return 'medium';
  return 'low';
}

/** A duration the config loader has already parsed. `ms` is its length; `text` is what was written. */
export interface RuleDuration {
  /** Length in milliseconds; must be finite and not negative for an action delay. */
  readonly ms: number;
  /** The duration as written in the config (`"2 days"`), for explanations. */
  readonly text: string;
}

/**
 * An action's retry setting: the name of a `retry_policies` entry or an inline retry config. The
 * rules engine does not interpret it; it is handed on with the resolved action to whoever runs it.
 */
export type RuleRetry = string | Readonly<Record<string, unknown>>;

/** One action of a rule (the specification's `Action`). */
export interface RuleActionDefinition {
  /** Action type, e.g. `enroll_journey`, `create_alert`, `advance_stage`. */
  readonly type: string;
  /**
   * Parameters; strings may hold `{{customer.csm_id}}` placeholders, rendered per customer. A string
   * that is exactly one placeholder keeps the value's type.
   */
  readonly params?: Readonly<Record<string, unknown>> | undefined;
  /** Run the action this long after the rule fires (the resolved action's `runAt`). */
  readonly delay?: RuleDuration | undefined;
  /** Passed through to the resolved action untouched. */
  readonly retry?: RuleRetry | undefined;
}

/**
 * A window of local time within a day, in minutes since local midnight. `endMinute` is exclusive.
 * A window whose end is not after its start wraps midnight (`22:00-08:00` is 1320 to 480).
 */
export interface LocalTimeWindow {
  /** 0-1439. */
  readonly startMinute: number;
  /** 1-1440 (1440 = end of the day); exclusive. Must differ from `startMinute`. */
  readonly endMinute: number;
}

/**
 * When a rule may fire, in local time: the compiled form of a rule's `schedule`.
 *
 * A moment is inside the schedule when its local weekday is one of `days` and its local time of day
 * is inside one of `windows`. For a window that wraps midnight, the part after midnight belongs to
 * the day the window started on: with `days: [5]` (Friday) and `22:00-08:00`, Saturday 03:00 is
 * inside and Friday 03:00 is not.
 */
export interface RuleSchedule {
  /** IANA time zone the days and windows are read in, e.g. `Europe/Berlin`. */
  readonly timezone: string;
  /**
   * Optional field path holding each customer's own time zone (the spec's
   * `timezone: "customer.timezone"`). When the customer has none, or an invalid one, `timezone`
   * is used.
   */
  readonly timezoneField?: string | undefined;
  /** ISO weekdays on which the rule may fire, 1 = Monday ... 7 = Sunday. Omitted: every day. */
  readonly days?: readonly number[] | undefined;
  /** Local time windows in which the rule may fire. Omitted: the whole day. */
  readonly windows?: readonly LocalTimeWindow[] | undefined;
}

/** Per-customer limits: how often one customer may trigger the rule. All counts are maxima. */
export interface CustomerRuleLimits {
  readonly daily?: number | undefined;
  readonly weekly?: number | undefined;
  readonly monthly?: number | undefined;
  /** Over the customer's whole history (`1` = at most once ever). */
  readonly total?: number | undefined;
}

/** Limits across all customers. All counts are maxima. */
export interface GlobalRuleLimits {
  readonly per_minute?: number | undefined;
  readonly per_hour?: number | undefined;
  readonly per_day?: number | undefined;
}

/** How often a rule may fire (the specification's `RateLimits` for a rule). */
export interface RuleLimits {
  readonly per_customer?: CustomerRuleLimits | undefined;
  readonly global?: GlobalRuleLimits | undefined;
}

/** One rule, as the config loader hands it over (the specification's `Rule`). */
export interface RuleDefinition {
  /** Unique within a rule set. */
  readonly id: string;
  /** Human-readable name. */
  readonly name: string;
  /** Lower = considered first. Default `DEFAULT_RULE_PRIORITY` (100). */
  readonly priority?: number | undefined;
  readonly conditions: ConditionGroup;
  readonly exceptions?: ConditionGroup | undefined;
  readonly actions: readonly RuleActionDefinition[];
  readonly schedule?: RuleSchedule | undefined;
  readonly limits?: RuleLimits | undefined;
}

/**
 * A rule definition the engine cannot use. Code `RULE_INVALID`; `details` names the rule and the
 * offending field path (`actions[1].delay`), like the config loader's problems.
 */
export class InvalidRuleError extends WaymarkError {
  /**
   * @param details the rule, the path inside it, and (for conditions) the condition compiler's
   *   problems.
   * @param cause the underlying error, when this wraps one.
   */
  constructor(
    message: string,
    details?: { ruleId?: string; path?: string; problems?: unknown },
    cause?: unknown,
  ) {
    super('RULE_INVALID', message, { details, cause });
  }
}

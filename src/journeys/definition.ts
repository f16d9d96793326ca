/**
 * The journey definitions the runtime accepts: the YAML journey language (docs/journeys.md,
 * docs/config.md), already validated by the config loader, with units made explicit: durations are
 * parsed objects carrying milliseconds and their calendar unit, percentages are fractions (`10%` →
 * `0.1`). The runtime never parses a duration or a percentage string again.
 *
 * These types are structural on purpose: the config loader's inferred `JourneyDefinition` is
 * assignable to them, and so is a hand-written object in a test or a `PUT /journeys/{id}` body that
 * went through the same schema.
 *
 * Glossary
 * - stage: a named phase of a journey (`welcome`, `activation`); an ordered list of steps.
 * - step: one thing the journey does (send, wait, branch, ...). Its id defaults to `<stage>.<index>`.
 * - target (`next`): where a step sends the enrollment: a stage id (that stage's first step),
 *   `exit` (leave the journey) or `complete` (finish it).
 * - entry / exit criteria: who may enrol, and what takes an enrollment out at any moment.
 * - goal: a conversion the journey is measured on, reached within a window from enrollment.
 * - holdout: a fraction of customers kept out of the treatment for measurement.
 */
import type { ConditionGroup } from '../conditions/index.js';
import type { CalendarDuration } from '../scheduling/index.js';

/**
 * A duration the config loader has parsed. `ms` is its nominal length; `amount` and `unit` keep the
 * calendar unit so a wait of `1 month` or `-30 days` can be added in the customer's time zone
 * (across daylight-saving changes and month ends) rather than as a fixed number of milliseconds.
 */
export interface JourneyDuration extends CalendarDuration {
  /** The duration as written (`"2 days"`), for journey events and explanations. */
  readonly text?: string | undefined;
  /** The loader's flag for day/week/month/year units (informative: `unit` decides). */
  readonly calendar?: boolean | undefined;
}

/** Where a step sends the enrollment: a stage id of the same journey, `exit` or `complete`. */
export type StepTarget = string;

/** Message priority, as the delivery pipeline and `MessageRecord` know it. */
export type MessagePriority = 'critical' | 'high' | 'normal' | 'low';

/** Fields every step may have. */
interface StepBase {
  /** Unique within the journey; defaults to `<stage id>.<index in stage>` (0-based). */
  readonly id?: string | undefined;
  /** A human name for dashboards. */
  readonly name?: string | undefined;
}

/** Sends a message through a channel: a named template or inline content, never both. */
export interface SendStepDefinition extends StepBase {
  readonly type: 'send';
  readonly channel: string;
  /** Name of an entry of the top-level `templates`. */
  readonly template?: string | undefined;
  /** Inline content (`subject`, `body`, `html`, ...); strings may hold `{{...}}` placeholders. */
  readonly content?: Readonly<Record<string, unknown>> | undefined;
  /** Default `normal`. */
  readonly priority?: MessagePriority | undefined;
  /** `high` asks channel selection (`channel: auto`) for the fastest channel. */
  readonly urgency?: 'high' | 'normal' | 'low' | undefined;
  /** Hold the message to the customer's next business hours. */
  readonly business_hours?: boolean | undefined;
  /**
   * When to send: `immediate` (default) or `optimal`, the moment within a window (default 24 h)
   * at which the customer is most likely to engage (the send-time optimizer).
   */
  readonly send_time?: SendTimeDefinition | undefined;
}

/** A send step's `send_time`: the shorthand `optimal` / `immediate`, or the mode with a window. */
export type SendTimeDefinition =
  | 'optimal'
  | 'immediate'
  | { readonly mode: 'optimal' | 'immediate'; readonly within?: JourneyDuration | undefined };

/**
 * Pauses the enrollment. Exactly one of `duration`, `until` and `until_field` says when it ends;
 * `at` then moves the end to that local time of day (customer's time zone) on the same date.
 */
export interface WaitStepDefinition extends StepBase {
  readonly type: 'wait';
  readonly duration?: JourneyDuration | undefined;
  /** An absolute instant: ISO-8601 text, epoch milliseconds, or the loader's parsed form. */
  readonly until?: string | number | ParsedInstant | undefined;
  /** Path of a date field of the customer (`customer.contract.end_date` or `contract.end_date`). */
  readonly until_field?: string | undefined;
  /** Added to `until_field`'s date (`-30 days`), in calendar units in the customer's time zone. */
  readonly offset?: JourneyDuration | undefined;
  /** Local time of day: `HH:mm` (24h) text or the loader's parsed form. */
  readonly at?: string | ParsedTimeOfDay | undefined;
}

/** An instant as the config loader parses it. */
export interface ParsedInstant {
  readonly epochMs: number;
  readonly text?: string | undefined;
}

/** A time of day as the config loader parses it: minutes since local midnight. */
export interface ParsedTimeOfDay {
  readonly minute: number;
  readonly text?: string | undefined;
}

/** One event a `wait_for_event` step listens for. */
export interface AwaitedEventDefinition {
  /** Event type, e.g. `login.first`. */
  readonly event: string;
  /** Conditions on the event (and the customer); `event.x` reads the event's fields. */
  readonly conditions?: ConditionGroup | undefined;
  /** Where to go when this event arrives; omitted = the step after the wait. */
  readonly next?: StepTarget | undefined;
}

/** Waits until one of several events arrives, or a timeout. */
export interface WaitForEventStepDefinition extends StepBase {
  readonly type: 'wait_for_event';
  readonly events: readonly AwaitedEventDefinition[];
  /** Omitted = wait indefinitely (only an event, exit criteria or an operator move it on). */
  readonly timeout?: JourneyDuration | undefined;
  /** Where to go on timeout; omitted (or no `next`) = the step after the wait. */
  readonly on_timeout?: { readonly next?: StepTarget | undefined } | undefined;
}

/** One arm of a `branch` step. */
export interface BranchArmDefinition {
  readonly name?: string | undefined;
  readonly conditions: ConditionGroup;
  /** Omitted = the step after the branch. */
  readonly next?: StepTarget | undefined;
}

/** Takes the first arm whose conditions hold, else `default`, else continues. */
export interface BranchStepDefinition extends StepBase {
  readonly type: 'branch';
  readonly branches: readonly BranchArmDefinition[];
  readonly default?: { readonly next?: StepTarget | undefined } | undefined;
}

/** One variant of a `split` step. */
export interface SplitVariantDefinition {
  readonly name: string;
  /** Relative weight (any positive scale; `50`/`50` and `1`/`1` are the same). */
  readonly weight: number;
  /** Omitted = the step after the split. */
  readonly next?: StepTarget | undefined;
}

/** Random (but deterministic per enrollment) assignment to weighted variants. */
export interface SplitStepDefinition extends StepBase {
  readonly type: 'split';
  readonly variants: readonly SplitVariantDefinition[];
  /** Fraction (0-1) taking no variant's path; they continue with the step after the split. */
  readonly holdout?: number | undefined;
}

/** Creates a task for a person (a CSM call, a review). */
export interface TaskStepDefinition extends StepBase {
  readonly type: 'task';
  readonly title: string;
  readonly assignee?: string | undefined;
  /** Due this long after the step runs. */
  readonly due?: JourneyDuration | undefined;
  readonly description?: string | undefined;
  /** Kept in the task's data. */
  readonly priority?: MessagePriority | undefined;
}

/** Raises an alert. */
export interface AlertStepDefinition extends StepBase {
  readonly type: 'alert';
  readonly severity: string;
  readonly message: string;
  readonly assignee?: string | undefined;
}

/** Calls a webhook: inline (`url`, `method`, `headers`, `body`) or a named top-level webhook. */
export interface WebhookStepDefinition extends StepBase {
  readonly type: 'webhook';
  readonly url?: string | undefined;
  /** Name of an entry of the top-level `webhooks`. */
  readonly webhook?: string | undefined;
  /** Default `POST`. */
  readonly method?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly body?: unknown;
}

/** Changes the customer's profile; later steps of the same run see the change. */
export interface UpdateCustomerStepDefinition extends StepBase {
  readonly type: 'update_customer';
  /** Field path (dots nest) → value; string values may hold placeholders. */
  readonly set?: Readonly<Record<string, unknown>> | undefined;
  /** Field paths to remove. */
  readonly unset?: readonly string[] | undefined;
}

/** Jumps to the first step of a stage. */
export interface GotoStepDefinition extends StepBase {
  readonly type: 'goto';
  /** A stage id (or `exit` / `complete`). */
  readonly stage: StepTarget;
}

/** Leaves the journey. */
export interface ExitStepDefinition extends StepBase {
  readonly type: 'exit';
  /** Recorded as the enrollment's exit reason; default `exit_step`. */
  readonly reason?: string | undefined;
}

/** Every step of the journey language. */
export type StepDefinition =
  | SendStepDefinition
  | WaitStepDefinition
  | WaitForEventStepDefinition
  | BranchStepDefinition
  | SplitStepDefinition
  | TaskStepDefinition
  | AlertStepDefinition
  | WebhookStepDefinition
  | UpdateCustomerStepDefinition
  | GotoStepDefinition
  | ExitStepDefinition;

/** A step's type name. */
export type StepType = StepDefinition['type'];

/** A stage: an ordered list of steps. An empty stage is passed straight through. */
export interface StageDefinition {
  readonly id: string;
  readonly name?: string | undefined;
  readonly steps: readonly StepDefinition[];
}

/** Re-entry policy after an enrollment of the same journey ended. */
export type ReEntryPolicy = 'never' | 'always' | 'cooldown';

/** Who may enrol. */
export interface JourneyEntryDefinition {
  /** The event that enrols (used by the orchestrator to route; not a filter in `enroll`). */
  readonly event?: string | undefined;
  /** Must hold at enrollment (customer, and the triggering event when there is one). */
  readonly conditions?: ConditionGroup | undefined;
  /** Default `never`. */
  readonly re_entry?: ReEntryPolicy | undefined;
  /** Required with `re_entry: cooldown`; measured from the previous enrollment's end. */
  readonly cooldown?: JourneyDuration | undefined;
}

/** What takes an enrollment out at any moment, including in the middle of a wait. */
export interface JourneyExitDefinition {
  readonly conditions?: ConditionGroup | undefined;
  /** Event types that end the enrollment when they arrive. */
  readonly events?: readonly string[] | undefined;
}

/** A conversion goal: an event or conditions (or both), within a window from enrollment. */
export interface JourneyGoalDefinition {
  readonly name: string;
  readonly event?: string | undefined;
  readonly conditions?: ConditionGroup | undefined;
  /** Conversion window from enrollment; omitted = for as long as the enrollment is active. */
  readonly window?: JourneyDuration | undefined;
  /** Exit the journey when reached (default false). */
  readonly exit?: boolean | undefined;
}

/** A journey as the config language defines it. */
export interface JourneyDefinition {
  readonly id: string;
  readonly name?: string | undefined;
  readonly description?: string | undefined;
  readonly entry?: JourneyEntryDefinition | undefined;
  readonly exit?: JourneyExitDefinition | undefined;
  readonly goals?: readonly JourneyGoalDefinition[] | undefined;
  /** Journey-level holdout as a fraction 0-1. */
  readonly holdout?: number | undefined;
  /** False exempts the journey (e.g. transactional messages) from `defaults.global_holdout`. */
  readonly global_holdout?: boolean | undefined;
  readonly stages: readonly StageDefinition[];
}

/** One variant of a named template; unset fields fall back to the template's. */
export interface TemplateVariantDefinition {
  readonly name: string;
  readonly subject?: string | undefined;
  /** Push / in-app title. */
  readonly title?: string | undefined;
  readonly body: string;
  readonly html?: string | undefined;
  /** Relative weight when choosing a variant; default 1. */
  readonly weight?: number | undefined;
}

/** A named message template (top-level `templates`). */
export interface TemplateDefinition {
  readonly channel?: string | undefined;
  readonly subject?: string | undefined;
  /** Push / in-app title. */
  readonly title?: string | undefined;
  readonly body: string;
  readonly html?: string | undefined;
  readonly variants?: readonly TemplateVariantDefinition[] | undefined;
  /**
   * How a variant is chosen: `weighted` (default; by weight, stable per customer) or `bandit`
   * (the content personalizer: by engagement, stable per customer unless a clear winner emerges).
   */
  readonly selection?: 'weighted' | 'bandit' | undefined;
}

import type { CompiledConditions } from '../conditions/index.js';
import type { ChannelType } from '../config/index.js';
import type { EngagementLearning } from '../decisions/index.js';
import type { ContactPolicy } from '../delivery/index.js';
import type { TemplatePersonalizer } from './content-personalizer.js';
import type { CompiledJourney, CompiledSendStep } from '../journeys/index.js';
import type { ConditionContext } from '../conditions/index.js';
import type { ResolvedAction, RuleSet } from '../rules/index.js';
import type {
  BusinessHours,
  CalendarDuration,
  CronTimetable,
  DailyWindow,
  TimeOfDay,
} from '../scheduling/index.js';

/**
 * Everything the processor needs from the configuration, compiled once: the current journeys and
 * every version still in use, the triggers indexed by what wakes them, and the rule sets.
 * Built by `compileProject` from a loaded config; swapped whole when a journey is changed over the
 * API, never mutated in place.
 */
export interface RuntimeProject {
  /** Seed of every random choice (holdouts, splits, variants); fixed per installation. */
  readonly seed: string;
  /** Journeys by id. */
  readonly journeys: ReadonlyMap<string, RuntimeJourney>;
  /** Event triggers by event type. */
  readonly eventTriggers: ReadonlyMap<string, readonly RuntimeTrigger[]>;
  /** Real-time condition triggers, evaluated on every profile change (fire on false→true). */
  readonly conditionTriggers: readonly RuntimeTrigger[];
  /**
   * AI-powered triggers (`predictions` with a threshold, and triggers with `prediction:`): the
   * model scores the profile on every change and the trigger fires when the score crosses the
   * threshold upward (false→true), like a condition trigger.
   */
  readonly predictionTriggers: readonly PredictionTrigger[];
  /**
   * Batch condition triggers (`evaluation: batch`), by name: evaluated over every customer on their
   * `frequency`, each customer's result then applied in that customer's order (fire on false→true).
   */
  readonly batchTriggers: ReadonlyMap<string, BatchTrigger>;
  /** Rules that do not read `journey.*`: evaluated once per event. */
  readonly customerRules: RuleSet;
  /** Rules that read `journey.*`: evaluated once per event for each active enrollment. */
  readonly journeyRules: RuleSet;
  /** Journeys whose `entry.event` names an event type, by that type. */
  readonly entryEvents: ReadonlyMap<string, readonly string[]>;
  /** Time-based triggers (`schedule:`), by name: each customer has a durable timer per trigger. */
  readonly scheduleTriggers: ReadonlyMap<string, ScheduleTrigger>;
  /**
   * Predictions whose output is a timestamp (the spec's `optimal_send_time`): the built-in
   * send-time optimizer answers them. `schedule_message` uses the one it names (`prediction:`),
   * else the one with `use: schedule_message`; null when there is none.
   */
  readonly sendTimePredictions: {
    readonly names: ReadonlySet<string>;
    readonly forScheduleMessage: string | null;
  };
  /**
   * `defaults.activity`: event types counted on their own in `customer.activity` (besides all
   * events); null when activity is not kept.
   */
  readonly activity: ReadonlySet<string> | null;
  /** Zone of customers whose profile has none (`defaults.timezone`). */
  readonly defaultZone: string;
  /**
   * Local windows in which a channel delivers nothing, by channel: its `silent_hours`, else the
   * global `defaults.quiet_hours` (except in-app, which the customer only sees when they look).
   */
  readonly quietHours: ReadonlyMap<string, DailyWindow>;
  /** Configured channels by name: how a message on each is addressed, checked and fallen back. */
  readonly channels: ReadonlyMap<string, RuntimeChannel>;
  /**
   * Message templates by name, compiled: what a `send_message` action with `template:` renders
   * (journey send steps carry their own compiled copy).
   */
  readonly templates: ReadonlyMap<string, CompiledSendStep['contents']>;
  /** `defaults.business_hours`, for sends that wait for them. */
  readonly businessHours: BusinessHours;
  /** Customer contact caps and fatigue rules; null when the project has none. */
  readonly contactPolicy: ContactPolicy | null;
  /**
   * Whether the processor needs each customer's contact ledger: for contact caps, and for channel
   * selection (`channel: auto`) and optimal send times, which learn from past engagement.
   */
  readonly needsContacts: boolean;
  /**
   * What the decision engine learned across customers (population priors of the send-time,
   * channel and content bandits). Mutable, the one exception to "never mutated in place": it is
   * carried over when the project is recompiled (see `EngagementLearning`), and the engine saves
   * it to and restores it from the model registry (see `learning-persistence.ts`).
   */
  readonly learning: EngagementLearning;
  /** Content personalizers of templates with `selection: bandit`, by template name. */
  readonly personalizers: ReadonlyMap<string, TemplatePersonalizer>;
}

/** What the processor needs to know of a channel when it queues a message on it. */
export interface RuntimeChannel {
  readonly name: string;
  readonly type: ChannelType;
  /** Profile field with the address; null for channels addressed by customer id. */
  readonly recipientField: string | null;
  /** The channel tried when this one cannot deliver (no address, opted out, provider gave up). */
  readonly fallback: string | null;
  /** Whether consent (`consents.<channel>`, `unsubscribed`) is checked; default true. */
  readonly optOutCheck: boolean;
  /** `character_limit`: longer bodies are shortened (see `fitToLimit`). */
  readonly characterLimit: number | null;
  /** `enabled: false` channels are never chosen by channel selection. */
  readonly enabled: boolean;
  /** In-app `persistence`: how long a message stays in the inbox, ms; null: until removed. */
  readonly persistenceMs: number | null;
}

/** When a schedule trigger fires for a customer. */
export type ScheduleTiming =
  | { readonly kind: 'cron'; readonly timetable: CronTimetable }
  | {
      readonly kind: 'anchor';
      /** Profile field path (`contract.end_date`; a `customer.` prefix is optional). */
      readonly field: string;
      readonly offset: CalendarDuration;
      readonly at: TimeOfDay;
    }
  | {
      readonly kind: 'after_event';
      readonly eventType: string;
      readonly offset: CalendarDuration;
      readonly at: TimeOfDay;
    };

/** A schedule trigger: the trigger plus its compiled schedule. */
export interface ScheduleTrigger extends RuntimeTrigger {
  readonly kind: 'schedule';
  /** The `schedules` entry's name. */
  readonly scheduleName: string;
  readonly timing: ScheduleTiming;
  /** A fixed zone, or the profile field holding the customer's (null: the customer's `timezone`). */
  readonly zone:
    | { readonly kind: 'zone'; readonly zone: string }
    | { readonly kind: 'field'; readonly field: string }
    | null;
  readonly misfire: 'fire_once' | 'skip';
  /**
   * How late a fire may be and still happen (fire_once) or count as on time (skip); null for the
   * defaults: a due timer always fires once under fire_once, and counts as on time within a minute
   * under skip; a fire already past when it is planned happens only within a day.
   */
  readonly misfireGraceMs: number | null;
  /** Fires are moved into these hours, or null. */
  readonly businessHours: BusinessHours | null;
  /**
   * A rule run on this schedule instead of on events (a rule whose `schedule` is a `schedules`
   * name or has `cron`): at each fire its conditions, exceptions and limits are checked for the
   * customer and its actions run. Absent for a plain schedule trigger.
   */
  readonly rule?: RuleSet | undefined;
}

/** One journey: its current version, the versions enrollments are still on, and whether it is paused. */
export interface RuntimeJourney {
  readonly id: string;
  readonly current: CompiledJourney;
  readonly versions: ReadonlyMap<number, CompiledJourney>;
  readonly paused: boolean;
}

/** A trigger compiled for the processor. */
export interface RuntimeTrigger {
  readonly name: string;
  readonly kind: 'event' | 'condition' | 'schedule';
  /** Extra conditions (event triggers) or the trigger's conditions (condition triggers); null = always. */
  readonly matches: CompiledConditions | null;
  /** What firing does. */
  readonly actions: readonly TriggerAction[];
}

/** A model's score of a profile, with the reasons behind it. */
export interface PredictionScore {
  /** Probability of the model's positive label, 0–1 (what thresholds compare against). */
  readonly probability: number;
  /** The same on a 0–100 scale (the spec's risk score). */
  readonly score: number;
  /** Top contributing factors, strongest first. */
  readonly factors: readonly string[];
  /** Inputs the profile lacked or held unreadable values for. */
  readonly notes: readonly string[];
}

/** How a prediction's model scores a profile; carries the registry version it came from. */
export interface PredictionModel {
  /** Registry name, e.g. `churn_predictor_v2`. */
  readonly name: string;
  readonly version: number;
  /** Scores a profile at `now` (activity features are derived at that instant). */
  score(attributes: Readonly<Record<string, unknown>>, now: number): PredictionScore;
}

/** An AI-powered trigger: a model, a threshold and what crossing it does. */
export interface PredictionTrigger extends Omit<RuntimeTrigger, 'kind' | 'matches'> {
  readonly kind: 'prediction';
  /** The `predictions` entry (`churn_risk`). */
  readonly prediction: string;
  /** The action name as configured (`escalate_to_csm`), reported in the `AIPrediction`. */
  readonly actionName: string;
  /** Fires when the probability rises to this or above. */
  readonly threshold: number;
  /** The model, or null when the registry has no model of that name yet (the trigger idles). */
  readonly model: PredictionModel | null;
  /** Registry name the prediction asks for (also when `model` is null). */
  readonly modelName: string;
  /**
   * The model is served by an HTTP endpoint (`models.<name>.endpoint`): scored after the commit,
   * its answer applied as a `waymark.prediction` command.
   */
  readonly remote: boolean;
}

/** A batch condition trigger and when it runs. */
export interface BatchTrigger extends RuntimeTrigger {
  /** The next instant strictly after `after` at which the trigger is evaluated. */
  nextRun(after: number): number | null;
}

/** An action with its params compiled; renders per customer at `now` (the rules engine's `CompiledAction`). */
export interface TriggerAction {
  resolve(context: ConditionContext, now: number): ResolvedAction;
}

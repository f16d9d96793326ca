import { Cron } from 'croner';
import { compileConditions, type ConditionGroup } from '../conditions/index.js';
import type { JourneyDefinition as ConfigJourney, WaymarkConfig } from '../config/index.js';
import { WaymarkError } from '../core/index.js';
import { EngagementLearning } from '../decisions/index.js';
import { AUTO_CHANNEL, DEFAULT_RECIPIENT_FIELDS, compileContactPolicy } from '../delivery/index.js';
import {
  compileJourney,
  type CompiledJourney,
  type TemplateDefinition,
  templateContents,
} from '../journeys/index.js';
import {
  CompiledAction,
  compileRuleSet,
  type RuleActionDefinition,
  type RuleDefinition,
  type RuleSchedule,
} from '../rules/index.js';
import {
  CronTimetable,
  minuteOfDay,
  type BusinessHours,
  type DailyWindow,
} from '../scheduling/index.js';
import type {
  BatchTrigger,
  PredictionModel,
  PredictionTrigger,
  RuntimeJourney,
  RuntimeProject,
  RuntimeTrigger,
  ScheduleTiming,
  ScheduleTrigger,
  RuntimeChannel,
} from './project.js';
import { templatePersonalizers } from './content-personalizer.js';

/** A journey as stored: its id, the version numbers in use and their definitions. */
export interface StoredJourneyVersions {
  readonly id: string;
  /** The version new enrollments get. */
  readonly currentVersion: number;
  readonly paused: boolean;
  /** Every version still referenced (at least the current one), by number. */
  readonly definitions: ReadonlyMap<number, ConfigJourney>;
}

const WEEKDAY_NUMBER = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 } as const;

/**
 * Compiles a loaded config into what the processor runs. Journeys come with their stored versions
 * (the config holds only the newest definition; enrollments may still be on older ones).
 *
 * @throws WaymarkError `PROJECT_INVALID` naming what could not be compiled.
 */
export function compileProject(
  config: WaymarkConfig,
  journeys: readonly StoredJourneyVersions[],
  seed: string,
  models: ReadonlyMap<string, PredictionModel> = new Map(),
  learning: EngagementLearning = new EngagementLearning(),
): RuntimeProject {
  const templates = config.templates as unknown as Record<string, TemplateDefinition>;
  const personalizers = templatePersonalizers(templates, learning);
  const defaultTimezone = config.defaults.timezone;
  const runtimeJourneys = new Map<string, RuntimeJourney>();
  const entryEvents = new Map<string, string[]>();
  for (const stored of journeys) {
    const versions = new Map<number, CompiledJourney>();
    for (const [version, definition] of stored.definitions) {
      versions.set(
        version,
        compileJourney(definition, version, {
          templates,
          defaultTimezone,
          personalizers: (name) => personalizers.get(name),
          globalHoldout: config.defaults.global_holdout,
        }),
      );
    }
    const current = versions.get(stored.currentVersion);
    if (!current) {
      throw new WaymarkError(
        'PROJECT_INVALID',
        `journey '${stored.id}' has no definition for its current version ${stored.currentVersion}`,
      );
    }
    runtimeJourneys.set(stored.id, { id: stored.id, current, versions, paused: stored.paused });
    if (current.entryEvent !== null) {
      entryEvents.set(current.entryEvent, [
        ...(entryEvents.get(current.entryEvent) ?? []),
        stored.id,
      ]);
    }
  }

  const namedActions = config.actions as unknown as Record<string, readonly RuleActionDefinition[]>;
  const eventTriggers = new Map<string, RuntimeTrigger[]>();
  const conditionTriggers: RuntimeTrigger[] = [];
  const batchTriggers = new Map<string, BatchTrigger>();
  const scheduleTriggers = new Map<string, ScheduleTrigger>();
  const schedules = new Map(config.schedules.map((s) => [s.name, s]));
  for (const trigger of config.triggers) {
    if (!trigger.enabled) continue;
    const actionDefs = triggerActions(trigger.action, namedActions);
    const actions = actionDefs.map(
      (a, i) => new CompiledAction(a, `trigger:${trigger.name}`, `action[${i}]`),
    );
    const group: ConditionGroup | null =
      trigger.conditions === undefined
        ? null
        : { logic: trigger.logic, conditions: trigger.conditions };
    const matches = group === null ? null : compileConditions(group, { defaultRoot: 'customer' });
    if (trigger.kind === 'event' && trigger.event !== undefined) {
      const list = eventTriggers.get(trigger.event) ?? [];
      list.push({ name: trigger.name, kind: 'event', matches, actions });
      eventTriggers.set(trigger.event, list);
    } else if (trigger.kind === 'condition' && trigger.evaluation === 'real_time') {
      conditionTriggers.push({ name: trigger.name, kind: 'condition', matches, actions });
    } else if (trigger.kind === 'condition' && trigger.frequency !== undefined) {
      const frequency = trigger.frequency;
      const cron =
        frequency.kind === 'cron'
          ? new Cron(frequency.cron.text, { timezone: config.defaults.timezone, paused: true })
          : null;
      batchTriggers.set(trigger.name, {
        name: trigger.name,
        kind: 'condition',
        matches,
        actions,
        nextRun: (after) =>
          frequency.kind === 'interval'
            ? after + frequency.every.ms
            : (cron?.nextRun(new Date(after))?.getTime() ?? null),
      });
    } else if (trigger.kind === 'schedule' && trigger.schedule !== undefined) {
      const schedule = schedules.get(trigger.schedule);
      if (schedule === undefined) {
        throw new WaymarkError(
          'PROJECT_INVALID',
          `trigger '${trigger.name}': unknown schedule '${trigger.schedule}'`,
        );
      }
      scheduleTriggers.set(trigger.name, {
        name: trigger.name,
        kind: 'schedule',
        matches,
        actions,
        ...compileSchedule(schedule, config),
      });
    }
    // Prediction triggers run from the decision engine, not per event.
  }

  const customerRules: RuleDefinition[] = [];
  const journeyRules: RuleDefinition[] = [];
  for (const rule of config.rules) {
    if (!rule.enabled) continue;
    const timed = timedRuleSchedule(rule, schedules);
    if (timed !== null) {
      // Run on its schedule, per customer, like a schedule trigger: not on events.
      const name = `rule:${rule.id}`;
      scheduleTriggers.set(name, {
        name,
        kind: 'schedule',
        matches: null,
        actions: [],
        rule: compileRuleSet([
          {
            id: rule.id,
            name: rule.name,
            priority: rule.priority,
            conditions: rule.conditions,
            exceptions: rule.exceptions,
            actions: rule.actions,
            limits: rule.limits,
          },
        ]),
        ...compileSchedule(timed, config),
      });
      continue;
    }
    const definition: RuleDefinition = {
      id: rule.id,
      name: rule.name,
      priority: rule.priority,
      conditions: rule.conditions,
      exceptions: rule.exceptions,
      actions: rule.actions,
      schedule: ruleSchedule(rule.id, rule.schedule, config),
      limits: rule.limits,
    };
    (readsJourney(definition) ? journeyRules : customerRules).push(definition);
  }

  const contactPolicy = compileContactPolicy(config.rate_limits, config.fatigue);
  return {
    seed,
    journeys: runtimeJourneys,
    eventTriggers,
    conditionTriggers,
    predictionTriggers: predictionTriggers(config, namedActions, models),
    batchTriggers,
    customerRules: compileRuleSet(customerRules),
    journeyRules: compileRuleSet(journeyRules),
    entryEvents,
    scheduleTriggers,
    defaultZone: config.defaults.timezone,
    activity:
      config.defaults.activity === undefined ? null : new Set(config.defaults.activity.events),
    sendTimePredictions: {
      names: new Set(
        Object.entries(config.predictions)
          .filter(([, p]) => p.output === 'timestamp')
          .map(([name]) => name),
      ),
      forScheduleMessage:
        Object.entries(config.predictions).find(
          ([, p]) => p.output === 'timestamp' && p.use === 'schedule_message',
        )?.[0] ?? null,
    },
    quietHours: quietHoursByChannel(config),
    channels: runtimeChannels(config),
    templates: new Map(
      Object.entries(templates).map(([name, template]) => [
        name,
        templateContents(template, personalizers.get(name)),
      ]),
    ),
    businessHours: projectBusinessHours(config),
    contactPolicy,
    needsContacts:
      contactPolicy !== null ||
      usesChannelSelection(config) ||
      usesOptimalSendTime(runtimeJourneys.values()) ||
      // schedule_message goes at a timestamp prediction's moment, learned from the ledger.
      Object.values(config.predictions).some((p) => p.output === 'timestamp'),
    learning,
    personalizers,
  };
}

/** Whether any journey version has a send step with `send_time: optimal` (it reads the ledger). */
function usesOptimalSendTime(journeys: Iterable<RuntimeJourney>): boolean {
  for (const journey of journeys) {
    for (const version of journey.versions.values()) {
      for (const stage of version.stages) {
        if (stage.steps.some((step) => step.type === 'send' && step.sendTime !== null)) return true;
      }
    }
  }
  return false;
}

/** Whether any journey step or action sends on `channel: auto`. */
function usesChannelSelection(config: WaymarkConfig): boolean {
  const places = [
    config.journeys,
    config.rules,
    config.triggers,
    config.actions,
    config.predictions,
  ];
  return JSON.stringify(places).includes(`"channel":"${AUTO_CHANNEL}"`);
}

function runtimeChannels(config: WaymarkConfig): Map<string, RuntimeChannel> {
  const channels = new Map<string, RuntimeChannel>();
  for (const [name, channel] of Object.entries(config.channels)) {
    channels.set(name, {
      name,
      type: channel.type,
      recipientField: channel.recipient ?? DEFAULT_RECIPIENT_FIELDS[channel.type] ?? null,
      fallback: channel.fallback ?? null,
      optOutCheck: channel.opt_out_check ?? true,
      characterLimit: channel.character_limit ?? null,
      persistenceMs: channel.persistence?.ms ?? null,
      enabled: channel.enabled,
    });
  }
  return channels;
}

function quietHoursByChannel(config: WaymarkConfig): Map<string, DailyWindow> {
  const windows = new Map<string, DailyWindow>();
  const global = config.defaults.quiet_hours;
  for (const [name, channel] of Object.entries(config.channels)) {
    // In-app messages wait in the inbox and tasks go to a person: neither disturbs the customer.
    const quiet = channel.type !== 'in_app' && channel.type !== 'tasks';
    const window = channel.silent_hours ?? (quiet ? global : undefined);
    if (window !== undefined) windows.set(name, window);
  }
  return windows;
}

/** `defaults.business_hours`, compiled. */
function projectBusinessHours(config: WaymarkConfig): BusinessHours {
  const hours = config.defaults.business_hours;
  return {
    days: hours.days.map((d) => WEEKDAY_NUMBER[d]),
    hours: { startMinute: hours.hours.startMinute, endMinute: hours.hours.endMinute },
    holidays: new Set(hours.holidays),
  };
}

/** A `schedules` entry compiled for the processor: when it fires, in which zone, misfire policy. */
function compileSchedule(
  schedule: WaymarkConfig['schedules'][number],
  config: WaymarkConfig,
): Omit<ScheduleTrigger, 'name' | 'kind' | 'matches' | 'actions'> {
  // A relative fire in days lands at `at`, 09:00 unless the schedule says otherwise.
  const at = minuteOfDay(schedule.at?.minute ?? 9 * 60);
  if (at === null) {
    throw new WaymarkError('PROJECT_INVALID', `schedule '${schedule.name}': invalid 'at'`);
  }
  let timing: ScheduleTiming;
  if (schedule.cron !== undefined) {
    timing = { kind: 'cron', timetable: new CronTimetable(schedule.cron.text) };
  } else if (schedule.relative !== undefined && schedule.after_event !== undefined) {
    timing = {
      kind: 'after_event',
      eventType: schedule.after_event,
      offset: schedule.relative,
      at,
    };
  } else if (schedule.relative !== undefined && schedule.anchor !== undefined) {
    timing = {
      kind: 'anchor',
      field: schedule.anchor,
      offset: schedule.relative,
      at,
    };
  } else {
    throw new WaymarkError('PROJECT_INVALID', `schedule '${schedule.name}' has no timing`);
  }
  const zone = schedule.timezone;
  const businessHours = projectBusinessHours(config);
  return {
    scheduleName: schedule.name,
    timing,
    zone:
      zone === undefined
        ? null
        : zone.kind === 'zone'
          ? { kind: 'zone', zone: zone.zone }
          : { kind: 'field', field: zone.field },
    misfire: schedule.misfire,
    misfireGraceMs: schedule.misfire_grace?.ms ?? null,
    businessHours: schedule.business_hours ? businessHours : null,
  };
}

/** What a trigger's `action:` name runs, as rule actions. */
function triggerActions(
  reference: WaymarkConfig['triggers'][number]['action'],
  named: Record<string, readonly RuleActionDefinition[]>,
): readonly RuleActionDefinition[] {
  if (reference === undefined) return [];
  switch (reference.kind) {
    case 'named':
      return named[reference.name] ?? [];
    case 'enroll_journey':
      return [{ type: 'enroll_journey', params: { journey_id: reference.journey } }];
    case 'builtin':
      return [{ type: reference.action, params: {} }];
  }
}

/**
 * The AI-powered triggers: each `predictions` entry with a threshold and an action, and each
 * trigger with `prediction:` (its own `threshold`, else the prediction's). Entries whose output is
 * not a score (`timestamp`, `channel`, ...) are used where they are named, not here.
 */
function predictionTriggers(
  config: WaymarkConfig,
  named: Record<string, readonly RuleActionDefinition[]>,
  models: ReadonlyMap<string, PredictionModel>,
): PredictionTrigger[] {
  const out: PredictionTrigger[] = [];
  const add = (
    name: string,
    predictionName: string,
    threshold: number | undefined,
    reference: WaymarkConfig['triggers'][number]['action'],
  ): void => {
    const prediction = config.predictions[predictionName];
    if (prediction === undefined || threshold === undefined) return;
    const actions = triggerActions(reference, named).map(
      (a, i) => new CompiledAction(a, name, `action[${i}]`),
    );
    out.push({
      name,
      kind: 'prediction',
      prediction: predictionName,
      actionName: reference?.text ?? '',
      threshold,
      actions,
      model: models.get(prediction.model) ?? null,
      modelName: prediction.model,
      remote: config.models[prediction.model]?.endpoint !== undefined,
    });
  };
  for (const [name, prediction] of Object.entries(config.predictions)) {
    if (prediction.output !== 'score' && prediction.output !== 'probability') continue;
    // Prefixed: a trigger may share the prediction's name, and each keeps its own edge state.
    if (prediction.action !== undefined) {
      add(`prediction:${name}`, name, prediction.threshold, prediction.action);
    }
  }
  for (const trigger of config.triggers) {
    if (!trigger.enabled || trigger.prediction === undefined) continue;
    const threshold = trigger.threshold ?? config.predictions[trigger.prediction]?.threshold;
    add(trigger.name, trigger.prediction, threshold, trigger.action);
  }
  return out;
}

/** A rule is journey-scoped when any of its conditions or exceptions reads `journey.*`. */
function readsJourney(rule: RuleDefinition): boolean {
  const reads = (group: ConditionGroup | undefined): boolean =>
    group !== undefined &&
    group.conditions.some((c) =>
      'logic' in c ? reads(c) : c.field === 'journey' || c.field.startsWith('journey.'),
    );
  return reads(rule.conditions) || reads(rule.exceptions);
}

/**
 * The schedule a rule runs on, when its `schedule` says *when to run* rather than *when it may
 * fire*: a `schedules` name, or an inline schedule with `cron`. Null for window/days schedules
 * (checked on events) and rules without one.
 */
function timedRuleSchedule(
  rule: WaymarkConfig['rules'][number],
  schedules: ReadonlyMap<string, WaymarkConfig['schedules'][number]>,
): WaymarkConfig['schedules'][number] | null {
  const schedule = rule.schedule;
  if (schedule === undefined) return null;
  if (typeof schedule === 'string') {
    const named = schedules.get(schedule);
    if (named === undefined) {
      throw new WaymarkError(
        'PROJECT_INVALID',
        `rule '${rule.id}': unknown schedule '${schedule}'`,
      );
    }
    return named;
  }
  if (schedule.cron === undefined) return null;
  if (schedule.window !== undefined || schedule.days !== undefined) {
    throw new WaymarkError(
      'PROJECT_INVALID',
      `rule '${rule.id}': a schedule with cron runs the rule at those times; window and days do not combine with it (put the days in the cron expression)`,
    );
  }
  return {
    name: `rule:${rule.id}`,
    kind: 'cron',
    cron: schedule.cron,
    timezone: schedule.timezone,
    business_hours: false,
    misfire: 'fire_once',
  };
}

function ruleSchedule(
  ruleId: string,
  schedule: WaymarkConfig['rules'][number]['schedule'],
  config: WaymarkConfig,
): RuleSchedule | undefined {
  if (schedule === undefined) return undefined;
  // Named and cron schedules make the rule a timed one (timedRuleSchedule); never reached here.
  if (typeof schedule === 'string' || schedule.cron !== undefined) return undefined;
  const zone = schedule.timezone;
  return {
    timezone: zone?.kind === 'zone' ? zone.zone : config.defaults.timezone,
    timezoneField: zone?.kind === 'customer_field' ? zone.field : undefined,
    days: schedule.days?.map((d) => WEEKDAY_NUMBER[d]),
    windows: schedule.window
      ? [{ startMinute: schedule.window.startMinute, endMinute: schedule.window.endMinute }]
      : undefined,
  };
}

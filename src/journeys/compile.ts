/**
 * Compiling a journey definition once: conditions and templates compiled, stage and step lookups
 * built, step ids defaulted, every `next` resolved to a stage index. Running a journey never looks
 * at the definition's text again.
 */
import { compileConditions } from '../conditions/index.js';
import type { CompiledConditions, ConditionGroup } from '../conditions/index.js';
import { assertNever } from '../core/index.js';
import {
  compileMessageContent,
  compileText,
  compileValue,
  type CompiledContent,
  type CompiledText,
  type CompiledValue,
} from './content.js';
import type {
  JourneyDefinition,
  JourneyDuration,
  MessagePriority,
  ParsedTimeOfDay,
  ReEntryPolicy,
  SendTimeDefinition,
  StepDefinition,
  StepTarget,
  TemplateDefinition,
} from './definition.js';
import { InvalidJourneyError, type JourneyProblem } from './errors.js';
import { journeyHash } from './hashing.js';
import { minuteOfDay, parseTimeOfDay, type TimeOfDay } from '../scheduling/index.js';

/** Where a step sends the enrollment, resolved at compile time. */
export type ResolvedTarget =
  | { readonly kind: 'continue' }
  | { readonly kind: 'stage'; readonly stageIndex: number; readonly stageId: string }
  | { readonly kind: 'exit' }
  | { readonly kind: 'complete' };

/** Fields every compiled step has. */
interface CompiledStepBase {
  /** The step id (given, or `<stage>.<index>`). */
  readonly id: string;
  readonly stageIndex: number;
  /** Position within its stage. */
  readonly index: number;
}

/** A compiled `send` step. */
export interface CompiledSendStep extends CompiledStepBase {
  readonly type: 'send';
  readonly channel: string;
  readonly priority: MessagePriority;
  readonly urgency: 'high' | 'normal' | 'low' | null;
  readonly businessHours: boolean;
  /** Template name when the step names one. */
  readonly template: string | null;
  /**
   * Content alternatives: one for inline content or a template without variants, one per variant
   * otherwise, empty when the template library was not given at compile time.
   */
  readonly contents: readonly ContentAlternative[];
  /** `send_time: optimal`: the window the send-time optimizer chooses in; null: send at once. */
  readonly sendTime: { readonly mode: 'optimal'; readonly withinMs: number } | null;
}

/** One content alternative of a send step or template. */
export interface ContentAlternative {
  readonly variant: string | null;
  /** Relative weight of the variant (1 when not set). */
  readonly weight: number;
  readonly render: CompiledContent;
  /**
   * Set on every alternative of a template with `selection: bandit`: chooses the variant instead
   * of the weights (see `chooseContent`).
   */
  readonly personalizer?: VariantPersonalizer | undefined;
}

/**
 * Chooses a template's variant from engagement (the decision engine's content personalizer,
 * supplied by whoever compiles the project). `point` is fixed per customer and template.
 */
export interface VariantPersonalizer {
  /** The template it chooses for. */
  readonly template: string;
  /** The variant for the customer behind `point`; null leaves the choice to the weights. */
  choose(point: number): string | null;
}

/** The window of `send_time: optimal` when none is given: a day. */
export const DEFAULT_SEND_TIME_WINDOW_MS = 86_400_000;

/**
 * A `send_time` (a journey send step's, a `send_message` action's) as the window the send-time
 * optimizer chooses in, or null to send at once.
 */
export function compileSendTime(
  given: SendTimeDefinition | undefined,
): CompiledSendStep['sendTime'] {
  if (given === undefined || given === 'immediate') return null;
  if (given === 'optimal') return { mode: 'optimal', withinMs: DEFAULT_SEND_TIME_WINDOW_MS };
  if (given.mode === 'immediate') return null;
  return { mode: 'optimal', withinMs: given.within?.ms ?? DEFAULT_SEND_TIME_WINDOW_MS };
}

/** How a compiled `wait` step finds its end. */
export type WaitMode =
  | { readonly kind: 'duration'; readonly duration: JourneyDuration }
  /** `instant` is null when `until` did not parse. */
  | { readonly kind: 'until'; readonly instant: number | null; readonly text: string }
  | { readonly kind: 'field'; readonly field: string; readonly offset: JourneyDuration | null };

/** A compiled `wait` step. */
export interface CompiledWaitStep extends CompiledStepBase {
  readonly type: 'wait';
  readonly mode: WaitMode;
  readonly at: TimeOfDay | null;
}

/** One awaited event of a compiled `wait_for_event` step. */
export interface CompiledAwaitedEvent {
  readonly event: string;
  readonly when: CompiledConditions | null;
  readonly target: ResolvedTarget;
}

/** A compiled `wait_for_event` step. */
export interface CompiledWaitForEventStep extends CompiledStepBase {
  readonly type: 'wait_for_event';
  readonly events: readonly CompiledAwaitedEvent[];
  readonly timeout: JourneyDuration | null;
  readonly onTimeout: ResolvedTarget;
}

/** A compiled `branch` step. */
export interface CompiledBranchStep extends CompiledStepBase {
  readonly type: 'branch';
  readonly arms: readonly {
    readonly name: string;
    readonly when: CompiledConditions;
    readonly target: ResolvedTarget;
  }[];
  readonly defaultTarget: ResolvedTarget;
}

/** A compiled `split` step. */
export interface CompiledSplitStep extends CompiledStepBase {
  readonly type: 'split';
  readonly variants: readonly {
    readonly name: string;
    readonly weight: number;
    readonly target: ResolvedTarget;
  }[];
  readonly totalWeight: number;
  /** Fraction 0-1. */
  readonly holdout: number;
}

/** A compiled `task` step. */
export interface CompiledTaskStep extends CompiledStepBase {
  readonly type: 'task';
  readonly title: CompiledText;
  readonly assignee: CompiledText | null;
  readonly description: CompiledText | null;
  readonly due: JourneyDuration | null;
  readonly priority: MessagePriority | null;
}

/** A compiled `alert` step. */
export interface CompiledAlertStep extends CompiledStepBase {
  readonly type: 'alert';
  readonly severity: string;
  readonly message: CompiledText;
  readonly assignee: CompiledText | null;
}

/** A compiled `webhook` step. */
export interface CompiledWebhookStep extends CompiledStepBase {
  readonly type: 'webhook';
  readonly webhook: string | null;
  readonly url: CompiledText | null;
  readonly method: string;
  readonly headers: readonly { readonly name: string; readonly value: CompiledText }[];
  readonly body: CompiledValue | null;
}

/** A compiled `update_customer` step. */
export interface CompiledUpdateCustomerStep extends CompiledStepBase {
  readonly type: 'update_customer';
  readonly set: readonly { readonly path: readonly string[]; readonly value: CompiledValue }[];
  readonly unset: readonly (readonly string[])[];
}

/** A compiled `goto` step. */
export interface CompiledGotoStep extends CompiledStepBase {
  readonly type: 'goto';
  readonly target: ResolvedTarget;
}

/** A compiled `exit` step. */
export interface CompiledExitStep extends CompiledStepBase {
  readonly type: 'exit';
  readonly reason: string;
}

/** Every compiled step, discriminated by `type` like the definitions. */
export type CompiledStep =
  | CompiledSendStep
  | CompiledWaitStep
  | CompiledWaitForEventStep
  | CompiledBranchStep
  | CompiledSplitStep
  | CompiledTaskStep
  | CompiledAlertStep
  | CompiledWebhookStep
  | CompiledUpdateCustomerStep
  | CompiledGotoStep
  | CompiledExitStep;

/** A compiled stage. */
export interface CompiledStage {
  readonly id: string;
  readonly name: string;
  readonly index: number;
  readonly steps: readonly CompiledStep[];
}

/** A compiled conversion goal. */
export interface CompiledGoal {
  readonly name: string;
  readonly event: string | null;
  readonly when: CompiledConditions | null;
  /** Conversion window in ms from enrollment; null = while the enrollment is active. */
  readonly windowMs: number | null;
  readonly exit: boolean;
}

/** A journey ready to run: what `enroll` and `advance` take. */
export interface CompiledJourney {
  readonly id: string;
  readonly version: number;
  /** `journeyHash(definition)`: equal hashes mean equal definitions. */
  readonly hash: string;
  readonly name: string;
  readonly definition: JourneyDefinition;
  readonly stages: readonly CompiledStage[];
  /** Stage id → index in `stages`. */
  readonly stageIndex: ReadonlyMap<string, number>;
  /** Step id → the step. */
  readonly steps: ReadonlyMap<string, CompiledStep>;
  /** The event the journey's `entry.event` names, for the orchestrator's routing; null if none. */
  readonly entryEvent: string | null;
  readonly entryConditions: CompiledConditions | null;
  readonly reEntry: ReEntryPolicy;
  /** Cooldown in ms for `re_entry: cooldown`, else null. */
  readonly cooldownMs: number | null;
  readonly exitConditions: CompiledConditions | null;
  readonly exitEvents: ReadonlySet<string>;
  readonly goals: readonly CompiledGoal[];
  /** Journey-level holdout fraction 0-1. */
  readonly holdout: number;
  /**
   * The installation-wide holdout fraction 0-1 (`defaults.global_holdout`), or 0 when the journey
   * is exempt (`global_holdout: false`). The same customers are held out of every journey.
   */
  readonly globalHoldout: number;
  /** Time zone for customers without a valid `timezone` attribute. */
  readonly defaultTimezone: string;
  /**
   * Whether the definition or a template it sends reads `journey.entry_event`: only then does an
   * enrollment keep a copy of its enrolling event in its state for the steps after the first wait.
   */
  readonly keepsEntryEvent: boolean;
}

/** Options for `compileJourney`. */
export interface CompileJourneyOptions {
  /**
   * The top-level `templates`. When given, every `send.template` must name one of them and the
   * runtime renders it; when omitted, sends naming a template carry the name and leave rendering
   * to delivery.
   */
  readonly templates?: Readonly<Record<string, TemplateDefinition>> | undefined;
  /** The config's `defaults.timezone`; default `UTC`. */
  readonly defaultTimezone?: string | undefined;
  /**
   * The content personalizer of templates with `selection: bandit`, by template name; without
   * it such templates choose by weight.
   */
  readonly personalizers?: ((template: string) => VariantPersonalizer | undefined) | undefined;
  /** The config's `defaults.global_holdout` as a fraction; default 0. */
  readonly globalHoldout?: number | undefined;
}

/** The targets every journey understands besides its stage ids. */
const FIXED_TARGETS = new Set(['exit', 'complete']);

/** Conditions in journeys read bare fields from the customer, like condition triggers. */
const CONDITION_OPTIONS = { defaultRoot: 'customer' } as const;

/**
 * Compiles a journey definition. Pure: the same definition and version give an equivalent result.
 *
 * @throws InvalidJourneyError listing every problem (unknown stage target, duplicate step or stage
 *   id, no stages, bad weights, conditions or templates that do not compile, unknown template).
 */
/**
 * A template's content alternatives: one without variants, else one per variant (a variant's
 * missing subject, title or html comes from the template). Rule actions that send a template use
 * this too, so a template renders the same from a journey step and from a rule.
 */
export function templateContents(
  template: TemplateDefinition,
  personalizer?: VariantPersonalizer,
): CompiledSendStep['contents'] {
  const variants = template.variants ?? [];
  if (variants.length === 0) {
    return [{ variant: null, weight: 1, render: compileMessageContent(templateContent(template)) }];
  }
  const bandit = template.selection === 'bandit' && variants.length > 1 ? personalizer : undefined;
  return variants.map((variant) => ({
    variant: variant.name,
    weight: variant.weight ?? 1,
    ...(bandit === undefined ? {} : { personalizer: bandit }),
    render: compileMessageContent(
      templateContent({
        subject: variant.subject ?? template.subject,
        title: variant.title ?? template.title,
        body: variant.body,
        html: variant.html ?? template.html,
      }),
    ),
  }));
}

export function compileJourney(
  definition: JourneyDefinition,
  version: number,
  options: CompileJourneyOptions = {},
): CompiledJourney {
  const problems: JourneyProblem[] = [];
  const problem = (path: string, message: string): void => {
    problems.push({ path, message });
  };

  if (definition.stages.length === 0) problem('stages', 'a journey needs at least one stage');
  if (!Number.isInteger(version) || version < 1) {
    problem('version', `expected a positive integer version, got ${String(version)}`);
  }

  const stageIndex = new Map<string, number>();
  definition.stages.forEach((stage, index) => {
    if (FIXED_TARGETS.has(stage.id)) {
      problem(
        `stages[${index}].id`,
        `'${stage.id}' is reserved as a target and cannot be a stage id`,
      );
    }
    if (stageIndex.has(stage.id)) {
      problem(`stages[${index}].id`, `duplicate stage id '${stage.id}'`);
    } else {
      stageIndex.set(stage.id, index);
    }
  });

  const resolve = (target: StepTarget | undefined, path: string): ResolvedTarget => {
    if (target === undefined) return { kind: 'continue' };
    if (target === 'exit') return { kind: 'exit' };
    if (target === 'complete') return { kind: 'complete' };
    const index = stageIndex.get(target);
    if (index === undefined) {
      const known = [...stageIndex.keys(), 'exit', 'complete'].join(', ');
      problem(path, `unknown target '${target}'; expected one of: ${known}`);
      return { kind: 'continue' };
    }
    return { kind: 'stage', stageIndex: index, stageId: target };
  };

  const conditions = (
    group: ConditionGroup | undefined,
    path: string,
  ): CompiledConditions | null => {
    if (group === undefined) return null;
    try {
      return compileConditions(group, CONDITION_OPTIONS);
    } catch (error) {
      problem(path, describe(error));
      return null;
    }
  };
  const requiredConditions = (group: ConditionGroup, path: string): CompiledConditions =>
    conditions(group, path) ?? (() => false);

  const guarded = <T>(path: string, build: () => T, fallback: T): T => {
    try {
      return build();
    } catch (error) {
      problem(path, describe(error));
      return fallback;
    }
  };
  const text = (value: string, path: string): CompiledText =>
    guarded(path, () => compileText(value, 'none'), FAILED_TEXT);
  const optionalText = (value: string | undefined, path: string): CompiledText | null =>
    value === undefined ? null : text(value, path);

  const steps = new Map<string, CompiledStep>();
  const stages: CompiledStage[] = definition.stages.map((stage, stageIdx) => {
    const compiledSteps = stage.steps.map((step, index): CompiledStep => {
      const path = `stages[${stageIdx}].steps[${index}]`;
      const base = { id: step.id ?? `${stage.id}.${index}`, stageIndex: stageIdx, index };
      const compiled = compileStep(step, base, path);
      if (steps.has(base.id)) problem(`${path}.id`, `duplicate step id '${base.id}'`);
      else steps.set(base.id, compiled);
      return compiled;
    });
    return { id: stage.id, name: stage.name ?? stage.id, index: stageIdx, steps: compiledSteps };
  });

  function compileStep(step: StepDefinition, base: CompiledStepBase, path: string): CompiledStep {
    switch (step.type) {
      case 'send': {
        const hasTemplate = step.template !== undefined;
        const hasContent = step.content !== undefined;
        if (hasTemplate === hasContent) {
          problem(path, 'a send step needs exactly one of template and content');
        }
        return {
          ...base,
          type: 'send',
          channel: step.channel,
          priority: step.priority ?? 'normal',
          urgency: step.urgency ?? null,
          businessHours: step.business_hours ?? false,
          template: step.template ?? null,
          contents: sendContents(step.template, step.content, path),
          sendTime: compileSendTime(step.send_time),
        };
      }
      case 'wait':
        return { ...base, type: 'wait', mode: waitMode(step, path), at: timeOfDay(step.at, path) };
      case 'wait_for_event':
        if (step.events.length === 0)
          problem(`${path}.events`, 'wait_for_event needs at least one event');
        return {
          ...base,
          type: 'wait_for_event',
          events: step.events.map((awaited, i) => ({
            event: awaited.event,
            when: conditions(awaited.conditions, `${path}.events[${i}].conditions`),
            target: resolve(awaited.next, `${path}.events[${i}].next`),
          })),
          timeout: step.timeout ?? null,
          onTimeout: resolve(step.on_timeout?.next, `${path}.on_timeout.next`),
        };
      case 'branch':
        return {
          ...base,
          type: 'branch',
          arms: step.branches.map((arm, i) => ({
            name: arm.name ?? `branch_${i}`,
            when: requiredConditions(arm.conditions, `${path}.branches[${i}].conditions`),
            target: resolve(arm.next, `${path}.branches[${i}].next`),
          })),
          defaultTarget: resolve(step.default?.next, `${path}.default.next`),
        };
      case 'split': {
        const holdout = step.holdout ?? 0;
        if (!(holdout >= 0 && holdout < 1)) {
          problem(`${path}.holdout`, `expected a fraction in [0, 1), got ${String(holdout)}`);
        }
        let totalWeight = 0;
        const variants = step.variants.map((variant, i) => {
          if (!(Number.isFinite(variant.weight) && variant.weight > 0)) {
            problem(
              `${path}.variants[${i}].weight`,
              `expected a positive weight, got ${String(variant.weight)}`,
            );
          } else {
            totalWeight += variant.weight;
          }
          return {
            name: variant.name,
            weight: variant.weight,
            target: resolve(variant.next, `${path}.variants[${i}].next`),
          };
        });
        if (variants.length === 0)
          problem(`${path}.variants`, 'a split needs at least one variant');
        return { ...base, type: 'split', variants, totalWeight, holdout };
      }
      case 'task':
        return {
          ...base,
          type: 'task',
          title: text(step.title, `${path}.title`),
          assignee: optionalText(step.assignee, `${path}.assignee`),
          description: optionalText(step.description, `${path}.description`),
          due: step.due ?? null,
          priority: step.priority ?? null,
        };
      case 'alert':
        return {
          ...base,
          type: 'alert',
          severity: step.severity,
          message: text(step.message, `${path}.message`),
          assignee: optionalText(step.assignee, `${path}.assignee`),
        };
      case 'webhook':
        if ((step.url === undefined) === (step.webhook === undefined)) {
          problem(path, 'a webhook step needs exactly one of url and webhook');
        }
        return {
          ...base,
          type: 'webhook',
          webhook: step.webhook ?? null,
          url: optionalText(step.url, `${path}.url`),
          method: (step.method ?? 'POST').toUpperCase(),
          headers: Object.entries(step.headers ?? {}).map(([name, value]) => ({
            name,
            value: text(value, `${path}.headers.${name}`),
          })),
          body:
            step.body === undefined
              ? null
              : guarded(`${path}.body`, () => compileValue(step.body), FAILED_VALUE),
        };
      case 'update_customer':
        return {
          ...base,
          type: 'update_customer',
          set: Object.entries(step.set ?? {}).map(([field, value]) => ({
            path: profilePath(field, `${path}.set.${field}`),
            value: guarded(`${path}.set.${field}`, () => compileValue(value), FAILED_VALUE),
          })),
          unset: (step.unset ?? []).map((field, i) => profilePath(field, `${path}.unset[${i}]`)),
        };
      case 'goto':
        return { ...base, type: 'goto', target: resolve(step.stage, `${path}.stage`) };
      case 'exit':
        return { ...base, type: 'exit', reason: step.reason ?? 'exit_step' };
      default:
        return assertNever(step, 'step type');
    }
  }

  function sendContents(
    template: string | undefined,
    content: Readonly<Record<string, unknown>> | undefined,
    path: string,
  ): CompiledSendStep['contents'] {
    if (content !== undefined) {
      const render = guarded(
        `${path}.content`,
        () => compileMessageContent(content),
        FAILED_CONTENT,
      );
      return [{ variant: null, weight: 1, render }];
    }
    if (template === undefined || options.templates === undefined) return [];
    const found = Object.hasOwn(options.templates, template)
      ? options.templates[template]
      : undefined;
    if (found === undefined) {
      const known = Object.keys(options.templates).join(', ') || '(none)';
      problem(`${path}.template`, `unknown template '${template}'; defined: ${known}`);
      return [];
    }
    const variants = found.variants ?? [];
    variants.forEach((variant, i) => {
      if (
        variant.weight !== undefined &&
        !(Number.isFinite(variant.weight) && variant.weight > 0)
      ) {
        problem(`${path}.template`, `template '${template}' variant ${i} needs a positive weight`);
      }
    });
    return guarded(
      `${path}.template`,
      () => templateContents(found, options.personalizers?.(template)),
      [],
    );
  }

  function waitMode(step: Extract<StepDefinition, { type: 'wait' }>, path: string): WaitMode {
    const given = [step.duration, step.until, step.until_field].filter((v) => v !== undefined);
    if (given.length !== 1) {
      problem(path, 'a wait step needs exactly one of duration, until and until_field');
    }
    if (step.offset !== undefined && step.until_field === undefined) {
      problem(`${path}.offset`, 'offset applies only to until_field');
    }
    if (step.until_field !== undefined) {
      profilePath(step.until_field, `${path}.until_field`);
      return { kind: 'field', field: step.until_field, offset: step.offset ?? null };
    }
    if (step.until !== undefined) {
      const until = step.until;
      const instant =
        typeof until === 'number'
          ? until
          : typeof until === 'string'
            ? Date.parse(until)
            : until.epochMs;
      const text =
        typeof until === 'object' ? (until.text ?? String(until.epochMs)) : String(until);
      if (!Number.isFinite(instant))
        problem(`${path}.until`, `expected an ISO-8601 instant, got '${text}'`);
      return { kind: 'until', instant: Number.isFinite(instant) ? instant : null, text };
    }
    return { kind: 'duration', duration: step.duration ?? { ms: 0, text: '0s' } };
  }

  function timeOfDay(at: string | ParsedTimeOfDay | undefined, path: string): TimeOfDay | null {
    if (at === undefined) return null;
    const parsed = typeof at === 'string' ? parseTimeOfDay(at) : minuteOfDay(at.minute);
    if (parsed === null) {
      const text = typeof at === 'string' ? at : (at.text ?? String(at.minute));
      problem(`${path}.at`, `expected a local time HH:mm, got '${text}'`);
    }
    return parsed;
  }

  function profilePath(field: string, path: string): readonly string[] {
    const segments = field.split('.');
    if (segments[0] === 'customer' && segments.length > 1) segments.shift();
    if (segments.some((s) => s.length === 0 || RESERVED_SEGMENTS.has(s))) {
      problem(path, `invalid customer field path '${field}'`);
    }
    return segments;
  }

  const entry = definition.entry;
  const reEntry = entry?.re_entry ?? 'never';
  if (reEntry === 'cooldown' && entry?.cooldown === undefined) {
    problem('entry.cooldown', 're_entry: cooldown needs a cooldown duration');
  }
  const holdout = definition.holdout ?? 0;
  if (!(holdout >= 0 && holdout < 1)) {
    problem('holdout', `expected a fraction in [0, 1), got ${String(holdout)}`);
  }
  const goalNames = new Set<string>();
  const goals = (definition.goals ?? []).map((goal, i): CompiledGoal => {
    if (goalNames.has(goal.name)) problem(`goals[${i}].name`, `duplicate goal '${goal.name}'`);
    goalNames.add(goal.name);
    if (goal.event === undefined && goal.conditions === undefined) {
      problem(`goals[${i}]`, 'a goal needs an event or conditions');
    }
    return {
      name: goal.name,
      event: goal.event ?? null,
      when: conditions(goal.conditions, `goals[${i}].conditions`),
      windowMs: goal.window?.ms ?? null,
      exit: goal.exit ?? false,
    };
  });

  const compiled: CompiledJourney = {
    id: definition.id,
    version,
    hash: journeyHash(definition),
    name: definition.name ?? definition.id,
    definition,
    stages,
    stageIndex,
    steps,
    entryEvent: entry?.event ?? null,
    entryConditions: conditions(entry?.conditions, 'entry.conditions'),
    reEntry,
    cooldownMs: reEntry === 'cooldown' ? (entry?.cooldown?.ms ?? 0) : null,
    exitConditions: conditions(definition.exit?.conditions, 'exit.conditions'),
    exitEvents: new Set(definition.exit?.events ?? []),
    goals,
    holdout,
    globalHoldout: definition.global_holdout === false ? 0 : (options.globalHoldout ?? 0),
    defaultTimezone: options.defaultTimezone ?? 'UTC',
    keepsEntryEvent: readsEntryEvent(definition, steps.values(), options.templates),
  };
  if (problems.length > 0) throw new InvalidJourneyError(definition.id, problems);
  return compiled;
}

/**
 * Whether `entry_event` appears anywhere in the definition or in a template one of its sends names.
 * A textual check on purpose: a false positive only keeps a copy nobody reads, and there is no way
 * to reach the field without writing its name.
 */
function readsEntryEvent(
  definition: JourneyDefinition,
  steps: Iterable<CompiledStep>,
  templates: Readonly<Record<string, TemplateDefinition>> | undefined,
): boolean {
  if (JSON.stringify(definition).includes('entry_event')) return true;
  for (const step of steps) {
    if (step.type !== 'send' || step.template === null || templates === undefined) continue;
    const template = Object.hasOwn(templates, step.template) ? templates[step.template] : undefined;
    if (template !== undefined && JSON.stringify(template).includes('entry_event')) return true;
  }
  return false;
}

/** Segments that would reach an object's prototype; refused in profile paths. */
const RESERVED_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Placeholders used while collecting problems; never returned (compile throws first). */
const FAILED_TEXT: CompiledText = () => ({ output: '', missing: [] });
const FAILED_VALUE: CompiledValue = () => ({ value: null, missing: [] });
const FAILED_CONTENT: CompiledContent = () => ({ value: {}, missing: [] });

function templateContent(template: {
  subject?: string | undefined;
  title?: string | undefined;
  body: string;
  html?: string | undefined;
}): Record<string, unknown> {
  const content: Record<string, unknown> = {};
  if (template.subject !== undefined) content['subject'] = template.subject;
  if (template.title !== undefined) content['title'] = template.title;
  content['body'] = template.body;
  if (template.html !== undefined) content['html'] = template.html;
  return content;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import { assertNever } from '../core/index.js';
import { BUILTIN_ACTIONS, type Action, type ActionReference } from './action-schema.js';
import { closestName, listNames } from './closest-name.js';
import type { SectionName, WaymarkConfig } from './config-schema.js';
import { eventPatternProblem } from './event-types.js';
import { eventReadsWithoutEvent } from './journey-event-reads.js';
import { RESERVED_TARGETS, type JourneyDefinition } from './journey-schema.js';
import type { ConfigPath, ProblemSeverity } from './problems.js';
import type { RetryReference } from './retry-schema.js';
import type { Finding } from './schema-issues.js';

/**
 * Cross-references: every name that points at something else (a journey, a stage, a channel, a
 * policy, a schedule, ...) is resolved here, after the schema has checked each section.
 *
 * - A reference to a kind of thing the config defines (the top-level key is present) must
 *   resolve; otherwise it is an error with the closest name and the list of defined ones.
 * - A reference to a kind the config does not define at all is a warning, so that a fragment (a
 *   file of rules without the journeys) validates on its own.
 * - When a section failed its schema check, references into it are not judged at all: its names
 *   are unknown, and a second error about them would only be noise.
 *
 * The check also settles trigger and prediction `action:` names (see `ActionReference`).
 */

/** A finding with its severity. */
export interface ReferenceFinding extends Finding {
  readonly severity: ProblemSeverity;
}

/** Sections that parsed (a section that failed its schema is absent). */
export type ParsedSections = { [K in SectionName]?: WaymarkConfig[K] };

type Kind =
  | 'journeys'
  | 'channels'
  | 'retry_policies'
  | 'schedules'
  | 'templates'
  | 'actions'
  | 'predictions'
  | 'webhooks';

const NOUNS: Readonly<Record<Kind, string>> = {
  journeys: 'journey',
  channels: 'channel',
  retry_policies: 'retry policy',
  schedules: 'schedule',
  templates: 'template',
  actions: 'action',
  predictions: 'prediction',
  webhooks: 'webhook',
};

/** Checks every reference of `sections`; `present` are the top-level keys written in the config. */
export function checkReferences(
  sections: ParsedSections,
  present: ReadonlySet<SectionName>,
): ReferenceFinding[] {
  return new ReferenceCheck(sections, present).run();
}

class ReferenceCheck {
  readonly #findings: ReferenceFinding[] = [];
  readonly #names = new Map<Kind, ReadonlySet<string>>();
  readonly #stages = new Map<string, readonly string[]>();

  constructor(
    private readonly sections: ParsedSections,
    private readonly present: ReadonlySet<SectionName>,
  ) {
    const {
      journeys,
      channels,
      retry_policies,
      schedules,
      templates,
      actions,
      predictions,
      webhooks,
    } = sections;
    if (journeys) this.#names.set('journeys', new Set(journeys.map((j) => j.id)));
    if (channels) this.#names.set('channels', new Set(Object.keys(channels)));
    if (retry_policies) this.#names.set('retry_policies', new Set(Object.keys(retry_policies)));
    if (schedules) this.#names.set('schedules', new Set(schedules.map((s) => s.name)));
    if (templates) this.#names.set('templates', new Set(Object.keys(templates)));
    if (actions) this.#names.set('actions', new Set(Object.keys(actions)));
    if (predictions) this.#names.set('predictions', new Set(Object.keys(predictions)));
    if (webhooks) this.#names.set('webhooks', new Set(webhooks.map((w) => w.name)));
    for (const journey of journeys ?? [])
      this.#stages.set(
        journey.id,
        journey.stages.map((s) => s.id),
      );
  }

  run(): ReferenceFinding[] {
    this.journeys();
    this.channels();
    this.rateLimits();
    this.templates();
    this.rules();
    this.namedActions();
    this.triggers();
    this.predictions();
    this.nextBestAction();
    this.webhooks();
    return this.#findings;
  }

  /** The catalogue's channels must be configured ones. */
  private nextBestAction(): void {
    const section = this.sections.next_best_action;
    if (!section) return;
    for (const [name, action] of Object.entries(section.actions)) {
      if (action.channel !== undefined) {
        this.resolve('channels', action.channel, ['next_best_action', 'actions', name, 'channel']);
      }
    }
  }

  // ---- reporting -------------------------------------------------------------------------

  private error(path: ConfigPath, message: string, target: Finding['target'] = 'value'): void {
    this.#findings.push({ path, message, target, severity: 'error' });
  }

  private warning(path: ConfigPath, message: string, target: Finding['target'] = 'value'): void {
    this.#findings.push({ path, message, target, severity: 'warning' });
  }

  /** 'defined' | 'absent' (warn) | 'unknown' (section failed its schema: do not judge). */
  private status(kind: Kind): 'defined' | 'absent' | 'unknown' {
    if (this.#names.has(kind) && this.present.has(kind)) return 'defined';
    if (!this.present.has(kind)) return 'absent';
    return 'unknown';
  }

  /** Resolves `name` among the `kind` the config defines; reports and returns false when it does not. */
  private resolve(
    kind: Kind,
    name: string,
    path: ConfigPath,
    what = NOUNS[kind],
    target: Finding['target'] = 'value',
  ): boolean {
    switch (this.status(kind)) {
      case 'unknown':
        return false;
      case 'absent':
        this.warning(
          path,
          `${what} '${name}' cannot be checked: this config defines no ${kind}`,
          target,
        );
        return false;
      case 'defined': {
        const names = this.#names.get(kind) ?? new Set<string>();
        if (names.has(name)) return true;
        this.error(
          path,
          `unknown ${what} '${name}'${hint(name, names)}; ${defined(kind, names)}`,
          target,
        );
        return false;
      }
    }
  }

  private retry(retry: RetryReference | undefined, path: ConfigPath): void {
    if (typeof retry === 'string') this.resolve('retry_policies', retry, path);
  }

  // ---- journeys ----------------------------------------------------------------------------

  private journeys(): void {
    this.sections.journeys?.forEach((journey, j) => {
      this.journey(journey, ['journeys', j]);
    });
  }

  private journey(journey: JourneyDefinition, at: ConfigPath): void {
    const stageIds = new Map<string, number>();
    journey.stages.forEach((stage, s) => {
      const first = stageIds.get(stage.id);
      if (first !== undefined) {
        this.error(
          [...at, 'stages', s, 'id'],
          `duplicate stage id '${stage.id}' in journey '${journey.id}' (first at stages[${first}])`,
        );
      } else {
        stageIds.set(stage.id, s);
      }
      if ((RESERVED_TARGETS as readonly string[]).includes(stage.id)) {
        this.error(
          [...at, 'stages', s, 'id'],
          `'${stage.id}' cannot be a stage id: it is a reserved target (${RESERVED_TARGETS.join(', ')})`,
        );
      }
    });
    const targets = [...stageIds.keys(), ...RESERVED_TARGETS];
    const target = (name: string | undefined, path: ConfigPath): void => {
      if (name === undefined || targets.includes(name)) return;
      this.error(
        path,
        `unknown target '${name}'${hint(name, targets)}; expected a stage id of journey '${journey.id}' (${listNames(stageIds.keys())}), 'exit' or 'complete'`,
      );
    };

    const goalNames = new Set<string>();
    journey.goals?.forEach((goal, g) => {
      if (goalNames.has(goal.name))
        this.error(
          [...at, 'goals', g, 'name'],
          `duplicate goal name '${goal.name}' in journey '${journey.id}'`,
        );
      goalNames.add(goal.name);
    });

    const stepIds = new Map<string, string>();
    journey.stages.forEach((stage, s) => {
      // A repeated stage id already has its error; its default step ids would only echo it.
      const repeatedStage = stageIds.get(stage.id) !== s;
      stage.steps.forEach((step, i) => {
        const path: ConfigPath = [...at, 'stages', s, 'steps', i];
        const first = stepIds.get(step.id);
        if (first !== undefined && !repeatedStage) {
          this.error(
            [...path, 'id'],
            `duplicate step id '${step.id}' in journey '${journey.id}' (first at ${first}); step ids default to <stage>.<index>`,
          );
        } else {
          stepIds.set(step.id, `stages[${s}].steps[${i}]`);
        }
        switch (step.type) {
          case 'send':
            // `auto` is not a channel: it asks for channel selection.
            if (step.channel !== 'auto')
              this.resolve('channels', step.channel, [...path, 'channel']);
            if (step.template !== undefined)
              this.resolve('templates', step.template, [...path, 'template']);
            break;
          case 'wait_for_event':
            step.events.forEach((e, k) => {
              target(e.next, [...path, 'events', k, 'next']);
            });
            target(step.on_timeout?.next, [...path, 'on_timeout', 'next']);
            break;
          case 'branch':
            uniqueNames(step.branches, (k) => [...path, 'branches', k, 'name'], 'branch', this);
            step.branches.forEach((b, k) => {
              target(b.next, [...path, 'branches', k, 'next']);
            });
            target(step.default?.next, [...path, 'default', 'next']);
            break;
          case 'split':
            uniqueNames(step.variants, (k) => [...path, 'variants', k, 'name'], 'variant', this);
            step.variants.forEach((v, k) => {
              target(v.next, [...path, 'variants', k, 'next']);
            });
            break;
          case 'goto':
            target(step.stage, [...path, 'stage']);
            break;
          case 'webhook':
            if (step.webhook !== undefined)
              this.resolve('webhooks', step.webhook, [...path, 'webhook']);
            break;
          case 'wait':
          case 'task':
          case 'alert':
          case 'update_customer':
          case 'exit':
            break;
          default:
            assertNever(step, 'step type');
        }
      });
    });

    for (const finding of eventReadsWithoutEvent(journey, at, this.sections.templates)) {
      this.warning(finding.path, finding.message, 'key');
    }
  }

  /** Records a duplicate-name error; used by the journey check for branches and variants. */
  duplicate(path: ConfigPath, what: string, name: string): void {
    this.error(path, `duplicate ${what} name '${name}' in this step`);
  }

  // ---- delivery ----------------------------------------------------------------------------

  private channels(): void {
    const channels = this.sections.channels;
    if (!channels) return;
    const reported = new Set<string>();
    for (const [name, channel] of Object.entries(channels)) {
      const path: ConfigPath = ['channels', name];
      this.retry(channel.retry_policy, [...path, 'retry_policy']);
      if (channel.fallback === undefined) continue;
      if (channel.fallback === name) {
        this.error([...path, 'fallback'], `channel '${name}' falls back to itself`);
        continue;
      }
      if (!this.resolve('channels', channel.fallback, [...path, 'fallback'], 'fallback channel'))
        continue;
      // Follow the chain; a loop would bounce a failed message between channels forever.
      const chain = [name];
      let next: string | undefined = channel.fallback;
      while (next !== undefined && !chain.includes(next)) {
        chain.push(next);
        next = channels[next]?.fallback;
      }
      if (next === name && !reported.has(name)) {
        chain.forEach((c) => reported.add(c));
        this.error([...path, 'fallback'], `fallback chain loops: ${[...chain, name].join(' → ')}`);
      }
    }
  }

  // Limits name channels by their keys. They are checked only when the config defines channels:
  // a limits file on its own is common and would otherwise warn once per channel.
  private rateLimits(): void {
    const limits = this.sections.rate_limits;
    if (!limits || this.status('channels') !== 'defined') return;
    for (const name of Object.keys(limits.customer)) {
      if (name !== 'total')
        this.resolve('channels', name, ['rate_limits', 'customer', name], 'channel', 'key');
    }
    for (const name of Object.keys(limits.global)) {
      this.resolve('channels', name, ['rate_limits', 'global', name], 'channel', 'key');
    }
  }

  private templates(): void {
    for (const [name, template] of Object.entries(this.sections.templates ?? {})) {
      if (template.channel !== undefined)
        this.resolve('channels', template.channel, ['templates', name, 'channel']);
    }
  }

  // ---- rules, actions, triggers, predictions ---------------------------------------------------

  private rules(): void {
    this.sections.rules?.forEach((rule, r) => {
      if (typeof rule.schedule === 'string')
        this.resolve('schedules', rule.schedule, ['rules', r, 'schedule']);
      rule.actions.forEach((action, a) => {
        this.action(action, ['rules', r, 'actions', a]);
      });
    });
  }

  private namedActions(): void {
    for (const [name, list] of Object.entries(this.sections.actions ?? {})) {
      list.forEach((action, a) => {
        this.action(action, ['actions', name, a]);
      });
    }
  }

  private stage(journeyId: string | undefined, stage: string, path: ConfigPath): void {
    if (this.status('journeys') !== 'defined') {
      if (this.status('journeys') === 'absent')
        this.warning(path, `stage '${stage}' cannot be checked: this config defines no journeys`);
      return;
    }
    const stages =
      journeyId === undefined
        ? [...this.#stages.values()].flat()
        : (this.#stages.get(journeyId) ?? []);
    if (stages.includes(stage)) return;
    const scope = journeyId === undefined ? 'any journey' : `journey '${journeyId}'`;
    this.error(
      path,
      `unknown stage '${stage}'${hint(stage, stages)}; stages of ${scope}: ${stages.length > 0 ? listNames(new Set(stages)) : 'none'}`,
    );
  }

  private action(action: Action, path: ConfigPath): void {
    this.retry(action.retry, [...path, 'retry']);
    const params: ConfigPath = [...path, 'params'];
    switch (action.type) {
      case 'enroll_journey': {
        const found = this.resolve('journeys', action.params.journey_id, [...params, 'journey_id']);
        if (found && action.params.stage !== undefined)
          this.stage(action.params.journey_id, action.params.stage, [...params, 'stage']);
        break;
      }
      case 'exit_journey':
        if (action.params.journey_id !== undefined)
          this.resolve('journeys', action.params.journey_id, [...params, 'journey_id']);
        break;
      case 'advance_stage': {
        const journeyId = action.params.journey_id;
        if (
          journeyId !== undefined &&
          !this.resolve('journeys', journeyId, [...params, 'journey_id'])
        )
          break;
        this.stage(journeyId, action.params.stage, [...params, 'stage']);
        break;
      }
      case 'send_message':
      case 'schedule_message': {
        const p = action.params;
        if (p.channel !== undefined && p.channel !== 'auto')
          this.resolve('channels', p.channel, [...params, 'channel']);
        if (p.template !== undefined)
          this.resolve('templates', p.template, [...params, 'template']);
        if (action.type === 'schedule_message' && action.params.prediction !== undefined) {
          this.resolve('predictions', action.params.prediction, [...params, 'prediction']);
        }
        break;
      }
      case 'send_webhook':
        if (action.params.webhook !== undefined)
          this.resolve('webhooks', action.params.webhook, [...params, 'webhook']);
        break;
      case 'create_alert':
      case 'create_task':
      case 'escalate_to_csm':
      case 'update_customer':
        break;
      default:
        assertNever(action, 'action type');
    }
  }

  /**
   * Settles an `action:` name. Named actions win over the built-in forms; `enroll_X_journey`
   * means journey `X`, or journey `X_journey` when only that exists.
   */
  private actionReference(reference: ActionReference, path: ConfigPath): ActionReference {
    const { text } = reference;
    if (this.#names.get('actions')?.has(text)) return { kind: 'named', text, name: text };
    switch (reference.kind) {
      case 'builtin':
        return reference;
      case 'enroll_journey': {
        const journeys = this.#names.get('journeys');
        const status = this.status('journeys');
        if (status === 'absent') {
          this.warning(
            path,
            `journey '${reference.journey}' (from action '${text}') cannot be checked: this config defines no journeys`,
          );
        } else if (status === 'defined' && journeys) {
          if (journeys.has(reference.journey)) return reference;
          const literal = `${reference.journey}_journey`;
          if (journeys.has(literal)) return { ...reference, journey: literal };
          this.error(
            path,
            `action '${text}' enrolls in journey '${reference.journey}', which is not defined${hint(reference.journey, journeys)}; ${defined('journeys', journeys)}`,
          );
        }
        return reference;
      }
      case 'named': {
        if (this.status('actions') === 'unknown') return reference;
        const named = [...(this.#names.get('actions') ?? [])];
        const journeyForms = [...(this.#names.get('journeys') ?? [])].map(
          (j) => `enroll_${j}_journey`,
        );
        const near = closestName(text, [...named, ...BUILTIN_ACTIONS, ...journeyForms]);
        const suggestion = near === undefined ? '' : ` (did you mean '${near}'?)`;
        const namedPart =
          named.length > 0
            ? `an entry of 'actions' (${listNames(named)})`
            : "an entry of 'actions' (none defined)";
        this.error(
          path,
          `unknown action '${text}'${suggestion}; expected ${namedPart}, enroll_<journey>_journey or trigger_<journey>_journey, or a built-in action (${BUILTIN_ACTIONS.join(', ')})`,
        );
        return reference;
      }
    }
  }

  private triggers(): void {
    this.sections.triggers?.forEach((trigger, t) => {
      const path: ConfigPath = ['triggers', t];
      if (trigger.schedule !== undefined)
        this.resolve('schedules', trigger.schedule, [...path, 'schedule']);
      if (trigger.prediction !== undefined) {
        const found = this.resolve('predictions', trigger.prediction, [...path, 'prediction']);
        const prediction = found ? this.sections.predictions?.[trigger.prediction] : undefined;
        if (found && trigger.action === undefined && prediction?.action === undefined) {
          this.error(
            [...path, 'action'],
            `trigger '${trigger.name}' has no 'action' and prediction '${trigger.prediction}' has none either`,
          );
        }
      }
      if (trigger.action !== undefined)
        trigger.action = this.actionReference(trigger.action, [...path, 'action']);
    });
  }

  private predictions(): void {
    for (const [name, prediction] of Object.entries(this.sections.predictions ?? {})) {
      if (prediction.action !== undefined) {
        prediction.action = this.actionReference(prediction.action, [
          'predictions',
          name,
          'action',
        ]);
      }
    }
  }

  // ---- observability ---------------------------------------------------------------------------

  private webhooks(): void {
    this.sections.webhooks?.forEach((webhook, w) => {
      webhook.events.forEach((pattern, e) => {
        const problem = eventPatternProblem(pattern);
        if (problem !== undefined) this.error(['webhooks', w, 'events', e], problem);
      });
      if (typeof webhook.retry === 'string') this.retry(webhook.retry, ['webhooks', w, 'retry']);
    });
  }
}

function uniqueNames(
  items: readonly { name: string }[],
  pathOf: (index: number) => ConfigPath,
  what: string,
  check: ReferenceCheck,
): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.name)) check.duplicate(pathOf(index), what, item.name);
    seen.add(item.name);
  });
}

function hint(name: string, names: Iterable<string>): string {
  const near = closestName(name, names);
  return near === undefined ? '' : ` (did you mean '${near}'?)`;
}

function defined(kind: Kind, names: ReadonlySet<string>): string {
  return names.size === 0 ? `no ${kind} are defined` : `defined ${kind}: ${listNames(names)}`;
}

/**
 * The batch processor: the pure heart of the engine. Given a claimed batch (customers with their
 * pending events, due timers, enrollments and trigger states) and `now`, it returns everything the
 * batch writes — new profiles, enrollments, timers, messages, journey events, outbox entries,
 * trigger executions and decisions — for the store to commit in one transaction.
 *
 * Per customer, inputs are applied one at a time in time order (events by receive time, then
 * timers by due time; an event and a timer at the same instant: the event first, so a
 * wait-for-event never loses to its own timeout). For each event:
 *   1. the profile change it carries (customer.created / updated / deleted);
 *   2. the customer's active enrollments see the event (wait-for-event, exit criteria, goals) and,
 *      when the profile changed, the change;
 *   3. event triggers, real-time condition triggers (on the false→true edge) and journey entry
 *      events fire; then the rules, in priority order; their actions run (enroll, advance, exit,
 *      task, alert, message, profile update, webhook), delayed ones become timers.
 * An input that throws is isolated: everything it did is rolled back, the event is marked failed
 * (a poison event is recorded, never retried forever) and the customer's later inputs go on.
 */
import {
  emptyWorkResult,
  assertNever,
  isValidTimeZone,
  type AlertRecord,
  type CustomerRecord,
  type CustomerWork,
  type EnrollmentRecord,
  type IdSource,
  type Instant,
  type JsonObject,
  type MessageRecord,
  type SchedulePlanRecord,
  type StoredEvent,
  type TaskRecord,
  type TimerRecord,
  type WorkBatch,
  type WorkResult,
} from '../core/index.js';
import type { ConditionContext } from '../conditions/index.js';
import {
  advance,
  enroll,
  chooseContent,
  toJsonValue,
  copyFields,
  eventView,
  isoInstant,
  unitInterval,
  compileSendTime,
  DEFAULT_SEND_TIME_WINDOW_MS,
  type SendTimeDefinition,
  type CompiledJourney,
  type EnrollmentTrigger,
  type JourneyEffect,
  type JourneyInput,
  type JourneyInputEvent,
} from '../journeys/index.js';
import type { FiredRule, ResolvedAction, RuleContext, RuleSet } from '../rules/index.js';
import { recordActivity } from '../decisions/index.js';
import type {
  PredictionModel,
  PredictionScore,
  PredictionTrigger,
  RuntimeProject,
  RuntimeTrigger,
  ScheduleTrigger,
} from './project.js';
import {
  DEAD_LETTER_RETRY_COMMAND,
  FALLBACK_COMMAND,
  FEEDBACK_COMMAND,
  messageEvent,
} from '../delivery/index.js';
import { planSchedule } from './schedule-plans.js';
import { CustomerMessages, type MessagesMark } from './customer-messages.js';
import { stringField, stringList } from './payload.js';

/** Event types the engine itself writes to the event log (API commands); clients may not post them. */
export const COMMAND_EVENT_PREFIX = 'waymark.';

/** A remote model's score of a customer, appended by `RemoteModels` after it answered. */
export const PREDICTION_COMMAND = 'waymark.prediction';

/** How a batch is processed, beyond the project; every field has a default. */
export interface ProcessOptions {
  /** Milliseconds from a monotonic clock, for trigger processing times (default: always 0). */
  elapsed?: () => number;
  /**
   * Channels whose delivery IS the store write (the built-in in-app inbox): their messages are
   * committed delivered, with their `message.sent` event, in the batch that sends them, instead of
   * going through the outbox and a second transaction. Default: none.
   */
  storeDeliveredChannels?: ReadonlySet<string>;
}

/** Processes a whole batch; see the module comment. */
export function processBatch(
  project: RuntimeProject,
  batch: WorkBatch,
  now: Instant,
  ids: IdSource,
  options: ProcessOptions = {},
): WorkResult {
  const out = emptyWorkResult();
  const settings: Settings = {
    elapsed: options.elapsed ?? (() => 0),
    storeDeliveredChannels: options.storeDeliveredChannels ?? new Set(),
  };
  for (const work of batch.customers) {
    new CustomerRun(project, work, now, ids, out, settings).run();
  }
  dropTimersSetAndCancelled(out);
  return out;
}

/**
 * Leaves out the timers this batch both set and cancelled: a wait whose awaited event came in the
 * same batch, the common case when a customer's events arrive together. Writing them would insert
 * a row and its index entries only to mark it cancelled in the same commit; no one ever reads a
 * timer that was never pending outside its batch.
 */
function dropTimersSetAndCancelled(out: WorkResult): void {
  if (out.timerIdsToCancel.length === 0 || out.timersToAdd.length === 0) return;
  const added = new Set(out.timersToAdd.map((t) => t.id));
  const both = new Set(out.timerIdsToCancel.filter((id) => added.has(id)));
  if (both.size === 0) return;
  out.timersToAdd = out.timersToAdd.filter((t) => !both.has(t.id));
  out.timerIdsToCancel = out.timerIdsToCancel.filter((id) => !both.has(id));
}

type Settings = Required<ProcessOptions>;

type Input = { kind: 'event'; event: StoredEvent } | { kind: 'timer'; timer: TimerRecord };

/** Orders a customer's inputs: by time, events before timers at the same instant, then by seq/due. */
function orderedInputs(work: CustomerWork): Input[] {
  const inputs: Input[] = [
    ...work.events.map((event): Input => ({ kind: 'event', event })),
    ...work.timers.map((timer): Input => ({ kind: 'timer', timer })),
  ];
  const time = (i: Input) => (i.kind === 'event' ? i.event.receivedAt : i.timer.dueAt);
  return inputs.sort((a, b) => {
    const dt = time(a) - time(b);
    if (dt !== 0) return dt;
    if (a.kind !== b.kind) return a.kind === 'event' ? -1 : 1;
    if (a.kind === 'event' && b.kind === 'event') return a.event.seq - b.event.seq;
    return 0;
  });
}

/** Lengths of every output array, so an input's partial output can be rolled back. */
type Mark = Record<keyof WorkResult, number>;

/**
 * The lengths now. Spelled out rather than looped over `Object.keys`: it runs before every input,
 * and a keyed loop over a result's twenty arrays showed in profiles; the `Mark` type makes a list
 * added to `WorkResult` and forgotten here a compile error.
 */
function markOf(out: WorkResult): Mark {
  return {
    processedEventSeqs: out.processedEventSeqs.length,
    failedEvents: out.failedEvents.length,
    firedTimerIds: out.firedTimerIds.length,
    customerUpserts: out.customerUpserts.length,
    customerDeletes: out.customerDeletes.length,
    enrollmentUpserts: out.enrollmentUpserts.length,
    timersToAdd: out.timersToAdd.length,
    timersToReschedule: out.timersToReschedule.length,
    timerIdsToCancel: out.timerIdsToCancel.length,
    messages: out.messages.length,
    messageUpdates: out.messageUpdates.length,
    journeyEvents: out.journeyEvents.length,
    outbox: out.outbox.length,
    triggerExecutions: out.triggerExecutions.length,
    triggerStates: out.triggerStates.length,
    schedulePlans: out.schedulePlans.length,
    ruleFires: out.ruleFires.length,
    decisions: out.decisions.length,
    tasks: out.tasks.length,
    alerts: out.alerts.length,
  };
}

/** The per-customer state before an input, restored when the input fails. */
interface Snapshot {
  mark: Mark;
  customer: CustomerRecord | null;
  deleted: boolean;
  customerChanged: boolean;
  enrollments: Map<string, EnrollmentRecord>;
  changed: Set<string>;
  triggerStates: Record<string, boolean>;
  changedTriggerStates: Set<string>;
  plans: Map<string, SchedulePlanRecord>;
  changedPlans: Set<string>;
  /** Where the customer's messages stood before the input. */
  messages: MessagesMark;
  eventAnchors: Map<string, Instant>;
  firedPlans: Set<string>;
}

/** Per-customer processing state for one batch. */
class CustomerRun {
  readonly #project: RuntimeProject;
  readonly #work: CustomerWork;
  readonly #now: Instant;
  readonly #ids: IdSource;
  readonly #out: WorkResult;
  readonly #elapsed: () => number;
  #customer: CustomerRecord | null;
  #deleted = false;
  #customerChanged = false;
  /** Enrollments by id: active ones and the latest ended one per journey, updated as inputs apply. */
  #enrollments: Map<string, EnrollmentRecord>;
  #changedEnrollments = new Set<string>();
  #triggerStates: Record<string, boolean>;
  #changedTriggerStates = new Set<string>();
  /** Schedule plans by trigger name, as they stand after the inputs applied so far. */
  #plans: Map<string, SchedulePlanRecord>;
  #changedPlans = new Set<string>();
  /** Time of the latest event of each `after_event` schedule trigger seen in this batch. */
  #eventAnchors = new Map<string, Instant>();
  /** Cron schedule triggers whose timer fired in this batch (to be rescheduled). */
  #firedPlans = new Set<string>();
  /** The event or timer being applied, and how many keyed effects it produced so far. */
  /** The customer's messages: the gate, the contact ledger, feedback. */
  readonly #messages: CustomerMessages;
  #inputKey = '';
  /** The event being applied (null for a timer): what action templates render against. */
  #currentEvent: StoredEvent | null = null;
  #inputEffects = 0;
  #viewCache: {
    profile: CustomerRecord | null;
    active: string[];
    view: Record<string, unknown>;
  } | null = null;
  #eventCache: { event: StoredEvent; view: Record<string, unknown> } | null = null;

  constructor(
    project: RuntimeProject,
    work: CustomerWork,
    now: Instant,
    ids: IdSource,
    out: WorkResult,
    settings: Settings,
  ) {
    this.#project = project;
    this.#work = work;
    this.#now = now;
    this.#ids = ids;
    this.#out = out;
    this.#elapsed = settings.elapsed;
    this.#customer = work.customer;
    this.#enrollments = new Map(work.enrollments.map((e) => [e.id, e]));
    this.#triggerStates = { ...work.triggerStates };
    this.#plans = new Map(work.schedulePlans.map((p) => [p.triggerName, p]));
    this.#messages = new CustomerMessages(
      {
        project,
        now,
        ids,
        out,
        storeDeliveredChannels: settings.storeDeliveredChannels,
        customer: () => this.#customer,
        setAttributes: (attributes) => {
          if (this.#customer === null) return;
          this.#customer = { ...this.#customer, attributes, updatedAt: this.#now };
          this.#customerChanged = true;
        },
        messageEvent: (type, message, extra) => {
          this.#messageEvent(type, message, extra);
        },
        createTask: (task) => this.#createTask(task),
      },
      work.contacts,
    );
  }

  run(): void {
    for (const input of orderedInputs(this.#work)) {
      const snapshot = this.#snapshot();
      try {
        this.#inputKey = input.kind === 'event' ? input.event.id : input.timer.id;
        this.#currentEvent = input.kind === 'event' ? input.event : null;
        this.#inputEffects = 0;
        if (input.kind === 'event') {
          this.#onEvent(input.event);
          this.#messages.flush();
          this.#out.processedEventSeqs.push(input.event.seq);
        } else {
          this.#onTimer(input.timer);
          this.#messages.flush();
          this.#out.firedTimerIds.push(input.timer.id);
        }
      } catch (error) {
        this.#restore(snapshot);
        const reason = error instanceof Error ? error.message : String(error);
        if (input.kind === 'event') {
          this.#out.failedEvents.push({ seq: input.event.seq, error: reason });
        } else {
          // A timer whose handling fails is still consumed: firing it again would fail again.
          this.#out.firedTimerIds.push(input.timer.id);
          this.#decision('timer_failed', input.timer.id, { error: reason });
        }
      }
    }
    this.#planSchedules();
    this.#flush();
  }

  // ---- inputs ------------------------------------------------------------------------------

  #onEvent(event: StoredEvent): void {
    if (event.type.startsWith(COMMAND_EVENT_PREFIX)) {
      this.#onCommand(event);
      return;
    }
    const zoneBefore = this.#customer?.attributes['timezone'];
    const profileChanged = this.#applyProfileChange(event);
    if (this.#deleted) return;
    if (profileChanged) this.#checkTimeZone(zoneBefore);
    for (const trigger of this.#project.scheduleTriggers.values()) {
      if (trigger.timing.kind === 'after_event' && trigger.timing.eventType === event.type) {
        this.#eventAnchors.set(trigger.name, event.occurredAt);
      }
    }
    const journeyEvent = toJourneyEvent(event);
    for (const enrollment of this.#activeEnrollments()) {
      this.#advance(enrollment, { kind: 'event', event: journeyEvent });
      if (profileChanged) this.#advanceById(enrollment.id, { kind: 'profile_changed' });
    }
    const context = this.#context(event);
    this.#fireEventTriggers(event, context);
    if (profileChanged) {
      this.#fireConditionTriggers(event);
      this.#firePredictionTriggers(event);
      this.#resetBatchTriggers();
    }
    this.#enrollByEntryEvent(event, journeyEvent);
    this.#runRules(event);
  }

  #onTimer(timer: TimerRecord): void {
    if (this.#deleted || this.#customer === null) return;
    if (timer.kind === 'schedule') {
      this.#fireSchedule(timer);
      return;
    }
    if (timer.kind === 'delayed_action') {
      const action = timer.payload['action'] as unknown as ResolvedAction | undefined;
      if (action) this.#runAction(action, { source: 'delayed_action', name: timer.id }, null);
      return;
    }
    if (timer.enrollmentId === null) return;
    const enrollment = this.#enrollments.get(timer.enrollmentId);
    if (!enrollment) return;
    this.#advance(enrollment, { kind: 'timer', timer });
  }

  /** API commands travel through the event log so they keep per-customer order. */
  #onCommand(event: StoredEvent): void {
    const journeyId = stringField(event.payload, 'journey_id');
    switch (event.type) {
      case 'waymark.enroll': {
        this.#ensureCustomer(event);
        // With entry properties the command itself is the entering event (`event.properties.x`).
        const properties = event.payload['properties'];
        const entering =
          typeof properties === 'object' && properties !== null && !Array.isArray(properties)
            ? {
                ...toJourneyEvent(event),
                type: stringField(event.payload, 'entry_type') ?? event.type,
              }
            : null;
        const result = this.#enroll(
          journeyId ?? '',
          entering === null ? { source: 'api' } : { source: 'api', event: entering },
          undefined,
        );
        // Keyed by the command's event id, so the API can answer with this exact outcome.
        this.#decision('api_enroll', event.id, { journey_id: journeyId, result });
        return;
      }
      case 'waymark.exit': {
        const reason = stringField(event.payload, 'reason') ?? 'removed_by_api';
        for (const e of this.#activeEnrollments()) {
          if (e.journeyId === journeyId) this.#advance(e, { kind: 'exit', reason });
        }
        return;
      }
      case 'waymark.advance': {
        const stage = stringField(event.payload, 'stage') ?? undefined;
        for (const e of this.#activeEnrollments()) {
          if (e.journeyId === journeyId) this.#advance(e, { kind: 'advance_stage', stage });
        }
        return;
      }
      case 'waymark.batch_trigger': {
        // The batch run evaluated the trigger over every customer; here, in this customer's order,
        // the result is applied: fire on false → true, remember the value either way.
        const trigger = this.#project.batchTriggers.get(
          stringField(event.payload, 'trigger') ?? '',
        );
        if (!trigger || this.#customer === null) return;
        const started = this.#elapsed();
        const context = this.#context(null);
        const value = trigger.matches === null || trigger.matches(context);
        const previous = this.#triggerStates[trigger.name] ?? false;
        if (value !== previous) {
          this.#triggerStates[trigger.name] = value;
          this.#changedTriggerStates.add(trigger.name);
        }
        const fired = value && !previous;
        this.#recordTrigger(trigger, event, fired, started);
        if (fired) this.#runTriggerActions(trigger, context, event);
        return;
      }
      case PREDICTION_COMMAND:
        this.#onRemotePrediction(event);
        return;
      case FALLBACK_COMMAND: {
        // The dispatcher gave up on a channel; the fallback is queued here, in the customer's
        // order, so consent, address and quiet hours are checked again for the new channel.
        if (this.#customer === null) return;
        const failed = event.payload['message'] as unknown as MessageRecord | undefined;
        const to = stringField(event.payload, 'to_channel');
        if (failed === undefined || to === null) return;
        const tried = stringList(event.payload['tried']);
        const { template, variant, route } = event.payload;
        this.#messages.sendOn(
          to,
          failed,
          {
            template: template ?? null,
            variant: variant ?? null,
            ...(route === undefined ? {} : { route }),
          },
          tried,
          stringField(event.payload, 'reason') ?? 'delivery_failed',
        );
        return;
      }
      case FEEDBACK_COMMAND:
        this.#messages.applyFeedback(event);
        return;
      case DEAD_LETTER_RETRY_COMMAND: {
        // Someone retried a dead letter (after fixing the data, perhaps): the message is queued
        // again on its own channel under the id the API chose, with addresses read afresh.
        if (this.#customer === null) return;
        const original = event.payload['original'] as JsonObject | undefined;
        const dead = original?.['message'] as unknown as MessageRecord | undefined;
        const id = stringField(event.payload, 'message_id');
        if (original === undefined || dead === undefined || id === null) return;
        const retry: MessageRecord = {
          ...dead,
          id,
          status: 'queued',
          idempotencyKey: `${dead.idempotencyKey}#${id}`,
          createdAt: this.#now,
          sentAt: null,
          updatedAt: this.#now,
          error: null,
          attempts: 0,
          provider: null,
          providerMessageId: null,
        };
        this.#messageEvent('message.retried', retry, {
          dead_letter_id: stringField(event.payload, 'dead_letter_id'),
          original_message_id: dead.id,
        });
        this.#messages.queue(retry, {
          template: original['template'] ?? null,
          variant: original['variant'] ?? null,
          message: retry as unknown as JsonObject,
        });
        return;
      }
      case 'waymark.migrate': {
        const version = event.payload['version'];
        const journey = this.#project.journeys.get(journeyId ?? '');
        const target =
          typeof version === 'number' ? journey?.versions.get(version) : journey?.current;
        if (!target)
          throw new Error(`journey '${journeyId ?? ''}' has no version ${JSON.stringify(version)}`);
        for (const e of this.#activeEnrollments()) {
          if (e.journeyId === journeyId) this.#advance(e, { kind: 'migrate', toJourney: target });
        }
        return;
      }
      default:
        throw new Error(`unknown command '${event.type}'`);
    }
  }

  // ---- profile -----------------------------------------------------------------------------

  /** Applies customer.* events; creates a bare profile for an unknown customer's first event. */
  #applyProfileChange(event: StoredEvent): boolean {
    switch (event.type) {
      case 'customer.deleted': {
        for (const e of this.#activeEnrollments()) {
          this.#advance(e, { kind: 'exit', reason: 'customer_deleted' });
        }
        this.#customer = null;
        this.#deleted = true;
        this.#customerChanged = true;
        return true;
      }
      case 'customer.created':
      case 'customer.updated': {
        const patch = {
          ...objectField(event.payload, 'properties'),
          ...objectField(event.payload, 'attributes'),
          ...objectField(event.payload, 'changes'),
        };
        const existing = this.#customer;
        this.#deleted = false;
        this.#customer = {
          id: event.customerId,
          attributes: { ...(existing?.attributes ?? {}), ...patch },
          createdAt: existing?.createdAt ?? this.#now,
          updatedAt: this.#now,
        };
        this.#customerChanged = true;
        return true;
      }
      default:
        this.#ensureCustomer(event);
        return this.#recordActivity(event);
    }
  }

  /**
   * `schedule_message` goes at the moment a timestamp prediction picks (the spec's
   * `optimal_send_time`, answered by the send-time optimizer within a day); without one it goes
   * now, like `send_message`.
   */
  #scheduledSendTime(params: Readonly<Record<string, unknown>>): JsonObject | null {
    const predictions = this.#project.sendTimePredictions;
    const named = stringValue(params['prediction']);
    const name = named ?? predictions.forScheduleMessage;
    if (name === null || !predictions.names.has(name)) return null;
    return { mode: 'optimal', within_ms: DEFAULT_SEND_TIME_WINDOW_MS, prediction: name };
  }

  /**
   * A behavioural event bumps the profile's activity counters (`defaults.activity`): the profile
   * changed, so condition and prediction triggers see the new counts. Off by default: it costs a
   * profile write per event.
   */
  #recordActivity(event: StoredEvent): boolean {
    const tracked = this.#project.activity;
    // Profile events describe the customer rather than what they did.
    if (tracked === null || this.#customer === null || event.type.startsWith('customer.')) {
      return false;
    }
    const attributes = { ...this.#customer.attributes };
    attributes['activity'] = toJsonValue(
      recordActivity(attributes['activity'], event.type, event.occurredAt, tracked),
    );
    this.#customer = { ...this.#customer, attributes, updatedAt: this.#now };
    this.#customerChanged = true;
    return true;
  }

  #ensureCustomer(event: StoredEvent): void {
    if (this.#customer !== null) return;
    this.#deleted = false;
    this.#customer = {
      id: event.customerId,
      attributes: {},
      createdAt: this.#now,
      updatedAt: this.#now,
    };
    this.#customerChanged = true;
  }

  // ---- triggers and rules ------------------------------------------------------------------

  #context(event: StoredEvent | null, enrollment?: EnrollmentRecord): RuleContext {
    return {
      customerId: this.#work.customerId,
      customer: this.#customerView(),
      event: event ? this.#eventView(event) : undefined,
      journey: enrollment ? journeyContext(enrollment) : undefined,
    };
  }

  /**
   * The customer as conditions see it: the profile plus `id` and `journey_active` (ids of the
   * journeys the customer is in). Rebuilt only when the profile or an enrollment changed.
   */
  #customerView(): Record<string, unknown> {
    const profile = this.#customer;
    const active = this.#activeEnrollments().map((e) => e.journeyId);
    const cached = this.#viewCache;
    if (
      cached?.profile === profile &&
      cached.active.length === active.length &&
      cached.active.every((id, i) => id === active[i])
    ) {
      return cached.view;
    }
    const view = copyFields({}, profile?.attributes ?? {});
    view['id'] = this.#work.customerId;
    view['journey_active'] = active;
    this.#viewCache = { profile, active, view };
    return view;
  }

  #eventView(event: StoredEvent): Record<string, unknown> {
    if (this.#eventCache?.event !== event) this.#eventCache = { event, view: eventView(event) };
    return this.#eventCache.view;
  }

  #fireEventTriggers(event: StoredEvent, context: ConditionContext): void {
    for (const trigger of this.#project.eventTriggers.get(event.type) ?? []) {
      const started = this.#elapsed();
      const fired = trigger.matches === null || trigger.matches(context);
      this.#recordTrigger(trigger, event, fired, started);
      if (fired) this.#runTriggerActions(trigger, context, event);
    }
  }

  /** Condition triggers fire when their conditions become true (false → true), not while they stay true. */
  #fireConditionTriggers(event: StoredEvent): void {
    const context = this.#context(event);
    for (const trigger of this.#project.conditionTriggers) {
      const started = this.#elapsed();
      const value = trigger.matches === null || trigger.matches(context);
      const previous = this.#triggerStates[trigger.name] ?? false;
      const fired = value && !previous;
      if (value !== previous) {
        this.#triggerStates[trigger.name] = value;
        this.#changedTriggerStates.add(trigger.name);
      }
      this.#recordTrigger(trigger, event, fired, started);
      if (fired) this.#runTriggerActions(trigger, context, event);
    }
  }

  /**
   * AI-powered triggers: the model scores the changed profile (once per model, however many
   * triggers share it) and a trigger fires when the probability crosses its threshold upward. A
   * firing is recorded as the spec's `AIPrediction` (decision kind `prediction`) with the factors
   * behind the score, then its actions run. A trigger whose model is not registered yet idles.
   */
  #firePredictionTriggers(event: StoredEvent): void {
    const triggers = this.#project.predictionTriggers;
    if (triggers.length === 0 || this.#customer === null) return;
    const scores = new Map<PredictionModel, PredictionScore>();
    const remote = new Set<string>();
    for (const trigger of triggers) {
      if (trigger.remote) {
        remote.add(trigger.modelName);
        continue;
      }
      const model = trigger.model;
      if (model === null) continue;
      const started = this.#elapsed();
      let score = scores.get(model);
      if (score === undefined) {
        score = model.score(this.#customer.attributes, this.#now);
        scores.set(model, score);
      }
      this.#applyPrediction(trigger, score, `${model.name}@${model.version}`, event, started);
    }
    // A model behind your own endpoint is asked after the commit (see `RemoteModels`); its answer
    // comes back as a `waymark.prediction` command, applied in this customer's order.
    for (const model of remote) {
      this.#out.outbox.push(
        outboxEntry(
          'model_request',
          `model:${model}:${this.#work.customerId}:${event.id}`,
          { model, customer_id: this.#work.customerId, event_id: event.id },
          this.#now,
        ),
      );
    }
  }

  /** A remote model's answer (`waymark.prediction`): its triggers see the score like a local one. */
  #onRemotePrediction(event: StoredEvent): void {
    if (this.#customer === null) return;
    const model = stringField(event.payload, 'model');
    const probability = event.payload['probability'];
    if (model === null || typeof probability !== 'number') return;
    const list = (key: string): string[] => {
      const value = event.payload[key];
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    };
    const score: PredictionScore = {
      probability,
      score: Math.round(probability * 100),
      factors: list('factors'),
      notes: list('notes'),
    };
    const label = stringField(event.payload, 'source') ?? model;
    for (const trigger of this.#project.predictionTriggers) {
      if (trigger.remote && trigger.modelName === model) {
        this.#applyPrediction(trigger, score, label, event, this.#elapsed());
      }
    }
  }

  /** Fires `trigger` when `score` crosses its threshold upward, recording the `AIPrediction`. */
  #applyPrediction(
    trigger: PredictionTrigger,
    score: PredictionScore,
    modelLabel: string,
    event: StoredEvent,
    started: number,
  ): void {
    const value = score.probability >= trigger.threshold;
    const previous = this.#triggerStates[trigger.name] ?? false;
    if (value !== previous) {
      this.#triggerStates[trigger.name] = value;
      this.#changedTriggerStates.add(trigger.name);
    }
    const fired = value && !previous;
    this.#recordTrigger(trigger, event, fired, started);
    if (!fired) return;
    this.#decision('prediction', trigger.prediction, {
      model: modelLabel,
      customer_id: this.#work.customerId,
      prediction: {
        action: trigger.actionName,
        confidence: score.probability,
        timing: new Date(this.#now).toISOString(),
        reasoning: [
          `${trigger.prediction} ${score.score}/100 reached the threshold ${trigger.threshold}`,
          ...score.factors,
          ...score.notes,
        ],
      },
      trigger: trigger.name,
      score: score.score,
      threshold: trigger.threshold,
    });
    this.#runTriggerActions(
      trigger,
      this.#context(event),
      event,
      { prediction: trigger.prediction, score: score.score },
      `${trigger.prediction} ${score.score}/100 (threshold ${trigger.threshold})` +
        (score.factors.length === 0 ? '' : `: ${score.factors.join('; ')}`),
    );
  }

  /**
   * Batch triggers fire only from their batch run, but a profile change that makes one false is
   * remembered now, so the next batch run that finds it true again fires it (the false→true edge).
   */
  #resetBatchTriggers(): void {
    if (this.#project.batchTriggers.size === 0) return;
    const context = this.#context(null);
    for (const trigger of this.#project.batchTriggers.values()) {
      if (this.#triggerStates[trigger.name] !== true) continue;
      if (trigger.matches === null || trigger.matches(context)) continue;
      this.#triggerStates[trigger.name] = false;
      this.#changedTriggerStates.add(trigger.name);
    }
  }

  #recordTrigger(
    trigger: Pick<RuntimeTrigger, 'name'>,
    event: StoredEvent | null,
    fired: boolean,
    started: number,
  ): void {
    this.#out.triggerExecutions.push({
      triggerName: trigger.name,
      customerId: this.#work.customerId,
      eventSeq: event?.seq ?? null,
      executedAt: this.#now,
      processingTimeMs: Math.max(0, this.#elapsed() - started),
      fired,
    });
  }

  #runTriggerActions(
    trigger: Pick<RuntimeTrigger, 'name' | 'actions'>,
    context: ConditionContext,
    event: StoredEvent | null,
    why: JsonObject = {},
    summary?: string,
  ): void {
    this.#decision('trigger_fired', trigger.name, {
      trigger: trigger.name,
      event_type: event?.type ?? null,
      ...why,
    });
    const cause = { source: 'trigger', name: trigger.name, ...(summary ? { summary } : {}) };
    for (const action of trigger.actions) {
      this.#runAction(action.resolve(context, this.#now), cause, null);
    }
  }

  /**
   * A `timezone` the runtime does not know is reported once when it is set (a decision the
   * customer's explanation shows), and the default zone is used meanwhile: never a crash, never a
   * silent guess.
   */
  #checkTimeZone(before: unknown): void {
    const zone = this.#customer?.attributes['timezone'];
    if (zone === undefined || zone === null || zone === before) return;
    if (typeof zone === 'string' && isValidTimeZone(zone)) return;
    this.#decision('invalid_timezone', this.#work.customerId, {
      value: toJsonValue(zone),
      used: this.#project.defaultZone,
    });
  }

  // ---- schedules ---------------------------------------------------------------------------

  /**
   * A schedule timer came due. It fires only if it is still the plan's timer (a moved anchor or a
   * changed zone replaced it; a replaced timer is cancelled, but one already claimed may still
   * arrive). After downtime it fires once however many fires were missed, or is skipped when
   * later than the grace under `misfire: skip`; either way the next fire is planned from now.
   */
  #fireSchedule(timer: TimerRecord): void {
    const name = typeof timer.payload['trigger'] === 'string' ? timer.payload['trigger'] : '';
    const trigger = this.#project.scheduleTriggers.get(name);
    const plan = this.#plans.get(name);
    if (trigger === undefined || plan?.timerId !== timer.id) return;
    // A cron plan keeps its timer to reuse it for the next fire; an anchored plan is done with it
    // and remembers the anchor it fired for.
    if (trigger.timing.kind === 'cron') this.#firedPlans.add(name);
    else this.#setPlan({ ...plan, timerId: null, firedAnchor: plan.anchor });
    const lateMs = this.#now - timer.dueAt;
    const why = {
      schedule: trigger.scheduleName,
      due_at: new Date(timer.dueAt).toISOString(),
      late_ms: lateMs,
      anchor: plan.anchor,
    };
    if (trigger.misfire === 'skip' && lateMs > (trigger.misfireGraceMs ?? 60_000)) {
      this.#decision('schedule_missed', trigger.name, { ...why, misfire: 'skip' });
      return;
    }
    const started = this.#elapsed();
    const context = this.#context(null);
    if (trigger.rule !== undefined) {
      this.#runTimedRule(trigger, trigger.rule, context, started, why);
      return;
    }
    const fired = trigger.matches === null || trigger.matches(context);
    this.#recordTrigger(trigger, null, fired, started);
    if (fired) this.#runTriggerActions(trigger, context, null, why);
  }

  /**
   * A rule run on its schedule for this customer: conditions, exceptions and limits are checked
   * as on an event (with no event), explained in the decision log, and its actions run.
   */
  #runTimedRule(
    trigger: ScheduleTrigger,
    rules: RuleSet,
    context: RuleContext,
    started: number,
    why: Record<string, unknown>,
  ): void {
    const [result] = rules.evaluate([context], { now: this.#now, explain: 'fired' });
    const fired = result?.fired ?? [];
    this.#recordTrigger(trigger, null, fired.length > 0, started);
    // Like rules on events: customers whose conditions simply do not hold leave no decision.
    if (result === undefined || (fired.length === 0 && result.skipped.length === 0)) return;
    this.#decision('rules', trigger.name, {
      ...why,
      fired: firedRules(fired),
      skipped: result.skipped,
    });
    for (const rule of fired) {
      this.#out.ruleFires.push({
        ruleId: rule.ruleId,
        customerId: this.#work.customerId,
        firedAt: this.#now,
      });
      for (const action of rule.actions) {
        this.#runAction(action, { source: 'rule', name: rule.ruleId }, null);
      }
    }
  }

  /** Brings every schedule plan of the customer up to date with its profile (see schedule-plans). */
  #planSchedules(): void {
    if (this.#project.scheduleTriggers.size === 0) return;
    const customer = this.#customer;
    if (this.#deleted || customer === null) {
      // A deleted profile keeps no pending fires.
      for (const plan of this.#plans.values()) {
        if (plan.timerId === null) continue;
        this.#out.timerIdsToCancel.push(plan.timerId);
        this.#setPlan({ ...plan, timerId: null });
      }
      return;
    }
    for (const trigger of this.#project.scheduleTriggers.values()) {
      const change = planSchedule(
        trigger,
        customer,
        this.#plans.get(trigger.name) ?? null,
        this.#now,
        this.#ids,
        this.#project.defaultZone,
        this.#eventAnchors.get(trigger.name) ?? null,
        this.#firedPlans.has(trigger.name),
      );
      if (change === null) continue;
      if (change.cancelTimerId !== null) this.#out.timerIdsToCancel.push(change.cancelTimerId);
      if (change.timer !== null && change.reschedule) {
        const { id, dueAt, payload } = change.timer;
        this.#out.timersToReschedule.push({ id, dueAt, payload });
      } else if (change.timer !== null) {
        this.#out.timersToAdd.push(change.timer);
      }
      // A rescheduled cron timer leaves the plan row as it was: no write.
      if (!samePlan(this.#plans.get(trigger.name), change.plan)) this.#setPlan(change.plan);
      if (change.note === 'missed' || change.note === 'invalid_anchor') {
        this.#decision(`schedule_${change.note}`, trigger.name, {
          schedule: trigger.scheduleName,
          anchor: change.plan.anchor,
        });
      }
    }
  }

  #setPlan(plan: SchedulePlanRecord): void {
    this.#plans.set(plan.triggerName, plan);
    this.#changedPlans.add(plan.triggerName);
  }

  #enrollByEntryEvent(event: StoredEvent, journeyEvent: JourneyInputEvent): void {
    for (const journeyId of this.#project.entryEvents.get(event.type) ?? []) {
      this.#enroll(
        journeyId,
        { source: 'event', name: event.type, event: journeyEvent },
        undefined,
      );
    }
  }

  #runRules(event: StoredEvent): void {
    const customerContext = this.#context(event);
    const [evaluation] = this.#project.customerRules.evaluate([customerContext], {
      now: this.#now,
      explain: 'fired',
    });
    const journeyContexts = this.#activeEnrollments().map((e) => ({
      enrollment: e,
      context: this.#context(event, e),
    }));
    const journeyEvaluations =
      journeyContexts.length === 0
        ? []
        : this.#project.journeyRules.evaluate(
            journeyContexts.map((j) => j.context),
            { now: this.#now, explain: 'fired' },
          );
    const runs = [
      ...(evaluation ? [{ evaluation, enrollment: null }] : []),
      ...journeyEvaluations.map((evaluation, i) => ({
        evaluation,
        enrollment: journeyContexts[i]?.enrollment ?? null,
      })),
    ];
    for (const { evaluation: result, enrollment } of runs) {
      if (result.fired.length === 0 && result.skipped.length === 0) continue;
      this.#decision('rules', event.type, {
        event_seq: event.seq,
        enrollment_id: enrollment?.id ?? null,
        fired: firedRules(result.fired),
        skipped: result.skipped,
      });
      for (const fired of result.fired) {
        this.#out.ruleFires.push({
          ruleId: fired.ruleId,
          customerId: this.#work.customerId,
          firedAt: this.#now,
        });
        for (const action of fired.actions) {
          this.#runAction(action, { source: 'rule', name: fired.ruleId }, enrollment);
        }
      }
    }
  }

  // ---- actions -----------------------------------------------------------------------------

  /** Runs one resolved action now, or stores it as a timer when it is delayed. */
  #runAction(
    action: ResolvedAction,
    /** What ran it; `summary` (a prediction's score and reasons) becomes a default alert text. */
    cause: { source: string; name: string; summary?: string },
    enrollment: EnrollmentRecord | null,
  ): void {
    if (action.runAt > this.#now) {
      this.#out.timersToAdd.push({
        id: this.#ids.next('tmr'),
        customerId: this.#work.customerId,
        enrollmentId: enrollment?.id ?? null,
        kind: 'delayed_action',
        dueAt: action.runAt,
        payload: {
          action: toJsonValue({ ...action, runAt: action.runAt }),
          cause: toJsonValue(cause),
        },
        status: 'pending',
      });
      return;
    }
    const params = action.params;
    const customerId = this.#work.customerId;
    switch (action.type) {
      case 'enroll_journey': {
        const journeyId = stringValue(params['journey_id']) ?? '';
        // The event the rule fired on enrols, as an `entry.event` would (none for a delayed action).
        const event = this.#currentEvent;
        const trigger =
          event === null
            ? cause
            : { source: cause.source, name: cause.name, event: toJourneyEvent(event) };
        this.#enroll(journeyId, trigger, stringValue(params['stage']));
        return;
      }
      case 'advance_stage': {
        const journeyId = stringValue(params['journey_id']) ?? enrollment?.journeyId;
        const stage = stringValue(params['stage']);
        for (const e of this.#activeEnrollments()) {
          if (e.journeyId === journeyId) this.#advance(e, { kind: 'advance_stage', stage });
        }
        return;
      }
      case 'exit_journey': {
        const journeyId = stringValue(params['journey_id']);
        const reason = stringValue(params['reason']) ?? `${cause.source}:${cause.name}`;
        for (const e of this.#activeEnrollments()) {
          if (journeyId === undefined || e.journeyId === journeyId)
            this.#advance(e, { kind: 'exit', reason });
        }
        return;
      }
      case 'create_alert':
      case 'escalate_to_csm': {
        const escalate = action.type === 'escalate_to_csm';
        const assignee =
          stringValue(params['assignee']) ??
          (escalate ? stringValue(this.#customer?.attributes['csm_id']) : undefined) ??
          null;
        const alert: AlertRecord = {
          id: this.#ids.next('alr'),
          customerId,
          journeyId: enrollment?.journeyId ?? null,
          severity: stringValue(params['severity']) ?? (escalate ? 'high' : 'medium'),
          message:
            stringValue(params['message']) ??
            stringValue(params['reason']) ??
            stringValue(params['title']) ??
            cause.summary ??
            `${cause.source} ${cause.name} fired`,
          assignee,
          status: 'open',
          createdAt: this.#now,
          data: toJsonValue({ cause, params, missing: action.missing }) as JsonObject,
        };
        this.#out.alerts.push(alert);
        this.#journeyEvent('alert.created', enrollment?.journeyId ?? '', {
          alert_id: alert.id,
          severity: alert.severity,
          assignee,
          cause: cause.name,
        });
        if (escalate) {
          this.#createTask({
            title: `Escalation: ${alert.message}`,
            assignee,
            dueAt: null,
            journeyId: enrollment?.journeyId ?? null,
            data: { alert_id: alert.id, cause: toJsonValue(cause) },
          });
        }
        return;
      }
      case 'create_task': {
        const due = params['due'] as { ms?: number } | undefined;
        this.#createTask({
          title: stringValue(params['title']) ?? cause.name,
          assignee: stringValue(params['assignee']) ?? null,
          dueAt: typeof due?.ms === 'number' ? this.#now + due.ms : null,
          journeyId: enrollment?.journeyId ?? null,
          data: toJsonValue({
            cause,
            description: params['description'] ?? null,
            priority: params['priority'] ?? null,
          }) as JsonObject,
        });
        return;
      }
      case 'send_message':
      case 'schedule_message': {
        const channel = stringValue(params['channel']) ?? 'email';
        const template = stringValue(params['template']) ?? null;
        const rendered = this.#renderTemplate(template, enrollment);
        const given = (params['content'] ?? {}) as JsonObject;
        // Without the template library (an unknown name) the name travels with the message.
        const content = rendered?.content ?? (template === null ? given : { ...given, template });
        const key = this.#effectKey(cause, action.type);
        const message = {
          id: this.#ids.next('msg'),
          customerId,
          journeyId: enrollment?.journeyId ?? null,
          enrollmentId: enrollment?.id ?? null,
          stepId: null,
          channel,
          priority: (stringValue(params['priority']) ?? 'normal') as 'normal',
          status: 'queued' as const,
          content,
          idempotencyKey: key,
          createdAt: this.#now,
          sentAt: null,
          updatedAt: this.#now,
          error: null,
        };
        const sendTime =
          action.type === 'schedule_message'
            ? this.#scheduledSendTime(params)
            : optimalSendTime(params['send_time']);
        this.#messages.queue(message, {
          message,
          template,
          variant: rendered?.variant ?? null,
          urgency: stringValue(params['urgency']) ?? null,
          business_hours: params['business_hours'] === true,
          ...(sendTime === null ? {} : { send_time: sendTime }),
        });
        return;
      }
      case 'update_customer': {
        if (this.#customer === null) return;
        const set = (params['set'] ?? {}) as JsonObject;
        const unset = Array.isArray(params['unset']) ? (params['unset'] as string[]) : [];
        const removed = new Set(unset.map((field) => field.replace(/^customer\./, '')));
        const attributes: JsonObject = Object.fromEntries(
          Object.entries({ ...this.#customer.attributes, ...set }).filter(([k]) => !removed.has(k)),
        );
        this.#customer = { ...this.#customer, attributes, updatedAt: this.#now };
        this.#customerChanged = true;
        for (const e of this.#activeEnrollments()) this.#advance(e, { kind: 'profile_changed' });
        return;
      }
      case 'send_webhook': {
        const key = this.#effectKey(cause, 'webhook');
        this.#out.outbox.push(
          outboxEntry(
            'webhook',
            key,
            toJsonValue({ ...params, customer_id: customerId, cause }) as JsonObject,
            this.#now,
          ),
        );
        return;
      }
      default:
        throw new Error(`unknown action type '${action.type}'`);
    }
  }

  /**
   * The idempotency key of an action's message or webhook: the input that caused it (event or
   * timer id) and its place among that input's effects. Replaying the same input yields the same
   * keys; two events of one customer in one batch never share one (the instant alone did: the
   * second message was dropped as a duplicate).
   */
  #effectKey(cause: { source: string; name: string }, kind: string): string {
    this.#inputEffects += 1;
    return `${this.#inputKey}:${cause.source}:${cause.name}:${kind}:${String(this.#inputEffects)}`;
  }

  /**
   * Renders a template an action names against the current input (the event and the journey, when
   * there is one). A template with variants keeps one variant per customer, so a customer who
   * gets the message again sees the same wording. Null without a template or for an unknown one.
   */
  #renderTemplate(
    name: string | null,
    enrollment: EnrollmentRecord | null,
  ): { content: JsonObject; variant: string | null } | null {
    if (name === null) return null;
    const contents = this.#project.templates.get(name);
    if (contents === undefined) return null;
    const chosen = chooseContent(
      contents,
      unitInterval(this.#project.seed, this.#work.customerId, name, 'template'),
    );
    if (chosen === undefined) return null;
    const context = this.#context(this.#currentEvent, enrollment ?? undefined);
    return { content: chosen.render(context).value, variant: chosen.variant };
  }

  #createTask(task: {
    title: string;
    assignee: string | null;
    dueAt: Instant | null;
    journeyId: string | null;
    data: JsonObject;
  }): TaskRecord {
    const record: TaskRecord = {
      id: this.#ids.next('tsk'),
      customerId: this.#work.customerId,
      status: 'open',
      createdAt: this.#now,
      ...task,
    };
    this.#out.tasks.push(record);
    this.#journeyEvent('task.created', task.journeyId ?? '', {
      task_id: record.id,
      title: record.title,
      assignee: record.assignee,
    });
    return record;
  }

  // ---- journeys ----------------------------------------------------------------------------

  #enroll(journeyId: string, trigger: EnrollmentTrigger, stage: string | undefined): JsonObject {
    const journey = this.#project.journeys.get(journeyId);
    if (!journey) {
      this.#decision('enroll_rejected', journeyId, {
        reason: 'unknown_journey',
        cause: toJsonValue(
          trigger.event === undefined ? trigger : { ...trigger, event: trigger.event.type },
        ),
      });
      return { decision: 'rejected', reason: 'unknown_journey' };
    }
    if (this.#customer === null) return { decision: 'rejected', reason: 'no_customer' };
    const result = enroll(journey.current, this.#customer, {
      now: this.#now,
      ids: this.#ids,
      seed: this.#project.seed,
      trigger,
      previous: [...this.#enrollments.values()],
      paused: journey.paused,
    });
    if (result.decision === 'rejected') {
      this.#decision('enroll_rejected', journeyId, {
        reason: result.reason,
        details: result.details,
      });
      return { decision: 'rejected', reason: result.reason };
    }
    this.#setEnrollment(result.enrollment);
    this.#apply(result.effects, result.customerPatch);
    if (stage !== undefined && result.enrollment.status === 'active') {
      this.#advance(result.enrollment, { kind: 'advance_stage', stage });
    }
    return { decision: 'enrolled', enrollment_id: result.enrollment.id };
  }

  #advanceById(id: string, input: JourneyInput): void {
    const enrollment = this.#enrollments.get(id);
    if (enrollment?.status === 'active') this.#advance(enrollment, input);
  }

  #advance(enrollment: EnrollmentRecord, input: JourneyInput): void {
    if (this.#customer === null && input.kind !== 'exit') return;
    const journey = this.#versionOf(enrollment);
    if (!journey) return;
    const customer = this.#customer ?? { id: enrollment.customerId, attributes: {} };
    const result = advance(
      journey,
      this.#enrollments.get(enrollment.id) ?? enrollment,
      customer,
      input,
      {
        now: this.#now,
        ids: this.#ids,
        seed: this.#project.seed,
      },
    );
    if (result.ignored !== undefined) return;
    this.#setEnrollment(result.enrollment);
    this.#apply(result.effects, result.customerPatch);
  }

  #versionOf(enrollment: EnrollmentRecord): CompiledJourney | undefined {
    const journey = this.#project.journeys.get(enrollment.journeyId);
    return journey?.versions.get(enrollment.journeyVersion);
  }

  #setEnrollment(enrollment: EnrollmentRecord): void {
    this.#enrollments.set(enrollment.id, enrollment);
    this.#changedEnrollments.add(enrollment.id);
  }

  #apply(effects: readonly JourneyEffect[], patch: { attributes: JsonObject } | undefined): void {
    if (patch && this.#customer !== null) {
      this.#customer = { ...this.#customer, attributes: patch.attributes, updatedAt: this.#now };
      this.#customerChanged = true;
    }
    for (const effect of effects) {
      switch (effect.type) {
        case 'send_message':
          this.#messages.queue(effect.message, {
            // Records from the runtime are plain JSON already; no copy needed.
            message: effect.message as unknown as JsonObject,
            template: effect.template,
            variant: effect.variant,
            urgency: effect.urgency,
            business_hours: effect.businessHours,
          });
          break;
        case 'schedule_timer':
          this.#out.timersToAdd.push(effect.timer);
          break;
        case 'cancel_timer':
          this.#out.timerIdsToCancel.push(effect.timerId);
          break;
        case 'journey_event':
          this.#pushJourneyEvent(effect.event);
          break;
        case 'create_task':
          this.#out.tasks.push(effect.task);
          this.#journeyEvent('task.created', effect.task.journeyId ?? '', {
            task_id: effect.task.id,
            title: effect.task.title,
            assignee: effect.task.assignee,
          });
          break;
        case 'create_alert':
          this.#out.alerts.push(effect.alert);
          this.#journeyEvent('alert.created', effect.alert.journeyId ?? '', {
            alert_id: effect.alert.id,
            severity: effect.alert.severity,
            assignee: effect.alert.assignee,
          });
          break;
        case 'call_webhook':
          this.#out.outbox.push(
            outboxEntry(
              'webhook',
              effect.idempotencyKey,
              toJsonValue(effect.call) as JsonObject,
              this.#now,
            ),
          );
          break;
        default:
          assertNever(effect, 'journey effect');
      }
    }
  }

  // ---- output ------------------------------------------------------------------------------

  #journeyEvent(type: string, journeyId: string, data: Record<string, unknown>): void {
    this.#pushJourneyEvent({
      type,
      journeyId,
      customerId: this.#work.customerId,
      timestamp: this.#now,
      data: toJsonValue(data) as JsonObject,
    });
  }

  /** A `message.*` journey event with the fields the dispatcher's events carry too. */
  #messageEvent(type: string, message: MessageRecord, extra: JsonObject): void {
    this.#pushJourneyEvent(messageEvent(type, message, this.#now, extra));
  }

  /** Journey events are published from their own log (by cursor), so no outbox row is needed. */
  #pushJourneyEvent(event: WorkResult['journeyEvents'][number]): void {
    this.#out.journeyEvents.push(event);
  }

  #decision(
    kind: string,
    subject: string | null | undefined,
    explanation: Record<string, unknown>,
  ): void {
    this.#out.decisions.push({
      id: this.#ids.next('dec'),
      customerId: this.#work.customerId,
      kind,
      at: this.#now,
      subject: subject ?? null,
      explanation: toJsonValue(explanation) as JsonObject,
    });
  }

  #activeEnrollments(): EnrollmentRecord[] {
    const active: EnrollmentRecord[] = [];
    for (const e of this.#enrollments.values()) if (e.status === 'active') active.push(e);
    return active;
  }

  #snapshot(): Snapshot {
    return {
      mark: markOf(this.#out),
      customer: this.#customer,
      deleted: this.#deleted,
      customerChanged: this.#customerChanged,
      enrollments: new Map(this.#enrollments),
      changed: new Set(this.#changedEnrollments),
      triggerStates: { ...this.#triggerStates },
      changedTriggerStates: new Set(this.#changedTriggerStates),
      plans: new Map(this.#plans),
      messages: this.#messages.mark(),
      changedPlans: new Set(this.#changedPlans),
      eventAnchors: new Map(this.#eventAnchors),
      firedPlans: new Set(this.#firedPlans),
    };
  }

  #restore(s: Snapshot): void {
    for (const key of Object.keys(s.mark) as (keyof WorkResult)[])
      this.#out[key].length = s.mark[key];
    this.#messages.rollback(s.messages);
    this.#customer = s.customer;
    this.#deleted = s.deleted;
    this.#customerChanged = s.customerChanged;
    this.#enrollments = s.enrollments;
    this.#changedEnrollments = s.changed;
    this.#triggerStates = s.triggerStates;
    this.#changedTriggerStates = s.changedTriggerStates;
    this.#plans = s.plans;
    this.#changedPlans = s.changedPlans;
    this.#eventAnchors = s.eventAnchors;
    this.#firedPlans = s.firedPlans;
  }

  #flush(): void {
    if (this.#customerChanged) {
      if (this.#customer === null) this.#out.customerDeletes.push(this.#work.customerId);
      else this.#out.customerUpserts.push(this.#customer);
    }
    for (const id of this.#changedEnrollments) {
      const e = this.#enrollments.get(id);
      if (e) this.#out.enrollmentUpserts.push(e);
    }
    for (const name of this.#changedPlans) {
      const plan = this.#plans.get(name);
      if (plan) this.#out.schedulePlans.push(plan);
    }
    for (const name of this.#changedTriggerStates) {
      this.#out.triggerStates.push({
        triggerName: name,
        customerId: this.#work.customerId,
        value: this.#triggerStates[name] ?? false,
      });
    }
  }
}

// ---- small pure pieces ---------------------------------------------------------------------

function samePlan(a: SchedulePlanRecord | undefined, b: SchedulePlanRecord): boolean {
  return (
    a !== undefined &&
    a.timerId === b.timerId &&
    a.anchor === b.anchor &&
    a.firedAnchor === b.firedAnchor
  );
}

function outboxEntry(
  kind: WorkResult['outbox'][number]['kind'],
  key: string,
  payload: JsonObject,
  now: Instant,
): WorkResult['outbox'][number] {
  return { kind, key, payload, availableAt: now, attempts: 0, status: 'pending' };
}

function toJourneyEvent(event: StoredEvent): JourneyInputEvent {
  return {
    type: event.type,
    customerId: event.customerId,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    payload: event.payload,
    seq: event.seq,
  };
}

/**
 * The fired rules as a `rules` decision lists them; made plain JSON once, with the whole
 * explanation, by `#decision`.
 */
function firedRules(fired: readonly FiredRule[]): Record<string, unknown>[] {
  return fired.map((f) => ({
    rule_id: f.ruleId,
    priority: f.priority,
    explanation: f.explanation,
  }));
}

/**
 * A `send_message` action's `send_time` as the message gate reads it (`{mode, within_ms}`), or
 * null to send at once; the config checked its shape against the send step's.
 */
function optimalSendTime(given: unknown): JsonObject | null {
  const window = compileSendTime(given as SendTimeDefinition | undefined);
  return window === null ? null : { mode: 'optimal', within_ms: window.withinMs };
}

/** Rules see `journey.id`, `journey.current_stage` (the spec's name), `journey.status`, ... */
function journeyContext(e: EnrollmentRecord): Record<string, unknown> {
  return {
    id: e.journeyId,
    journey_id: e.journeyId,
    version: e.journeyVersion,
    current_stage: e.stage,
    stage: e.stage,
    step_id: e.stepId,
    status: e.status,
    // Formatted when read, like the event's `timestamp`.
    get enrolled_at() {
      return isoInstant(e.enrolledAt);
    },
    enrollment_id: e.id,
  };
}

function stringValue(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function objectField(payload: JsonObject, key: string): JsonObject {
  const v = payload[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
}

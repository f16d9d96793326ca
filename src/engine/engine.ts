import { randomUUID } from 'node:crypto';

import {
  eventReadsWithoutEvent,
  journeySchema,
  type JourneyDefinition as ConfigJourney,
  type LoadedConfig,
  type WaymarkConfig,
} from '../config/index.js';
import {
  InvalidInputError,
  NotFoundError,
  WaymarkError,
  emptyDeliveryOutcomes,
  randomIds,
  silentLogger,
  type AppendResult,
  type Clock,
  type EnrollmentRecord,
  type IdSource,
  type JsonObject,
  type ModelRecord,
  type Logger,
  type NewEvent,
  type Store,
  type StoreChange,
  type StoreWatch,
  type TokenBucket,
} from '../core/index.js';
import {
  BUILT_IN_PROVIDERS,
  DeliveryLanes,
  InAppInbox,
  MessageDispatcher,
  RecordingProvider,
  TrackingLinks,
  buildChannelRoute,
  resolveRetryPolicy,
  routeOver,
  type ChannelRoute,
  type DeliveryProvider,
  type RouteDependencies,
  type ProviderDefinition,
  type SecretSource,
} from '../delivery/index.js';
import { journeyHash } from '../journeys/index.js';
import { compileProject, type StoredJourneyVersions } from './compile-project.js';
import {
  OutboxDispatcher,
  type JourneyEventPublisher,
  type JourneyEventSink,
  type WebhookCaller,
} from './dispatcher.js';
import { COMMAND_EVENT_PREFIX, processBatch } from './processor.js';
import {
  globalUplift,
  journeyUplift,
  type GlobalUplift,
  type JourneyUplift,
} from './uplift-report.js';
import { LearningPersistence } from './learning-persistence.js';
import { TrainingSchedule, trainModelFromStore } from './model-training.js';
import { RemoteModels } from './remote-models.js';
import { recommendNextBestAction, type NextBestActionRequest } from './next-best-action.js';
import { loadPredictionModels, type LoadedPredictionModels } from './prediction-models.js';
import type { RuntimeProject } from './project.js';
import { RoleLease, SCHEDULER_ROLE, type ProcessRole } from './roles.js';
import { planSchedule } from './schedule-plans.js';
import { Worker, type PassResult, type WorkerOptions } from './worker.js';

/** How far back contact ledgers are read: the longest calendar window (a month) and a day. */
const CONTACT_WINDOW_MS = 32 * 86_400_000;

/** How often retention deletes expired diagnostic records. */
const PRUNE_INTERVAL_MS = 3_600_000;

/** How provider callbacks are authenticated. */
export interface FeedbackVerification {
  readonly twilioAuthTokens: readonly string[];
  readonly sendgridPublicKey: string | null;
  /** `server.public_url`: the base of the URLs Twilio signs. */
  readonly publicUrl: string | null;
}

/** How often the worker looks for newly registered model versions (engine time). */
const MODEL_REFRESH_MS = 60_000;

/** Default lease of the scheduler role, ms: the worker's default customer lease. */
const DEFAULT_LEASE_MS = 30_000;

/** What an engine is built from. Only `config`, `store` and `clock` are required. */
export interface EngineOptions {
  config: LoadedConfig;
  store: Store;
  clock: Clock;
  /** Default: time-ordered random ids. Simulation passes `sequentialIds()`. */
  ids?: IdSource;
  log?: Logger;
  /**
   * Seed of every random choice (holdouts, splits, variants). Keep it fixed for an installation:
   * changing it reshuffles who is in which group. Default `waymark`.
   */
  seed?: string;
  /**
   * How messages leave. `configured` (what `waymark serve` uses): every channel delivers through
   * its configured providers. `record` (the default: simulation, tests, development): channels
   * without an entry in `providers` record their messages in `engine.recording` instead of sending.
   */
  delivery?: 'configured' | 'record';
  /** Providers by channel name that replace the configured ones (tests, embedding applications). */
  providers?: ReadonlyMap<string, DeliveryProvider>;
  /** Provider kinds by name; default the built-in ones (smtp, sendgrid, twilio, fcm, webhook). */
  providerKinds?: ReadonlyMap<string, ProviderDefinition<unknown>>;
  /** Where providers' `*_env` secrets are looked up. Default: none (every secret missing). */
  secrets?: SecretSource;
  /** The HTTP client of HTTP providers. Default the global `fetch`. */
  fetch?: typeof fetch;
  /**
   * Engagement tracking for e-mail (open pixel, click redirects, one-click unsubscribe), with links
   * on `baseUrl` signed by `secret`. Default: none.
   */
  tracking?: { baseUrl: string; secret: string } | undefined;
  /**
   * How provider callbacks are authenticated: Twilio auth tokens (any of them may have signed), the
   * SendGrid Event Webhook's public key, and the public address callbacks are made to (Twilio signs
   * the URL it called). Unset parts are not checked.
   */
  feedbackVerification?: FeedbackVerification | undefined;
  /** Receivers of committed journey events. */
  sinks?: JourneyEventSink[];
  /** Publishers of the journey event log with their own cursors (e.g. configured webhooks). */
  publishers?: readonly JourneyEventPublisher[];
  /** Performs webhook effects; default: POST JSON with `fetch` and a 10 s timeout. */
  callWebhook?: WebhookCaller;
  worker?: WorkerOptions;
  /**
   * Whether what the bandits learned across customers is kept in the model registry
   * (`engagement_learning`): restored at open, saved every 15 minutes of engine time and at
   * `close` (see `learning-persistence.ts`). Default true; simulation turns it off, its store being
   * thrown away.
   */
  persistLearning?: boolean;
}

/** What `Engine.putJourney` stored, and what `waymark validate` would warn about in it. */
export interface SavedJourney {
  version: number;
  /** False when the definition was unchanged (the current version stays). */
  created: boolean;
  /** Located like the problems of a 400 (`stages.0.steps.2`); the definition was stored anyway. */
  warnings: { path: string; message: string }[];
}

/** What `Engine.enroll` did: enrolled (with the enrollment) or rejected (with the reason). */
export interface EnrollOutcome {
  decision: 'enrolled' | 'rejected';
  /** Why not, when rejected. */
  reason: string | null;
  /** The new enrollment, or the one already active (for `already_enrolled`), or null. */
  enrollment: EnrollmentRecord | null;
}

/** Options of `Engine.enroll`. */
export interface EnrollCommandOptions {
  /**
   * Properties of the enrollment (Braze's canvas entry properties): the journey's first steps read
   * them as `event.properties.x`, every step as `journey.entry_event.properties.x`; the entering
   * event's type is `entryEventType`.
   */
  readonly entryProperties?: JsonObject | undefined;
  /**
   * The type of that entering event (default `waymark.enroll`); a journey test uses the journey's
   * `entry.event`, so the journey sees what its real entering event would show.
   */
  readonly entryEventType?: string | undefined;
}

/** A prediction's live score of one customer (`GET /v1/customers/{id}/predictions`). */
export interface CustomerPredictionScore {
  prediction: string;
  /** `name@version`, or null when the model is not registered. */
  model: string | null;
  probability: number | null;
  score: number | null;
  threshold: number | null;
  aboveThreshold: boolean | null;
  factors: string[];
  notes: string[];
}

/** Per-journey metrics (`GET /journeys/{id}/metrics`). */
export interface JourneyMetrics {
  journey_id: string;
  version: number;
  status: 'active' | 'paused';
  enrollments: { active: number; completed: number; exited: number; total: number };
  active_by_stage: Record<string, number>;
  completion_rate: number | null;
}

/**
 * The engine: one library under every deployable (`serve`, `worker`, `simulate`, the journey test
 * endpoint). It owns the compiled project, the worker and the outbox dispatcher; the store holds
 * all state, so an engine can be closed and reopened (or run in several processes) without losing
 * anything.
 */
export class Engine {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly log: Logger;
  readonly seed: string;
  readonly worker: Worker;
  readonly dispatcher: OutboxDispatcher;
  /** Sends messages, by channel lane. */
  readonly messages: MessageDispatcher;
  /** Messages kept instead of sent (channels without a real provider in `record` mode). */
  readonly recording = new RecordingProvider();
  /** Models behind HTTP endpoints (`models.<name>.endpoint`) and their circuits. */
  readonly remoteModels: RemoteModels;
  /** Each channel's providers and their health. */
  readonly routes: ReadonlyMap<string, ChannelRoute>;
  /** Signs and checks tracking links; null when tracking is off. */
  readonly tracking: TrackingLinks | null;
  /** How provider callbacks are authenticated (see `EngineOptions.feedbackVerification`). */
  readonly feedbackVerification: FeedbackVerification;
  readonly #lanes: DeliveryLanes;
  /** Channels the worker queued messages for since the lanes were last woken. */
  readonly #newMessageLanes = new Set<string>();
  #config: LoadedConfig;
  #project: RuntimeProject;
  /** `stepped` until `start`: the caller drives the worker (simulation, tests). */
  #mode: 'stepped' | ProcessRole = 'stepped';
  /** The scheduler role among processes sharing the store (see `SCHEDULER_ROLE`). */
  readonly #scheduler: RoleLease;
  /** Wake-ups from other processes' commits, while started as a worker. */
  #watch: StoreWatch | null = null;
  /** Next due instant of each batch trigger, by name. */
  readonly #batchNext = new Map<string, number>();
  /** When retention runs next. */
  #nextPruneAt = Number.NEGATIVE_INFINITY;
  /** Whether the schedule planner has run since the engine opened. */
  #schedulesPlanned = false;
  /** When each scheduled model training runs next. */
  #training: TrainingSchedule;
  /** When the registry is looked at next for new model versions. */
  #nextModelRefreshAt: number;
  /** Saves and restores the population learning; null when it is kept in memory only. */
  readonly #learning: LearningPersistence | null;
  /** The registry models the predictions score with. */
  #models: LoadedPredictionModels = {
    models: new Map(),
    policy: null,
    versions: [],
    problems: [],
    status: new Map(),
  };

  private constructor(
    options: EngineOptions,
    project: RuntimeProject,
    ids: IdSource,
    seed: string,
  ) {
    this.store = options.store;
    this.clock = options.clock;
    this.ids = ids;
    this.log = options.log ?? silentLogger;
    this.seed = seed;
    this.#config = options.config;
    this.#project = project;
    this.#training = new TrainingSchedule(options.config.config.models, options.clock.now());
    // Unique per process: the scheduler role and customer leases tell processes apart by it.
    const workerId = options.worker?.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
    this.#scheduler = new RoleLease({
      store: options.store,
      role: SCHEDULER_ROLE,
      holder: workerId,
      leaseMs: options.worker?.leaseMs ?? DEFAULT_LEASE_MS,
      log: this.log,
    });
    // Just loaded by `open`: the first look for newer versions is a minute away.
    this.#nextModelRefreshAt = options.clock.now() + MODEL_REFRESH_MS;
    // Every process saves its own share of the learning (see `learning-persistence.ts`).
    this.#learning =
      options.persistLearning === false
        ? null
        : new LearningPersistence({
            store: options.store,
            log: this.log,
            holder: workerId,
            now: options.clock.now(),
            learning: project.learning,
          });
    const routes = buildRoutes(options, this.log);
    this.routes = routes;
    // The built-in inbox is the message row itself: the processor delivers to it in the batch.
    const storeDeliveredChannels = new Set<string>();
    for (const [name, channel] of Object.entries(options.config.config.channels)) {
      if (channel.type === 'in_app' && !options.providers?.has(name))
        storeDeliveredChannels.add(name);
    }
    if (!options.config.config.channels['in_app'] && !options.providers?.has('in_app')) {
      storeDeliveredChannels.add('in_app');
    }
    const config = options.config.config;
    const buckets = throughputBuckets(config);
    const tracking =
      options.tracking === undefined
        ? null
        : new TrackingLinks(options.tracking.baseUrl, options.tracking.secret);
    this.tracking = tracking;
    this.feedbackVerification = options.feedbackVerification ?? {
      twilioAuthTokens: [],
      sendgridPublicKey: null,
      publicUrl: null,
    };
    const emailChannels = new Set(
      Object.entries(config.channels)
        .filter(([, channel]) => channel.type === 'email')
        .map(([name]) => name),
    );
    if (config.channels['email'] === undefined) emailChannels.add('email');
    this.messages = new MessageDispatcher({
      decorate: (message) =>
        tracking !== null && emailChannels.has(message.channel)
          ? tracking.decorate(message)
          : message,
      store: this.store,
      clock: this.clock,
      ids,
      log: this.log,
      routes,
      defaultRoute:
        options.delivery === 'configured'
          ? undefined
          : routeOver('*', [{ name: 'recording', provider: this.recording }], {
              now: () => this.clock.now(),
            }),
      retryPolicy: (channel, priority) =>
        resolveRetryPolicy(config.channels[channel]?.retry_policy, priority, config.retry_policies),
      fallbackOf: (channel) => config.channels[channel]?.fallback ?? null,
      throughput: (channel) => buckets.get(channel) ?? [],
      ...(options.worker?.deliveryLeaseMs === undefined
        ? {}
        : { leaseMs: options.worker.deliveryLeaseMs }),
    });
    this.#lanes = new DeliveryLanes({
      dispatcher: this.messages,
      clock: this.clock,
      log: this.log,
      lanes: [...routes.keys(), ...messageChannels(project)],
    });
    const remote = new RemoteModels({
      config: () => this.#config.config,
      store: this.store,
      clock: this.clock,
      log: this.log,
      fetch: options.fetch ?? fetch,
      secrets: options.secrets ?? {},
      builtIn: (name) => this.#models.models.get(name),
      append: async (events) => {
        await this.store.appendEvents(events, this.clock.now());
        this.worker.wake();
      },
    });
    this.remoteModels = remote;
    this.dispatcher = new OutboxDispatcher({
      store: this.store,
      messages: (now) => (this.#mode === 'stepped' ? this.messages.drain(now) : this.#wakeLanes()),
      publishes: (now) => this.#scheduler.holds(now),
      sinks: options.sinks ?? [],
      publishers: options.publishers ?? [],
      callWebhook: options.callWebhook ?? postWebhook,
      scoreRemotely: (key, request) => remote.score(key, request),
      log: this.log,
    });
    this.worker = new Worker({
      store: this.store,
      clock: this.clock,
      process: (batch, now) => {
        const result = processBatch(this.#project, batch, now, this.ids, {
          elapsed: elapsedMs,
          storeDeliveredChannels,
        });
        for (const entry of result.outbox) {
          if (entry.kind === 'message' && entry.lane != null) this.#newMessageLanes.add(entry.lane);
        }
        return result;
      },
      dispatcher: this.dispatcher,
      log: this.log,
      options: {
        // Caps count a customer's messages over calendar windows of up to a month.
        contactWindowMs: project.needsContacts ? CONTACT_WINDOW_MS : null,
        ...options.worker,
        workerId,
      },
      beforePass: async (now) => {
        // Every process scores with the newest models and saves what it learned; the rest is
        // the scheduler's alone.
        await this.#refreshModelsWhenDue(now);
        await this.#learning?.tick(now);
        if (!(await this.#scheduler.holds(now))) return;
        await this.#trainWhenDue(now);
        await this.pruneRecords(now);
        if (!this.#schedulesPlanned) await this.planSchedules(now);
        await this.runDueBatchTriggers(now);
      },
    });
    for (const trigger of project.batchTriggers.values()) {
      // Evaluated once at start-up (what a restart missed is caught up once, not replayed).
      this.#batchNext.set(trigger.name, this.clock.now());
    }
  }

  /** When the next batch trigger is due, or null: simulation jumps there like to a timer. */
  nextBatchTriggerAt(): number | null {
    let next: number | null = null;
    for (const at of this.#batchNext.values()) if (next === null || at < next) next = at;
    return next;
  }

  /**
   * Runs every batch condition trigger that is due: pages through all customers, and for each one
   * whose conditions hold appends a `waymark.batch_trigger` command to its event log. The command is
   * applied in the customer's own order, where the conditions are checked again and the trigger
   * fires on the false→true edge.
   */
  /**
   * Gives every customer without a plan for a schedule trigger its first fire (customers stored
   * without going through events, or all of them when a schedule trigger is new). Customers that
   * arrive through events are planned by the processor, in their own order; a plan the processor
   * wrote meanwhile wins. The worker's first pass runs it once; call it again after writing
   * profiles straight into the store (`upsertCustomers`) of a running engine. Returns how many
   * plans it wrote.
   */
  async planSchedules(now: number): Promise<number> {
    this.#schedulesPlanned = true;
    let written = 0;
    for (const trigger of this.#project.scheduleTriggers.values()) {
      let afterId: string | null = null;
      for (;;) {
        const customers = await this.store.listUnplannedCustomers(trigger.name, afterId, 1000);
        if (customers.length === 0) break;
        const entries = customers.flatMap((customer) => {
          const change = planSchedule(
            trigger,
            customer,
            null,
            now,
            this.ids,
            this.#project.defaultZone,
          );
          return change === null ? [] : [{ plan: change.plan, timer: change.timer }];
        });
        written += await this.store.addSchedulePlans(entries);
        afterId = customers.at(-1)?.id ?? null;
      }
    }
    return written;
  }

  /**
   * Applies `defaults.retention`: trigger executions older than it are deleted, in chunks, once an
   * hour of clock time. Returns how many rows went.
   */
  async pruneRecords(now: number): Promise<number> {
    if (now < this.#nextPruneAt) return 0;
    this.#nextPruneAt = now + PRUNE_INTERVAL_MS;
    const before = now - this.#config.config.defaults.retention.trigger_executions.ms;
    let pruned = 0;
    for (;;) {
      const deleted = await this.store.pruneTriggerExecutions(before, 5_000);
      pruned += deleted;
      if (deleted < 5_000) return pruned;
    }
  }

  async runDueBatchTriggers(now: number): Promise<number> {
    let queued = 0;
    for (const [name, due] of this.#batchNext) {
      if (due > now) continue;
      const trigger = this.#project.batchTriggers.get(name);
      if (!trigger) {
        this.#batchNext.delete(name);
        continue;
      }
      let cursor: string | undefined;
      for (;;) {
        const page = await this.store.listCustomers({ limit: 1000, cursor });
        const commands: NewEvent[] = [];
        for (const customer of page.items) {
          const context = { customer: { ...customer.attributes, id: customer.id } };
          if (trigger.matches === null || trigger.matches(context)) {
            commands.push({
              type: 'waymark.batch_trigger',
              customerId: customer.id,
              occurredAt: now,
              payload: { trigger: name },
            });
          }
        }
        if (commands.length > 0) await this.store.appendEvents(commands, now);
        queued += commands.length;
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      const next = trigger.nextRun(now);
      if (next === null) this.#batchNext.delete(name);
      else this.#batchNext.set(name, next);
    }
    return queued;
  }

  /**
   * Opens an engine: applies store migrations, records each configured journey as a new version
   * when its definition changed, and compiles the project with every version still in use.
   */
  static async open(options: EngineOptions): Promise<Engine> {
    await options.store.migrate();
    const ids = options.ids ?? randomIds(() => options.clock.now());
    const seed = options.seed ?? 'waymark';
    const journeys = await syncJourneys(options.store, options.config.config, options.clock.now());
    const models = await loadPredictionModels(options.store, options.config.config);
    const project = compileProject(options.config.config, journeys, seed, models.models);
    const engine = new Engine(options, project, ids, seed);
    engine.#models = models;
    for (const problem of models.problems) engine.log.warn(problem);
    // Before anything is processed, so the first choices use what was learned before the restart.
    await engine.#learning?.refresh(options.clock.now());
    return engine;
  }

  /** The loaded configuration. */
  get config(): WaymarkConfig {
    return this.#config.config;
  }

  /** The registry models loaded for predictions (`name@version`) and what is missing. */
  get predictionModels(): LoadedPredictionModels {
    return this.#models;
  }

  /**
   * Reloads the newest registered version of every model the predictions name; recompiles the
   * project when any changed. Returns whether it did. `waymark serve` calls it periodically, so a
   * newly registered model takes over without a restart.
   */
  async refreshModels(): Promise<boolean> {
    const loaded = await loadPredictionModels(this.store, this.#config.config);
    const same =
      loaded.versions.length === this.#models.versions.length &&
      loaded.versions.every((v, i) => v === this.#models.versions[i]);
    if (same) return false;
    this.#models = loaded;
    await this.#recompile();
    this.log.info('prediction models reloaded', { models: loaded.versions });
    return true;
  }

  /**
   * Trains every model whose `train.schedule` came due and registers the new versions (a failed
   * training is logged and leaves the current version in place); they are scored with at once.
   * A run missed while the engine was down is not caught up: the next one is planned from start-up.
   */
  async #trainWhenDue(now: number): Promise<void> {
    const due = this.#training.takeDue(now);
    if (due.length === 0) return;
    for (const name of due) {
      try {
        await this.retrainModel(name, 'scheduled training');
      } catch (error) {
        this.log.warn('scheduled model training failed', {
          model: name,
          error: (error as Error).message,
        });
      }
    }
  }

  /**
   * Trains `name` on the store's customers now (its `models.<name>.train` settings), registers the
   * new version and starts scoring with it.
   *
   * @throws NotFoundError for a name not under `models`; InvalidInputError when the data cannot
   *   train it (`MODEL_TRAINING_DATA`) or it has no `train` settings (`MODEL_NOT_TRAINABLE`).
   */
  async retrainModel(name: string, source = 'training'): Promise<ModelRecord> {
    const model = this.#config.config.models[name];
    if (model === undefined) throw new NotFoundError('model', name);
    const record = await trainModelFromStore(this.store, name, model, this.clock.now(), source);
    this.log.info('model trained', {
      model: `${record.name}@${record.version}`,
      source: record.source,
    });
    await this.refreshModels();
    return record;
  }

  /** A model registered meanwhile (by the CLI, another process) is picked up once a minute. */
  async #refreshModelsWhenDue(now: number): Promise<void> {
    if (now < this.#nextModelRefreshAt) return;
    this.#nextModelRefreshAt = now + MODEL_REFRESH_MS;
    const config = this.#config.config;
    if (
      Object.keys(config.predictions).length === 0 &&
      config.next_best_action.model === undefined
    ) {
      return;
    }
    await this.refreshModels();
  }

  /**
   * The spec's next best action for a customer: the catalogue (`next_best_action.actions`) ranked
   * by expected value under eligibility and the constraints, timed, explained and logged.
   *
   * @throws NotFoundError for an unknown customer; InvalidInputError for unknown actions.
   */
  nextBestAction(request: NextBestActionRequest): Promise<JsonObject> {
    return recommendNextBestAction(
      {
        store: this.store,
        clock: this.clock,
        ids: this.ids,
        project: this.#project,
        config: this.#config.config.next_best_action,
        policy: this.#models.policy,
      },
      request,
    );
  }

  /**
   * Every score-type prediction's live score of a customer, from the loaded models; a prediction
   * whose model is not registered answers with nulls and a note.
   *
   * @throws NotFoundError for an unknown customer.
   */
  async scoreCustomer(customerId: string): Promise<CustomerPredictionScore[]> {
    const customer = await this.store.getCustomer(customerId);
    if (customer === null) throw new NotFoundError('customer', customerId);
    const out: CustomerPredictionScore[] = [];
    for (const [name, prediction] of Object.entries(this.#config.config.predictions)) {
      if (prediction.output !== 'score' && prediction.output !== 'probability') continue;
      const model = this.#models.models.get(prediction.model);
      if (model === undefined) {
        out.push({
          prediction: name,
          model: null,
          probability: null,
          score: null,
          threshold: prediction.threshold ?? null,
          aboveThreshold: null,
          factors: [],
          notes: [`model '${prediction.model}' is not registered`],
        });
        continue;
      }
      const score = model.score(customer.attributes, this.clock.now());
      out.push({
        prediction: name,
        model: `${model.name}@${model.version}`,
        probability: score.probability,
        score: score.score,
        threshold: prediction.threshold ?? null,
        aboveThreshold:
          prediction.threshold === undefined ? null : score.probability >= prediction.threshold,
        factors: [...score.factors],
        notes: [...score.notes],
      });
    }
    return out;
  }

  /**
   * The journey's live uplift report: per goal, treated against held-out enrollments.
   *
   * @throws NotFoundError for an unknown journey.
   */
  journeyUplift(journeyId: string): Promise<JourneyUplift> {
    return journeyUplift(this.store, this.#journey(journeyId).current, this.clock.now());
  }

  /** The global holdout's live uplift report over the journeys taking part in it. */
  globalUplift(): Promise<GlobalUplift> {
    return globalUplift(
      this.store,
      [...this.#project.journeys.values()].map((j) => j.current),
      this.#config.config.defaults.global_holdout ?? 0,
      this.seed,
      this.clock.now(),
    );
  }

  /** The compiled project the worker runs. */
  get project(): RuntimeProject {
    return this.#project;
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /**
   * Starts the engine in a process of the given role (default `all`). `api` starts nothing in the
   * background: commands are applied by the worker processes sharing the store. `all` and `worker`
   * start the worker loop and the delivery lanes, and listen for other processes' commits when the
   * store can tell (`Store.watch`), keeping their polls as the fallback.
   */
  start(role: ProcessRole = 'all'): void {
    if (this.#mode !== 'stepped') return;
    this.#mode = role;
    if (role === 'api') return;
    this.#lanes.start();
    this.worker.watchOutbox(false);
    this.worker.start();
    this.#watch =
      this.store.watch?.(
        (change) => {
          this.#heard(change);
        },
        (listening, error) => {
          if (listening) {
            this.log.info('listening for changes from other processes');
            // Whatever was committed while not listening was not heard: look once now.
            this.worker.wake();
            this.#lanes.wake();
          } else {
            this.log.warn('not listening for changes from other processes; polling meanwhile', {
              error: error?.message ?? null,
            });
          }
        },
      ) ?? null;
  }

  /** The role this engine was started in, or null when it is stepped by its caller. */
  get role(): ProcessRole | null {
    return this.#mode === 'stepped' ? null : this.#mode;
  }

  /** Whether other processes' commits wake this one now (false: it polls). */
  get listening(): boolean {
    return this.#watch?.listening ?? false;
  }

  /** A change another process (or this one) committed: wake whoever has work now. */
  #heard(change: StoreChange): void {
    if (change.kind === 'events') {
      this.worker.wake();
      return;
    }
    if (change.lanes === null) this.#lanes.wake();
    else if (change.lanes.length > 0) this.#lanes.wake(change.lanes);
    if (change.others) this.worker.wake();
  }

  /**
   * In server mode the lanes send; the worker only tells the lanes its batches gave messages to
   * (a lane with nothing new is left asleep rather than sent to look).
   */
  #wakeLanes(): Promise<number> {
    if (this.#newMessageLanes.size > 0) {
      this.#lanes.wake(this.#newMessageLanes);
      this.#newMessageLanes.clear();
    }
    return Promise.resolve(0);
  }

  /**
   * Stops hearing other processes, stops the worker after its current pass (its batch committed,
   * or given back when the commit fails), lets every lane finish its pass, saves what the bandits
   * learned since the last save, gives up the scheduler role, then closes the store; idempotent.
   */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    await this.#watch?.close().catch((e: unknown) => errors.push(e));
    this.#watch = null;
    await this.worker.close().catch((e: unknown) => errors.push(e));
    await this.#lanes.close().catch((e: unknown) => errors.push(e));
    // Nothing learns any more: what was learned since the last save goes into the registry. A
    // failure is a warning, not a failed stop: the learning is a prior, and at most the last
    // 15 minutes of it are lost.
    await this.#learning?.save(this.clock.now(), 'stop').catch((e: unknown) => {
      this.log.warn('could not save the engagement learning at stop', {
        error: (e as Error).message,
      });
    });
    await this.#scheduler.release().catch((e: unknown) => errors.push(e));
    await Promise.allSettled([...this.routes.values()].map((route) => route.close()));
    await this.store.close().catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw errors[0];
  }

  /** Processes everything due now (simulation and tests). */
  runUntilIdle(): Promise<PassResult> {
    return this.worker.runUntilIdle();
  }

  // ---- ingestion ---------------------------------------------------------------------------

  /**
   * Appends events durably (one transaction) and wakes the worker. Clients may not post the
   * engine's own command types (`waymark.*`).
   */
  async ingest(events: readonly NewEvent[]): Promise<AppendResult[]> {
    events.forEach((e, i) => {
      if (e.type.startsWith(COMMAND_EVENT_PREFIX)) {
        throw new InvalidInputError(`event type '${e.type}' is reserved for the engine`, {
          problems: [
            {
              path: `events[${i}].type`,
              message: `types starting with '${COMMAND_EVENT_PREFIX}' are reserved`,
            },
          ],
        });
      }
    });
    const results = await this.store.appendEvents(events, this.clock.now());
    this.worker.wake();
    return results;
  }

  // ---- journey control ---------------------------------------------------------------------

  /**
   * Enrolls a customer (creating a bare profile if needed) and resolves, once processed, with
   * what happened: the enrollment, or the reason it was refused (`already_enrolled`,
   * `re_entry_not_allowed`, `cooldown`, `journey_paused`, `entry_conditions_not_met`, ...).
   * With `entryProperties` the enrollment carries them as its entering event (see the option).
   */
  async enroll(
    journeyId: string,
    customerId: string,
    options: EnrollCommandOptions = {},
  ): Promise<EnrollOutcome> {
    this.#journey(journeyId);
    const eventId = await this.#command(customerId, 'waymark.enroll', {
      journey_id: journeyId,
      ...(options.entryProperties === undefined ? {} : { properties: options.entryProperties }),
      ...(options.entryEventType === undefined ? {} : { entry_type: options.entryEventType }),
    });
    const decisions = await this.store.listDecisions({ customerId, limit: 100 });
    const decision = decisions.find((d) => d.kind === 'api_enroll' && d.subject === eventId);
    const result = decision?.explanation['result'];
    const outcome =
      typeof result === 'object' && result !== null && !Array.isArray(result) ? result : {};
    const enrollment = await this.activeEnrollment(journeyId, customerId);
    if (outcome['decision'] === 'enrolled') {
      const id = outcome['enrollment_id'];
      const record = typeof id === 'string' ? await this.store.getEnrollment(id) : enrollment;
      return { decision: 'enrolled', reason: null, enrollment: record ?? enrollment };
    }
    return {
      decision: 'rejected',
      reason: typeof outcome['reason'] === 'string' ? outcome['reason'] : 'unknown',
      enrollment,
    };
  }

  /** Removes a customer from a journey (`journey.exited` with the reason). */
  async unenroll(
    journeyId: string,
    customerId: string,
    reason = 'removed_by_api',
  ): Promise<EnrollmentRecord> {
    this.#journey(journeyId);
    const active = await this.activeEnrollment(journeyId, customerId);
    if (!active) throw new NotFoundError('active enrollment', `${journeyId}/${customerId}`);
    await this.#command(customerId, 'waymark.exit', { journey_id: journeyId, reason });
    return (await this.store.getEnrollment(active.id)) ?? active;
  }

  /** Moves a customer to a stage (or the next one). */
  async advanceCustomer(
    journeyId: string,
    customerId: string,
    stage?: string,
  ): Promise<EnrollmentRecord> {
    const journey = this.#journey(journeyId);
    if (stage !== undefined && !journey.current.stageIndex.has(stage)) {
      throw new InvalidInputError(`journey '${journeyId}' has no stage '${stage}'`, {
        stages: journey.current.stages.map((s) => s.id),
      });
    }
    const active = await this.activeEnrollment(journeyId, customerId);
    if (!active) throw new NotFoundError('active enrollment', `${journeyId}/${customerId}`);
    await this.#command(
      customerId,
      'waymark.advance',
      stage === undefined ? { journey_id: journeyId } : { journey_id: journeyId, stage },
    );
    return (await this.store.getEnrollment(active.id)) ?? active;
  }

  /** The customer's active enrollment in a journey, or null. */
  async activeEnrollment(journeyId: string, customerId: string): Promise<EnrollmentRecord | null> {
    const page = await this.store.listEnrollments({
      journeyId,
      customerId,
      status: 'active',
      limit: 1,
    });
    return page.items[0] ?? null;
  }

  /** The customer's enrollments in the journey (the store's order: oldest first), at most 100. */
  async enrollmentsOf(journeyId: string, customerId: string): Promise<EnrollmentRecord[]> {
    this.#journey(journeyId);
    const page = await this.store.listEnrollments({ journeyId, customerId, limit: 100 });
    return page.items;
  }

  /** Pauses a journey: nobody new enrolls; enrolled customers keep their place. */
  async pause(journeyId: string): Promise<void> {
    this.#journey(journeyId);
    await this.store.setJourneyStatus(journeyId, 'paused', this.clock.now());
    await this.#recompile();
  }

  /** Resumes a paused journey. */
  async resume(journeyId: string): Promise<void> {
    this.#journey(journeyId);
    await this.store.setJourneyStatus(journeyId, 'active', this.clock.now());
    await this.#recompile();
  }

  /**
   * A journey's current definition (in the form it is written: `2 days`, not the parsed duration,
   * so it can be edited and sent back with `putJourney`), version and status.
   */
  describeJourney(journeyId: string): {
    id: string;
    version: number;
    paused: boolean;
    definition: ConfigJourney;
  } {
    const journey = this.#journey(journeyId);
    return {
      id: journeyId,
      version: journey.current.version,
      paused: journey.paused,
      definition: toSourceForm(journey.current.definition) as ConfigJourney,
    };
  }

  /** Ids of every journey. */
  journeyIds(): string[] {
    return [...this.#project.journeys.keys()];
  }

  /**
   * Replaces a journey's definition: validated like config, stored as a new version when it
   * changed. Customers already enrolled finish on their version.
   */
  async putJourney(journeyId: string, input: unknown): Promise<SavedJourney> {
    const parsed = journeySchema.safeParse(input);
    if (!parsed.success) {
      throw new InvalidInputError('invalid journey definition', {
        problems: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    }
    if (parsed.data.id !== journeyId) {
      throw new InvalidInputError(
        `the definition's id '${parsed.data.id}' does not match '${journeyId}'`,
        {
          problems: [{ path: 'id', message: `expected '${journeyId}'` }],
        },
      );
    }
    const definition = parsed.data;
    // Compile before storing, so a definition the runtime cannot run is never saved.
    const trial = { ...this.#config.config, journeys: [definition] };
    compileProject(
      trial,
      [
        {
          id: journeyId,
          currentVersion: 1,
          paused: false,
          definitions: new Map([[1, definition]]),
        },
      ],
      this.seed,
    );
    const saved = await this.store.saveJourneyVersion(
      journeyId,
      JSON.parse(JSON.stringify(definition)) as JsonObject,
      journeyHash(definition),
      this.clock.now(),
    );
    const warnings = eventReadsWithoutEvent(definition, [], this.#config.config.templates).map(
      (w) => ({ path: w.path.join('.'), message: w.message }),
    );
    const others = this.#config.config.journeys.filter((j) => j.id !== journeyId);
    this.#config = {
      ...this.#config,
      config: { ...this.#config.config, journeys: [...others, definition] },
    };
    await this.#recompile();
    return { ...saved, warnings };
  }

  /** Metrics of one journey from the store. */
  async journeyMetrics(journeyId: string): Promise<JourneyMetrics> {
    const journey = this.#journey(journeyId);
    const counts = (await this.store.journeyCounts()).find((c) => c.journeyId === journeyId);
    const byStatus = counts?.byStatus ?? { active: 0, completed: 0, exited: 0 };
    const total = byStatus.active + byStatus.completed + byStatus.exited;
    const ended = byStatus.completed + byStatus.exited;
    return {
      journey_id: journeyId,
      version: journey.current.version,
      status: journey.paused ? 'paused' : 'active',
      enrollments: { ...byStatus, total },
      active_by_stage: counts?.activeByStage ?? {},
      completion_rate: ended === 0 ? null : byStatus.completed / ended,
    };
  }

  // ---- internals ---------------------------------------------------------------------------

  #journey(journeyId: string) {
    const journey = this.#project.journeys.get(journeyId);
    if (!journey) throw new NotFoundError('journey', journeyId);
    return journey;
  }

  async #recompile(): Promise<void> {
    const journeys = await loadJourneyVersions(this.store, this.#config.config);
    // What the bandits learned survives a journey change.
    this.#project = compileProject(
      this.#config.config,
      journeys,
      this.seed,
      this.#models.models,
      this.#project.learning,
    );
  }

  /** Commands go through the event log so they keep the customer's order; waits until processed. */
  async #command(customerId: string, type: string, payload: JsonObject): Promise<string> {
    const [result] = await this.store.appendEvents(
      [{ type, customerId, occurredAt: this.clock.now(), payload }],
      this.clock.now(),
    );
    if (!result) throw new WaymarkError('INTERNAL', 'command was not stored');
    if (this.#mode === 'stepped') {
      await this.worker.runUntilIdle();
    } else {
      this.worker.wake();
      // A wall-clock bound on waiting for the background worker, here or (role `api`) in another
      // process (an operational timeout, not journey time, so it does not come from the injected
      // clock). The look is cheap at first and backs off, so a slow worker is not polled hard.
      const deadline = Date.now() + 10_000;
      let pause = 2;
      for (;;) {
        const event = await this.store.getEvent(result.id);
        if (event && event.status !== 'pending') break;
        if (Date.now() > deadline) {
          throw new WaymarkError(
            'TIMEOUT',
            'the command was accepted but not processed within 10 s',
            {
              retryable: true,
              details: { event_id: result.id },
            },
          );
        }
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(pause * 2, 50);
      }
    }
    const event = await this.store.getEvent(result.id);
    if (event?.status === 'failed') {
      throw new WaymarkError('COMMAND_FAILED', event.error ?? 'command failed', {
        details: { event_id: result.id },
      });
    }
    return result.id;
  }
}

/** Fields of the parsed forms of config values (durations, times of day, instants, rates, windows). */
const PARSED_FIELDS = new Set([
  'text',
  'amount',
  'unit',
  'ms',
  'calendar',
  'minute',
  'epochMs',
  'count',
  'perMs',
  'startMinute',
  'endMinute',
  'wrapsMidnight',
  'hasSeconds',
]);

/**
 * Turns a loaded definition back into its written form: every parsed value (an object carrying the
 * `text` it was parsed from, and nothing but parsed fields) becomes that text again.
 */
function toSourceForm(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toSourceForm);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (
    typeof record['text'] === 'string' &&
    keys.length > 1 &&
    keys.every((k) => PARSED_FIELDS.has(k))
  ) {
    return record['text'];
  }
  return Object.fromEntries(
    keys.map((k) => {
      const v = record[k];
      // `holdout` is the one percentage in a journey: loaded as a fraction, written as '10%'.
      if (k === 'holdout' && typeof v === 'number') return [k, `${Math.round(v * 1e6) / 1e4}%`];
      return [k, toSourceForm(v)];
    }),
  );
}

/** Measures trigger processing time; real time on purpose (it measures the engine, not the journey). */
function elapsedMs(): number {
  return performance.now();
}

/** Stores each configured journey as a version (a no-op when unchanged) and loads versions in use. */
async function syncJourneys(
  store: Store,
  config: WaymarkConfig,
  now: number,
): Promise<StoredJourneyVersions[]> {
  for (const journey of config.journeys) {
    await store.saveJourneyVersion(
      journey.id,
      JSON.parse(JSON.stringify(journey)) as JsonObject,
      journeyHash(journey),
      now,
    );
  }
  return loadJourneyVersions(store, config);
}

async function loadJourneyVersions(
  store: Store,
  config: WaymarkConfig,
): Promise<StoredJourneyVersions[]> {
  const result: StoredJourneyVersions[] = [];
  const configured = new Set(config.journeys.map((j) => j.id));
  for (const state of await store.listJourneyStates()) {
    if (!configured.has(state.journeyId)) continue;
    const definitions = new Map<number, ConfigJourney>();
    for (const version of await store.listJourneyVersions(state.journeyId)) {
      definitions.set(version.version, version.definition as unknown as ConfigJourney);
    }
    result.push({
      id: state.journeyId,
      currentVersion: state.currentVersion,
      paused: state.status === 'paused',
      definitions,
    });
  }
  return result;
}

/** Default webhook effect: POST the call's body as JSON; a non-2xx answer is a failure (retried). */
async function postWebhook(call: Record<string, unknown>): Promise<void> {
  const url = typeof call['url'] === 'string' ? call['url'] : null;
  if (url === null) return;
  const response = await fetch(url, {
    method: typeof call['method'] === 'string' ? call['method'] : 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(call['body'] ?? call),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`webhook ${url} answered ${response.status}`);
}

/**
 * Routes by channel: the given providers first; then, in `configured` mode, each configured
 * channel's providers (the built-in inbox for in-app channels without one); in `record` mode,
 * nothing else (the dispatcher's default route records).
 */
function buildRoutes(options: EngineOptions, log: Logger): Map<string, ChannelRoute> {
  const now = (): number => options.clock.now();
  const routes = new Map<string, ChannelRoute>();
  for (const [channel, provider] of options.providers ?? []) {
    routes.set(channel, routeOver(channel, [{ name: provider.kind, provider }], { now }));
  }
  if (options.delivery !== 'configured') return routes;
  const deps: RouteDependencies = {
    registry: options.providerKinds ?? BUILT_IN_PROVIDERS,
    secrets: options.secrets ?? {},
    now,
    fetch: options.fetch ?? fetch,
    log,
    onCircuit: (channel, provider, change) => {
      if (change.to === 'open' && change.from === 'half_open') {
        log.warn('provider still failing: its probe failed, circuit open again', {
          channel,
          provider,
        });
      } else if (change.to === 'open') {
        log.warn('provider taken out of rotation (circuit open)', { channel, provider });
        // An open circuit needs a person to look, so it is an alert, not only a log line; one per
        // outage (a failed probe re-opening it is not a new one).
        void options.store
          .recordDeliveryOutcomes({
            ...emptyDeliveryOutcomes(),
            alerts: [
              {
                id: `alr_circuit_${channel}_${provider}_${String(change.at)}`,
                customerId: null,
                journeyId: null,
                severity: 'high',
                message: `provider '${provider}' of channel '${channel}' is failing; its circuit is open and messages fail over`,
                assignee: null,
                status: 'open',
                createdAt: change.at,
                data: { type: 'circuit_open', channel, provider },
              },
            ],
          })
          .catch((error: unknown) => {
            log.error('could not record the circuit alert', { error: String(error) });
          });
      } else if (change.to === 'closed') {
        log.info('provider back in rotation (circuit closed)', { channel, provider });
      }
    },
  };
  for (const [name, channel] of Object.entries(options.config.config.channels)) {
    if (routes.has(name)) continue;
    if (channel.type === 'in_app' && (channel.provider ?? 'internal') === 'internal') {
      routes.set(
        name,
        routeOver(name, [{ name: 'internal', provider: new InAppInbox() }], { now }),
      );
      continue;
    }
    routes.set(name, buildChannelRoute(name, channel, deps));
  }
  return routes;
}

/** Each channel's global throughput caps as token buckets (`rate_limits.global`, `rate_limit`). */
function throughputBuckets(config: WaymarkConfig): Map<string, TokenBucket[]> {
  const windows = {
    per_second: 1_000,
    per_minute: 60_000,
    per_hour: 3_600_000,
    per_day: 86_400_000,
  };
  const byChannel = new Map<string, TokenBucket[]>();
  const add = (channel: string, bucket: TokenBucket) => {
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), bucket]);
  };
  for (const [channel, limits] of Object.entries(config.rate_limits.global)) {
    for (const [window, windowMs] of Object.entries(windows)) {
      const capacity = limits[window as keyof typeof windows];
      if (capacity !== undefined)
        add(channel, { name: `${channel}:${window}`, capacity, windowMs });
    }
  }
  for (const [channel, settings] of Object.entries(config.channels)) {
    const rate = settings.rate_limit;
    if (rate !== undefined) {
      add(channel, { name: `${channel}:rate_limit`, capacity: rate.count, windowMs: rate.perMs });
    }
  }
  return byChannel;
}

/** Channels journeys and actions send on, so each gets a delivery lane even when not configured. */
function messageChannels(project: RuntimeProject): string[] {
  return [...project.channels.keys(), 'email', 'sms', 'push', 'in_app', 'webhook'];
}

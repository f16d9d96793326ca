/**
 * The storage contract. The core owns it; `store/sqlite` (embedded, default) and `store/postgres`
 * implement it and pass the same conformance suite.
 *
 * Principles it encodes:
 * - Work is claimed in batches and committed in ONE transaction together with every effect it caused
 *   (transactional outbox): state and effects never diverge, nothing is lost on a crash.
 * - Per-customer order: a claimed batch holds, for each of its customers, that customer's oldest
 *   pending events (by `seq`) and due timers; no other worker holds the same customer until the batch
 *   is committed or its lease expires.
 * - `now` is always a parameter: the store never reads the database's clock.
 */
import type {
  AlertRecord,
  AppendResult,
  CustomerRecord,
  DeadLetterRecord,
  DeadLetterStatus,
  DecisionRecord,
  EnrollmentRecord,
  EnrollmentStatus,
  JourneyEventRecord,
  JourneyStateRecord,
  JourneyVersionRecord,
  JsonObject,
  MessageRecord,
  ModelRecord,
  MessageStatus,
  NewEvent,
  OutboxEntry,
  OutboxKind,
  SchedulePlanRecord,
  StoredEvent,
  TaskRecord,
  TimerRecord,
  TriggerExecutionRecord,
} from './model.js';
import type { Instant } from './spec.js';

/** What to claim. */
export interface ClaimOptions {
  now: Instant;
  /** Upper bound on events in the batch (all customers together). */
  maxEvents: number;
  /** Upper bound on due timers in the batch. */
  maxTimers: number;
  /** Who claims; shown in leases for diagnosis. */
  workerId: string;
  /** How long the claim holds before another worker may take the same customers over. */
  leaseMs: number;
  /**
   * When set, each customer's contact ledger is loaded: messages that reach (or will reach) the
   * customer going out at or after this instant. Only needed when contact caps or fatigue apply.
   */
  contactsSince?: Instant | undefined;
}

/** A message in a customer's contact ledger: its channel and when it goes (or went) out. */
export interface ContactRecord {
  channel: string;
  at: Instant;
  /** Whether the customer engaged with it (opened, clicked, read): channel selection learns from it. */
  engaged: boolean;
}

/** Everything one customer brings into a batch. */
export interface CustomerWork {
  customerId: string;
  /** Current profile, or null when the customer does not exist (yet) or was deleted. */
  customer: CustomerRecord | null;
  /** Pending events in `seq` order. */
  events: StoredEvent[];
  /** Due pending timers in `dueAt` order. */
  timers: TimerRecord[];
  /** Active enrollments, plus the most recent ended one per journey (for re-entry policies). */
  enrollments: EnrollmentRecord[];
  /** Last known truth value of each condition trigger for this customer (edge detection). */
  triggerStates: Record<string, boolean>;
  /** The customer's schedule plans (one per schedule trigger it has been planned for). */
  schedulePlans: SchedulePlanRecord[];
  /** Contact ledger (see `ClaimOptions.contactsSince`); empty when not asked for. */
  contacts: ContactRecord[];
}

/** A claimed batch of work. */
export interface WorkBatch {
  leaseId: string;
  claimedAt: Instant;
  customers: CustomerWork[];
}

/** Everything a processed batch writes, committed atomically by `commitWork`. */
export interface WorkResult {
  processedEventSeqs: number[];
  /** Events that could not be processed (poison events): marked failed with the reason, never retried forever. */
  failedEvents: { seq: number; error: string }[];
  firedTimerIds: string[];
  /** Each customer's final profile; applied after `customerDeletes` (a re-created customer appears in both). */
  customerUpserts: CustomerRecord[];
  /**
   * Profiles to delete. Only the profile goes: enrollments, messages, events and journey events keep
   * their `customer_id` for audit; the engine decides what happens to enrollments.
   */
  customerDeletes: string[];
  enrollmentUpserts: EnrollmentRecord[];
  timersToAdd: TimerRecord[];
  /**
   * Timers fired in this batch that are due again (a recurring schedule keeps its one timer row):
   * pending again at `dueAt` with `payload`. An id not in `firedTimerIds` is ignored.
   */
  timersToReschedule: { id: string; dueAt: Instant; payload: JsonObject }[];
  timerIdsToCancel: string[];
  messages: MessageRecord[];
  /** Changes to messages already stored (delivery feedback, engagement). */
  messageUpdates: MessageUpdate[];
  journeyEvents: JourneyEventRecord[];
  outbox: OutboxEntry[];
  triggerExecutions: TriggerExecutionRecord[];
  triggerStates: { triggerName: string; customerId: string; value: boolean }[];
  /** Schedule plans to insert or replace (keyed by customer and trigger). */
  schedulePlans: SchedulePlanRecord[];
  ruleFires: { ruleId: string; customerId: string; firedAt: Instant }[];
  decisions: DecisionRecord[];
  tasks: TaskRecord[];
  alerts: AlertRecord[];
}

/** A result that writes nothing yet; the processor and tests fill it in. */
export function emptyWorkResult(): WorkResult {
  return {
    processedEventSeqs: [],
    failedEvents: [],
    firedTimerIds: [],
    customerUpserts: [],
    customerDeletes: [],
    enrollmentUpserts: [],
    timersToAdd: [],
    timersToReschedule: [],
    timerIdsToCancel: [],
    messages: [],
    messageUpdates: [],
    journeyEvents: [],
    outbox: [],
    triggerExecutions: [],
    triggerStates: [],
    schedulePlans: [],
    ruleFires: [],
    decisions: [],
    tasks: [],
    alerts: [],
  };
}

/** Pagination: results after `cursor` (an opaque string returned by the previous page). */
export interface Page {
  limit: number;
  cursor?: string | undefined;
}

/** A page of results. */
export interface PageResult<T> {
  items: T[];
  nextCursor: string | null;
}

/** Filter for enrollments. */
export interface EnrollmentFilter extends Page {
  journeyId?: string | undefined;
  customerId?: string | undefined;
  status?: EnrollmentStatus | undefined;
}

/** Filter for messages. */
export interface MessageFilter extends Page {
  customerId?: string | undefined;
  journeyId?: string | undefined;
  channel?: string | undefined;
  status?: MessageStatus | undefined;
}

/** A global throughput cap as a token bucket (e.g. `email:per_minute`, 1000 per 60 000 ms). */
export interface TokenBucket {
  name: string;
  capacity: number;
  windowMs: number;
}

/** Filter for dead letters. */
export interface DeadLetterFilter extends Page {
  status?: DeadLetterStatus | undefined;
  customerId?: string | undefined;
}

/**
 * A change to a stored message from feedback: a new status (null: unchanged), and first-time
 * stamps (`readAt`, `engagedAt` are only set when still empty).
 */
export interface MessageUpdate {
  messageId: string;
  at: Instant;
  status: MessageStatus | null;
  error: string | null;
  readAt: Instant | null;
  engagedAt: Instant | null;
}

/** Filter of a customer's in-app inbox. */
export interface InboxFilter extends Page {
  customerId: string;
  /** In-app channel names (default: every channel whose messages are delivered to the store). */
  channels: readonly string[];
  /** Messages past their `expiresAt` at this instant are left out. */
  now: Instant;
  unreadOnly?: boolean | undefined;
}

/** One message's new delivery state. */
export interface MessageDeliveryUpdate {
  messageId: string;
  status: MessageStatus;
  at: Instant;
  error: string | null;
  attempts: number;
  provider: string | null;
  providerMessageId: string | null;
}

/** Everything one delivery pass decided; see `Store.recordDeliveryOutcomes`. */
export interface DeliveryOutcomes {
  messages: readonly MessageDeliveryUpdate[];
  journeyEvents: readonly JourneyEventRecord[];
  /** Outbox entries done. */
  completed: readonly number[];
  /**
   * Outbox entries to try again at `at` (`attempts` + 1); `payload` replaces the entry's payload
   * when set (after a partial failure only the failed recipients are retried).
   */
  retries: readonly {
    seq: number;
    at: Instant;
    error: string;
    payload: JsonObject | null;
    /** False when nothing reached a provider (an open circuit, a throughput cap). */
    attempted: boolean;
  }[];
  deadLetters: readonly DeadLetterRecord[];
  alerts: readonly AlertRecord[];
  /** Appended to the customers' event logs (idempotency keys make a replayed pass a no-op). */
  commands: readonly NewEvent[];
}

/** Delivery outcomes with nothing in them, to fill in. */
export function emptyDeliveryOutcomes(): DeliveryOutcomes {
  return {
    messages: [],
    journeyEvents: [],
    completed: [],
    retries: [],
    deadLetters: [],
    alerts: [],
    commands: [],
  };
}

/** Filter for the journey event log. */
export interface JourneyEventFilter extends Page {
  customerId?: string | undefined;
  journeyId?: string | undefined;
  type?: string | undefined;
}

/** Counts per journey, for metrics and the dashboard. */
export interface JourneyCounts {
  journeyId: string;
  byStatus: Record<EnrollmentStatus, number>;
  /** Active enrollments per current stage. */
  activeByStage: Record<string, number>;
}

/**
 * A change some process committed, as a watcher hears of it (`Store.watch`). It only says where to
 * look; the store stays the truth, so a report lost or heard twice costs a poll, never work.
 */
export type StoreChange =
  /** New events were appended: the worker loop has something to claim. */
  | { kind: 'events' }
  /**
   * New outbox entries were committed. `lanes` names the message lanes (channels) among them, null
   * when any lane may have some; `others` says whether there are entries of other kinds
   * (webhooks, tasks, model requests), which the worker loop drains.
   */
  | { kind: 'outbox'; lanes: readonly string[] | null; others: boolean };

/** A running `Store.watch`. */
export interface StoreWatch {
  /** Whether changes are being heard now; false while the watch reconnects (loops poll then). */
  readonly listening: boolean;
  /** Stops watching and frees its connection; idempotent. */
  close(): Promise<void>;
}

/**
 * Conditions of `Store.registerModel`, for a writer that builds each version from the one before
 * (the engine's engagement learning merges the newest stored snapshot with its own increments).
 */
export interface RegisterModelOptions {
  /**
   * Store the model only if the newest version of its name is this one (0: the name has none
   * yet); otherwise store nothing and throw `STORE_CONFLICT`. Without it a read-merge-write
   * registration could silently drop a version another process registered in between.
   */
  readonly after?: number;
  /**
   * After storing, delete every version of the name but the newest `keep` (an integer ≥ 1), in the
   * same transaction. Default: every version is kept.
   */
  readonly keep?: number;
}

/** The storage contract. Every method is atomic on its own. */
export interface Store {
  /** Applies pending numbered migrations; safe to call at every start-up and from several processes. */
  migrate(): Promise<void>;
  /** Releases connections; idempotent. */
  close(): Promise<void>;

  // ---- ingestion ---------------------------------------------------------------------------
  /** Appends events durably in one transaction; duplicates (same idempotency key or id) are reported, not stored. */
  appendEvents(events: readonly NewEvent[], receivedAt: Instant): Promise<AppendResult[]>;
  /** Upserts customer profiles directly (bulk import); attributes are replaced, not merged. */
  upsertCustomers(customers: readonly CustomerRecord[]): Promise<void>;

  // ---- processing --------------------------------------------------------------------------
  /** Claims a batch of pending events and due timers grouped by customer; null when there is nothing to do. */
  claimWork(options: ClaimOptions): Promise<WorkBatch | null>;
  /**
   * Commits a batch's results in one transaction and releases its lease. Fails with
   * `STORE_LEASE_LOST` when another claim took over one of the batch's customers (its lease had
   * expired). On any failure nothing is written and the lease stays until released or expired.
   */
  commitWork(batch: WorkBatch, result: WorkResult): Promise<void>;
  /** Gives a batch back unprocessed (graceful shutdown). */
  releaseWork(batch: WorkBatch): Promise<void>;
  /** Earliest due instant of a pending timer, or null: how long a worker (or simulation) may sleep. */
  nextTimerDueAt(): Promise<Instant | null>;
  /**
   * When the earliest pending outbox entry becomes available (a message held by quiet hours, a
   * retry, a claim that may expire), or null: workers and simulations wake for it.
   */
  nextOutboxAvailableAt(): Promise<Instant | null>;
  /**
   * Deletes trigger executions recorded before `before`, at most `limit` of them (oldest first), so
   * retention runs in small transactions; returns how many went.
   */
  pruneTriggerExecutions(before: Instant, limit: number): Promise<number>;

  // ---- schedules ---------------------------------------------------------------------------
  /**
   * Customers with no plan for the schedule trigger `triggerName`, by id after `afterId` (null:
   * from the start), at most `limit`: the planner gives them their first fire.
   */
  listUnplannedCustomers(
    triggerName: string,
    afterId: string | null,
    limit: number,
  ): Promise<CustomerRecord[]>;
  /**
   * Stores first plans with their timers, atomically. A plan for a customer and trigger that
   * already exists (the processor planned it meanwhile) wins: that entry and its timer are not
   * written. Returns how many were written.
   */
  addSchedulePlans(
    entries: readonly { plan: SchedulePlanRecord; timer: TimerRecord | null }[],
  ): Promise<number>;
  /** Number of events not yet processed. */
  pendingEventCount(): Promise<number>;

  // ---- outbox ------------------------------------------------------------------------------
  /**
   * Claims pending outbox entries available at `now`, oldest first. Claimed entries stay invisible
   * to other claims for `leaseMs` (their `availableAt` moves to `now + leaseMs`), so a dispatcher
   * that dies mid-way delays them instead of losing them.
   */
  claimOutbox(options: {
    now: Instant;
    limit: number;
    kinds?: readonly OutboxKind[];
    /** Only entries of these lanes (channels of `message` entries). */
    lanes?: readonly string[];
    /** How long the claim holds, in ms; default 60 000. */
    leaseMs?: number;
  }): Promise<OutboxEntry[]>;
  /** Marks outbox entries done. */
  completeOutbox(seqs: readonly number[]): Promise<void>;
  /**
   * Records what delivery did with claimed `message` outbox entries, atomically: message status
   * updates, the journey events they cause, outbox entries done or rescheduled, dead letters,
   * alerts, and command events for the customers' own logs (a fallback to another channel is
   * decided by the processor, in the customer's order).
   */
  recordDeliveryOutcomes(outcomes: DeliveryOutcomes): Promise<void>;
  /**
   * Records a failed attempt (`attempts` + 1); the entry becomes available again at `retryAt`, or
   * failed for good when null.
   */
  failOutbox(seq: number, error: string, retryAt: Instant | null): Promise<void>;

  // ---- messages and tasks ------------------------------------------------------------------
  getMessage(id: string): Promise<MessageRecord | null>;
  /** The message a provider knows by this id (delivery callbacks). */
  findMessageByProviderId(providerMessageId: string): Promise<MessageRecord | null>;
  /** A customer's in-app inbox, newest first. */
  listInbox(filter: InboxFilter): Promise<PageResult<MessageRecord>>;
  getTask(id: string): Promise<TaskRecord | null>;
  /**
   * Completes or cancels an open task; returns the updated task, or null when it does not exist or
   * is not open (nothing is written then).
   */
  closeTask(
    id: string,
    change: { status: 'done' | 'cancelled'; at: Instant; by: string | null },
  ): Promise<TaskRecord | null>;

  // ---- throughput ----------------------------------------------------------------------------
  /**
   * Takes up to `want` tokens from every bucket at once, atomically across processes: each bucket
   * refills continuously at `capacity / windowMs` up to `capacity` (a new bucket starts full), and
   * the grant is what the emptiest bucket allows. Resolves to how many were taken.
   */
  takeTokens(buckets: readonly TokenBucket[], want: number, now: Instant): Promise<number>;

  // ---- dead letters ------------------------------------------------------------------------
  /** Dead letters, oldest first, optionally of one status or customer. */
  listDeadLetters(filter: DeadLetterFilter): Promise<PageResult<DeadLetterRecord>>;
  getDeadLetter(id: string): Promise<DeadLetterRecord | null>;
  /**
   * Moves a dead letter to `status` if it is currently in one of `from`, together with an optional
   * command event for the customer's log (a retry). Returns the updated record, or null when it
   * does not exist or is not in one of `from` (nothing is written then).
   */
  transitionDeadLetter(
    id: string,
    change: {
      from: readonly DeadLetterStatus[];
      to: DeadLetterStatus;
      at: Instant;
      retryMessageId?: string | null;
      command?: NewEvent;
    },
  ): Promise<DeadLetterRecord | null>;
  /**
   * Journey events `consumer` has not handled yet, oldest first, at most `limit`. Journey events are
   * published from their own log this way (at least once, in `seq` order) rather than through a
   * second outbox row each. Requires that `seq` order is commit order (true of a single-writer
   * store; a concurrent backend must provide the same guarantee).
   */
  readJourneyEventsFor(consumer: string, limit: number): Promise<JourneyEventRecord[]>;
  /** Records that `consumer` has handled every journey event up to and including `seq`. */
  advanceCursor(consumer: string, seq: number): Promise<void>;

  // ---- process roles -----------------------------------------------------------------------
  /**
   * Takes or keeps a role that one process at a time may hold (the engine's `scheduler`: batch
   * triggers, retention, training, journey-event publishing), as a lease that expires: granted to
   * `holder` until `now + leaseMs` when nobody holds it, when its holder's lease ran out, or when
   * `holder` holds it already (a renewal). Resolves to whether `holder` holds the role now. Atomic
   * across processes sharing the store; `now` comes from the caller's clock, so holders' clocks
   * must agree to well within `leaseMs`.
   */
  holdRole(role: string, holder: string, now: Instant, leaseMs: number): Promise<boolean>;
  /** Gives a role up (shutdown), so another process can take it at once; a no-op unless `holder` holds it. */
  releaseRole(role: string, holder: string): Promise<void>;
  /**
   * Optional capability: calls `onChange` when any process commits new events or outbox entries,
   * so idle loops wake at once instead of at their next poll. A backend shared by several
   * processes (PostgreSQL: LISTEN/NOTIFY) provides it; one that is not leaves it out and loops
   * rely on in-process wake-ups and polling. Reports are hints: they may be lost while the watch
   * reconnects (`onListening(false)`), so callers keep polling as the fallback.
   */
  watch?(
    onChange: (change: StoreChange) => void,
    onListening?: (listening: boolean, error: Error | null) => void,
  ): StoreWatch;

  // ---- decisions and models ----------------------------------------------------------------
  /**
   * Records decisions made outside a work batch (the next-best-action API), all or none. Decisions
   * of the processor are committed with its batch instead (`WorkResult.decisions`).
   */
  appendDecisions(decisions: readonly DecisionRecord[]): Promise<void>;
  /**
   * Stores a model as the next version of its name (1 for a new name) and returns it as stored.
   * Concurrent registrations of one name get distinct versions.
   *
   * @throws StoreError `STORE_CONFLICT` when `options.after` is given and another version was
   *   registered since (nothing is stored or deleted then).
   */
  registerModel(
    model: Omit<ModelRecord, 'version'>,
    options?: RegisterModelOptions,
  ): Promise<ModelRecord>;
  /** A model version, the newest when `version` is omitted; null when there is none. */
  getModel(name: string, version?: number): Promise<ModelRecord | null>;
  /** Models by name, newest version first; every version, or only the newest of each name. */
  listModels(filter: { name?: string; latestOnly?: boolean }): Promise<ModelRecord[]>;

  // ---- journeys ----------------------------------------------------------------------------
  /** Stores a definition as a new version unless its hash equals the current one; returns the current version. */
  saveJourneyVersion(
    journeyId: string,
    definition: JsonObject,
    hash: string,
    now: Instant,
  ): Promise<{ version: number; created: boolean }>;
  getJourneyVersion(journeyId: string, version: number): Promise<JourneyVersionRecord | null>;
  listJourneyVersions(journeyId: string): Promise<JourneyVersionRecord[]>;
  getJourneyState(journeyId: string): Promise<JourneyStateRecord | null>;
  listJourneyStates(): Promise<JourneyStateRecord[]>;
  setJourneyStatus(journeyId: string, status: 'active' | 'paused', now: Instant): Promise<void>;

  // ---- reads -------------------------------------------------------------------------------
  getCustomer(customerId: string): Promise<CustomerRecord | null>;
  /** Customers by id. */
  listCustomers(page: Page): Promise<PageResult<CustomerRecord>>;
  getEvent(id: string): Promise<StoredEvent | null>;
  getEnrollment(id: string): Promise<EnrollmentRecord | null>;
  /** Enrollments by `enrolledAt`, then id. */
  listEnrollments(filter: EnrollmentFilter): Promise<PageResult<EnrollmentRecord>>;
  /** Messages by `createdAt`, then id. */
  listMessages(filter: MessageFilter): Promise<PageResult<MessageRecord>>;
  /**
   * A customer's contact ledger from `since` on, in send order: the messages that reach (or will
   * reach) them, as a claim loads it (`ClaimOptions.contactsSince`). Read through the
   * (customer, send time) index, so a long history costs nothing outside the window.
   */
  listContacts(customerId: string, since: Instant): Promise<ContactRecord[]>;
  /** Journey events by `seq` (the order they were recorded in). */
  listJourneyEvents(filter: JourneyEventFilter): Promise<PageResult<JourneyEventRecord>>;
  /** Timers by `dueAt`, then id. */
  listTimers(filter: {
    customerId?: string;
    enrollmentId?: string;
    status?: string;
  }): Promise<TimerRecord[]>;
  /** The most recent decisions first; only those of `kind` when given. */
  listDecisions(filter: {
    customerId: string;
    kind?: string;
    limit: number;
  }): Promise<DecisionRecord[]>;
  /** The most recent tasks first. */
  listTasks(filter: {
    customerId?: string;
    status?: TaskRecord['status'];
    limit: number;
  }): Promise<TaskRecord[]>;
  /** The most recent alerts first. */
  listAlerts(filter: { status?: AlertRecord['status']; limit: number }): Promise<AlertRecord[]>;
  /** The most recent executions first. */
  listTriggerExecutions(filter: {
    triggerName?: string;
    limit: number;
  }): Promise<TriggerExecutionRecord[]>;
  /** Rule fires per rule for one customer at or after `since` (rule `limits`). */
  countRuleFires(customerId: string, since: Instant): Promise<Record<string, number>>;
  journeyCounts(): Promise<JourneyCounts[]>;
}

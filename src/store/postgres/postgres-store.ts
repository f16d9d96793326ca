/**
 * The scale-out store: the `Store` contract on PostgreSQL through node-postgres.
 *
 * Any number of processes, on any number of machines, share one database. What keeps them apart:
 *
 * - Customers are leased. A claim locks the candidates' rows in `leases` FOR UPDATE SKIP LOCKED
 *   (claimers never wait for each other and never get the same customer), then reads their work
 *   afresh and writes the lease with an expiry. A commit re-checks its lease under FOR NO KEY
 *   UPDATE and is refused (`STORE_LEASE_LOST`) when another claim took a customer over after the
 *   lease expired; a worker that dies simply lets its leases run out.
 * - An event's seq is a sequence value, taken at insert time, so two appenders may commit seqs out
 *   of order. Per customer that would let a claim see seq 11 without the still-uncommitted seq 10
 *   of the same customer. Appenders therefore hold the customer's lease row FOR KEY SHARE while
 *   they insert: claims (FOR UPDATE SKIP LOCKED) skip such a customer until the append commits, and
 *   an appender that waits for a claim takes its seqs after the claim has read the customer's log.
 * - Journey events are read through per-consumer seq cursors, so their seq must be commit order
 *   across all customers: writers take one advisory transaction lock just before inserting them,
 *   as the last step of their transaction, and hold it through COMMIT.
 * - Outbox entries and token buckets are claimed and updated under row locks (SKIP LOCKED for the
 *   outbox, a plain FOR UPDATE for buckets), so concurrent dispatchers split the work and throughput
 *   caps hold across processes.
 *
 * Batches stay batches: every multi-row write is one statement over arrays (`unnest`), so a batch
 * of 500 events costs the same handful of round trips as a batch of one.
 */
import type pg from 'pg';

import { StoreError } from '../errors.js';
import { checkClaimOptions, emptyWork } from '../claims.js';
import { checkModelRegistration, modelVersionConflict } from '../model-registry.js';
import { checkPageLimit, decodeCursor, toPage } from '../cursor.js';
import { InvalidInputError, NotFoundError, randomIds, systemClock } from '../contract.js';
import type {
  AlertRecord,
  AppendResult,
  ClaimOptions,
  Clock,
  ContactRecord,
  CustomerRecord,
  CustomerWork,
  DeadLetterFilter,
  DeadLetterRecord,
  DeadLetterStatus,
  DecisionRecord,
  DeliveryOutcomes,
  EnrollmentFilter,
  EnrollmentRecord,
  IdSource,
  InboxFilter,
  Instant,
  JourneyCounts,
  JourneyEventFilter,
  JourneyEventRecord,
  JourneyStateRecord,
  JourneyVersionRecord,
  JsonObject,
  MessageFilter,
  MessageRecord,
  MessageStatus,
  ModelRecord,
  NewEvent,
  OutboxEntry,
  OutboxKind,
  Page,
  PageResult,
  RegisterModelOptions,
  SchedulePlanRecord,
  Store,
  StoreChange,
  StoreWatch,
  StoredEvent,
  TaskRecord,
  TimerRecord,
  TokenBucket,
  TriggerExecutionRecord,
  WorkBatch,
  WorkResult,
} from '../contract.js';
import {
  checkSchemaName,
  createPool,
  inTransaction,
  parseDatabaseUrl,
  queryable,
  toStoreError,
} from './driver.js';
import type { Queryable, SqlValue } from './driver.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, applyMigrations, schemaVersion } from './migrations.js';
import { ChangeListener, changeChannels, outboxPayload } from './notifications.js';
import type { ChangeChannels } from './notifications.js';
import {
  alertFromRow,
  customerFromRow,
  deadLetterFromRow,
  decisionFromRow,
  enrollmentFromRow,
  eventFromRow,
  journeyEventFromRow,
  journeyStateFromRow,
  journeyVersionFromRow,
  messageFromRow,
  modelFromRow,
  outboxFromRow,
  schedulePlanFromRow,
  taskFromRow,
  timerFromRow,
  toJson,
  triggerExecutionFromRow,
} from './rows.js';
import type {
  AlertRow,
  CustomerRow,
  DeadLetterRow,
  DecisionRow,
  EnrollmentRow,
  EventRow,
  JourneyEventRow,
  JourneyStateRow,
  JourneyVersionRow,
  MessageRow,
  ModelRow,
  OutboxRow,
  SchedulePlanRow,
  TaskRow,
  TimerRow,
  TriggerExecutionRow,
} from './rows.js';
import {
  JOURNEY_EVENTS_LOCK_KEY,
  JOURNEY_LOCK_CLASS,
  MODEL_LOCK_CLASS,
  SQL,
} from './statements.js';

/** How to open the PostgreSQL store. */
export interface PostgresStoreOptions {
  /** `postgres://user[:password]@host[:port]/database[?...]`, as libpq and node-postgres read it. */
  connectionString: string;
  /**
   * Most connections this store opens, default 10. A worker uses one at a time; the API's requests
   * and the delivery lanes use the rest. Keep (processes × pool size) under the server's
   * `max_connections`, or put PgBouncer in front.
   */
  poolSize?: number;
  /** How long to wait for a connection to open (or for a free pooled one), ms. Default 10 000. */
  connectTimeoutMs?: number;
  /**
   * A schema to keep the tables in instead of the connection's default `search_path` (created by
   * `migrate()`); a plain lower-case identifier. Used by tests to give each store a clean schema.
   */
  schema?: string;
  /**
   * Where the ids the store assigns come from (events sent without an id, leases). Default:
   * time-ordered random ids, timed by the instant passed to the call (never the wall clock).
   */
  ids?: IdSource;
  /** Clock for `schema_migrations.applied_at` and delivery commands, the instants the store records on its own. */
  clock?: Clock;
  /** Shown in `pg_stat_activity.application_name`; default `waymark`. */
  applicationName?: string;
  /**
   * Where `watch()` opens its LISTEN connection; default `connectionString`. Point it at the
   * server itself (or a session-mode pool) when `connectionString` goes through PgBouncer in
   * transaction mode, which cannot hold a LISTEN.
   */
  listenConnectionString?: string;
}

/** Default size of the connection pool. */
export const DEFAULT_POOL_SIZE = 10;

/** Default visibility window of a claimed outbox entry, ms (the same as SQLite's). */
const DEFAULT_OUTBOX_LEASE_MS = 60_000;

/**
 * How many times a claim looks further down the pending log when other claimers hold the customers
 * it found first; each look is one more statement, so the number stays small.
 */
const CLAIM_ROUNDS = 3;

/** Statuses that mean a delivery was attempted, which stamps `sent_at` once. */
const ATTEMPTED: ReadonlySet<MessageStatus> = new Set<MessageStatus>([
  'sent',
  'delivered',
  'failed',
  'dead_lettered',
  'simulated',
]);

/** Opens the PostgreSQL store; connections are made on first use. Call `migrate()` before anything else. */
export function openPostgresStore(options: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(options);
}

/** `Store` on a PostgreSQL database, shared by any number of processes. */
export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  readonly #db: Queryable;
  readonly #where: string;
  readonly #schema: string | undefined;
  readonly #ids: IdSource | undefined;
  readonly #clock: Clock;
  readonly #listenAt: string;
  /** The LISTEN connection's URL without its password, for its error messages. */
  readonly #listenWhere: string;
  readonly #applicationName: string;
  readonly #channels: ChangeChannels;
  #schemaChecked = false;
  #closed = false;
  #lastIdleError: Error | null = null;
  readonly #watches = new Set<ChangeListener>();

  constructor(options: PostgresStoreOptions) {
    const url = parseDatabaseUrl(options.connectionString);
    if (options.schema !== undefined) checkSchemaName(options.schema);
    const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
    if (!Number.isInteger(poolSize) || poolSize < 1) {
      throw new InvalidInputError(`poolSize must be a positive integer, got ${poolSize}`);
    }
    this.#where = url.redacted;
    this.#schema = options.schema;
    this.#ids = options.ids;
    this.#clock = options.clock ?? systemClock;
    this.#listenAt = options.listenConnectionString ?? options.connectionString;
    this.#listenWhere =
      options.listenConnectionString === undefined
        ? url.redacted
        : parseDatabaseUrl(options.listenConnectionString).redacted;
    this.#applicationName = options.applicationName ?? 'waymark';
    this.#channels = changeChannels(options.schema);
    this.#pool = createPool(
      {
        connectionString: options.connectionString,
        max: poolSize,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
        schema: options.schema,
        applicationName: options.applicationName ?? 'waymark',
      },
      (error) => {
        this.#lastIdleError = error;
      },
    );
    this.#db = queryable(this.#pool);
  }

  /** The database as a URL without its password, for messages and logs. */
  get location(): string {
    return this.#where;
  }

  /** The schema the tables are in, when one was given. */
  get schema(): string | undefined {
    return this.#schema;
  }

  /** The last error of an idle pooled connection (a server restart, a network cut), or null. */
  get lastIdleError(): Error | null {
    return this.#lastIdleError;
  }

  /**
   * Runs a read-only query of the operator's own (diagnostics, tooling) on a pooled connection.
   * Writing through it bypasses the contract's guarantees.
   */
  async query<R extends pg.QueryResultRow>(text: string, values: readonly SqlValue[] = []) {
    this.#checkOpen();
    try {
      return (await this.#db.query<R>(text, values)).rows;
    } catch (error) {
      throw toStoreError(error, this.#where);
    }
  }

  migrate(): Promise<void> {
    return this.#attempt(async () => {
      this.#checkOpen();
      await applyMigrations(this.#pool, MIGRATIONS, this.#clock, this.#schema);
      this.#schemaChecked = false;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Watches end with the store: a listener left open would keep the process alive.
    await Promise.all([...this.#watches].map((watch) => watch.close()));
    this.#watches.clear();
    try {
      await this.#pool.end();
    } catch (error) {
      throw toStoreError(error, this.#where);
    }
  }

  // ---- ingestion -----------------------------------------------------------------------------

  appendEvents(events: readonly NewEvent[], receivedAt: Instant): Promise<AppendResult[]> {
    return this.#run(async () => {
      if (events.length === 0) return [];
      const ids = this.#ids ?? randomIds(() => receivedAt);
      return this.#transaction(async (db) => {
        const results = await appendInTransaction(db, events, receivedAt, ids, true);
        await db.query(SQL.notify, [this.#channels.events, '']);
        return results;
      });
    });
  }

  upsertCustomers(customers: readonly CustomerRecord[]): Promise<void> {
    return this.#run(async () => {
      if (customers.length === 0) return;
      await upsertCustomerRows(this.#db, customers);
    });
  }

  // ---- processing ----------------------------------------------------------------------------

  claimWork(options: ClaimOptions): Promise<WorkBatch | null> {
    return this.#run(() => {
      checkClaimOptions(options);
      return this.#transaction((db) => this.#claim(db, options));
    });
  }

  /**
   * Chooses customers, locks them, reads their work afresh, and leases those that got any.
   *
   * The semantics are SQLite's: pending events are taken in seq order up to `maxEvents`, and a
   * customer never gets a later event without the earlier ones; due timers are taken in due order
   * up to `maxTimers`, and a customer whose pending events did not all fit gets no timers (a timer
   * never overtakes events received before it); customers under a live lease are skipped.
   *
   * What changes is that others claim at the same time. Candidates are found first; their lease
   * rows are locked SKIP LOCKED (a customer another claim, a commit or an appender is busy with is
   * passed over, and the scan looks further down the log for a few rounds); and only then is each
   * locked customer's work read, so a batch never hands out events another worker committed between
   * the candidate scan and the lock.
   */
  async #claim(db: Queryable, options: ClaimOptions): Promise<WorkBatch | null> {
    const { now, maxEvents, maxTimers } = options;
    const locked: string[] = [];
    /** Candidates already decided: locked by this claim or held by someone else. */
    const passed = new Set<string>();

    let afterSeq = 0;
    let covered = 0;
    for (let round = 0; round < CLAIM_ROUNDS && covered < maxEvents; round++) {
      const window = await db.query<{ customer_id: string; events: number; last_seq: number }>(
        SQL.pendingEventCustomers,
        [now, afterSeq, [...passed], maxEvents - covered],
      );
      if (window.rows.length === 0) break;
      const got = await lockCustomers(
        db,
        window.rows.map((row) => row.customer_id),
        now,
      );
      for (const row of window.rows) {
        passed.add(row.customer_id);
        afterSeq = Math.max(afterSeq, row.last_seq);
        if (got.has(row.customer_id)) {
          locked.push(row.customer_id);
          covered += row.events;
        }
      }
      // Nobody was in the way: what the window held is the batch's share of the log.
      if (got.size === window.rows.length) break;
    }
    if (maxTimers > 0) {
      const due = await db.query<{ customer_id: string }>(SQL.dueTimerCustomers, [
        now,
        [...passed],
        maxTimers,
      ]);
      if (due.rows.length > 0) {
        const candidates = due.rows.map((row) => row.customer_id);
        const got = await lockCustomers(db, candidates, now);
        locked.push(...candidates.filter((id) => got.has(id)));
      }
    }
    if (locked.length === 0) return null;

    // The locked customers' work as it is now, under the locks.
    const events =
      maxEvents === 0
        ? []
        : (await db.query<EventRow>(SQL.pendingEventsOf, [locked, maxEvents])).rows;
    /** Customers with pending events this batch does not take: they take no timers. */
    const unfinished = new Set<string>();
    if (events.length === maxEvents) {
      const cut = events.at(-1)?.seq ?? 0;
      const left = await db.query<{ customer_id: string }>(SQL.customersWithEventsAfter, [
        locked,
        cut,
      ]);
      for (const row of left.rows) unfinished.add(row.customer_id);
    }
    const eligible = locked.filter((id) => !unfinished.has(id));
    const timers =
      maxTimers === 0 || eligible.length === 0
        ? []
        : (await db.query<TimerRow>(SQL.dueTimersOf, [now, eligible, maxTimers])).rows;

    const work = new Map<string, CustomerWork>();
    const entryOf = (customerId: string): CustomerWork => {
      let entry = work.get(customerId);
      if (entry === undefined) {
        entry = emptyWork(customerId);
        work.set(customerId, entry);
      }
      return entry;
    };
    for (const row of events) entryOf(row.customer_id).events.push(eventFromRow(row));
    for (const row of timers) entryOf(row.customer_id).timers.push(timerFromRow(row));
    // Locked customers without work are not leased: their row locks end with this transaction.
    if (work.size === 0) return null;

    const leaseId = (this.#ids ?? randomIds(() => now)).next('lease');
    const ids = [...work.keys()];
    await db.query(SQL.takeLeases, [leaseId, options.workerId, now, now + options.leaseMs, ids]);
    // Everything the customers bring: one statement per table for the whole batch.
    const [customers, enrollments, triggerStates, plans] = [
      await db.query<CustomerRow>(SQL.customersIn, [ids]),
      await db.query<EnrollmentRow>(SQL.workingEnrollmentsIn, [ids]),
      await db.query<{ customer_id: string; trigger_name: string; value: boolean }>(
        SQL.triggerStatesIn,
        [ids],
      ),
      await db.query<SchedulePlanRow>(SQL.schedulePlansIn, [ids]),
    ];
    for (const row of customers.rows) {
      const entry = work.get(row.id);
      if (entry) entry.customer = customerFromRow(row);
    }
    for (const row of enrollments.rows) {
      work.get(row.customer_id)?.enrollments.push(enrollmentFromRow(row));
    }
    for (const row of triggerStates.rows) {
      const entry = work.get(row.customer_id);
      if (entry) entry.triggerStates[row.trigger_name] = row.value;
    }
    for (const row of plans.rows) {
      work.get(row.customer_id)?.schedulePlans.push(schedulePlanFromRow(row));
    }
    if (options.contactsSince !== undefined) {
      const contacts = await db.query<{
        customer_id: string;
        channel: string;
        at: number;
        engaged: boolean;
      }>(SQL.contactsIn, [ids, options.contactsSince]);
      for (const row of contacts.rows) {
        work.get(row.customer_id)?.contacts.push({
          channel: row.channel,
          at: row.at,
          engaged: row.engaged,
        });
      }
    }
    return { leaseId, claimedAt: now, customers: [...work.values()] };
  }

  commitWork(batch: WorkBatch, result: WorkResult): Promise<void> {
    return this.#run(() =>
      this.#transaction(async (db) => {
        const customerIds = batch.customers.map((work) => work.customerId);
        // Fencing: if this batch's lease expired and another claim took over any of its customers,
        // that claim now owns their events. Writing ours as well would process them twice. The
        // rows stay locked until COMMIT, so no claim can take them over half-way either.
        const held = await db.query(SQL.holdLease, [customerIds, batch.leaseId]);
        if (held.rows.length !== customerIds.length) {
          throw new StoreError(
            'STORE_LEASE_LOST',
            `lease '${batch.leaseId}' no longer holds all its customers (${held.rows.length} of ${customerIds.length}); the batch was not committed`,
            { details: { leaseId: batch.leaseId } },
          );
        }
        await writeResult(db, batch, result);
        await db.query(SQL.dropLease, [customerIds, batch.leaseId]);
        await this.#notifyOutbox(db, result.outbox);
        // Last, so the journey-events commit lock is held only for this insert and the COMMIT.
        await insertJourneyEvents(db, result.journeyEvents);
      }),
    );
  }

  releaseWork(batch: WorkBatch): Promise<void> {
    return this.#run(async () => {
      const customerIds = batch.customers.map((work) => work.customerId);
      await this.#db.query(SQL.dropLease, [customerIds, batch.leaseId]);
    });
  }

  listUnplannedCustomers(
    triggerName: string,
    afterId: string | null,
    limit: number,
  ): Promise<CustomerRecord[]> {
    return this.#run(async () => {
      checkPageLimit(limit);
      const rows = await this.#db.query<CustomerRow>(SQL.unplannedCustomers, [
        afterId ?? '',
        triggerName,
        limit,
      ]);
      return rows.rows.map(customerFromRow);
    });
  }

  addSchedulePlans(
    entries: readonly { plan: SchedulePlanRecord; timer: TimerRecord | null }[],
  ): Promise<number> {
    return this.#run(async () => {
      if (entries.length === 0) return 0;
      return this.#transaction(async (db) => {
        const plans = entries.map((entry) => entry.plan);
        const written = await db.query<{ customer_id: string; trigger_name: string }>(
          SQL.insertSchedulePlans,
          planColumns(plans),
        );
        // The first entry of a (customer, trigger) is the one written; its timer goes with it.
        const writtenKeys = new Set(
          written.rows.map((row) => planKey(row.customer_id, row.trigger_name)),
        );
        const timers: TimerRecord[] = [];
        for (const { plan, timer } of entries) {
          const key = planKey(plan.customerId, plan.triggerName);
          if (!writtenKeys.delete(key)) continue;
          if (timer !== null) timers.push(timer);
        }
        if (timers.length > 0) {
          // Customers planned without ever sending an event have no lease row yet; a claim would
          // create it, but one statement here spares every first claim of them that detour.
          await db.query(SQL.ensureLeaseRows, [timers.map((t) => t.customerId)]);
          await insertTimers(db, timers);
        }
        return written.rows.length;
      });
    });
  }

  pruneTriggerExecutions(before: Instant, limit: number): Promise<number> {
    return this.#run(async () => {
      checkPageLimit(limit);
      return (await this.#db.query(SQL.pruneTriggerExecutions, [before, limit])).rowCount ?? 0;
    });
  }

  nextOutboxAvailableAt(): Promise<Instant | null> {
    return this.#run(async () => {
      const rows = await this.#db.query<{ available_at: number | null }>(SQL.nextOutboxAvailableAt);
      return rows.rows[0]?.available_at ?? null;
    });
  }

  nextTimerDueAt(): Promise<Instant | null> {
    return this.#run(async () => {
      const rows = await this.#db.query<{ due_at: number | null }>(SQL.nextTimerDueAt);
      return rows.rows[0]?.due_at ?? null;
    });
  }

  pendingEventCount(): Promise<number> {
    return this.#run(async () => {
      const rows = await this.#db.query<{ pending: number }>(SQL.pendingEventCount);
      return rows.rows[0]?.pending ?? 0;
    });
  }

  // ---- outbox --------------------------------------------------------------------------------

  claimOutbox(options: {
    now: Instant;
    limit: number;
    kinds?: readonly OutboxKind[];
    lanes?: readonly string[];
    leaseMs?: number;
  }): Promise<OutboxEntry[]> {
    return this.#run(async () => {
      checkPageLimit(options.limit);
      const kinds = options.kinds === undefined ? null : [...options.kinds];
      const heldUntil = options.now + (options.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS);
      const params: SqlValue[] = [options.now, kinds, options.limit, heldUntil];
      const rows =
        options.lanes === undefined
          ? await this.#db.query<OutboxRow & { was_available_at: number }>(SQL.claimOutbox, params)
          : await this.#db.query<OutboxRow & { was_available_at: number }>(SQL.claimOutboxInLanes, [
              ...params,
              [...options.lanes],
            ]);
      // RETURNING has no order: oldest first, as they stood before the claim moved them.
      return rows.rows
        .sort((a, b) => a.was_available_at - b.was_available_at || a.seq - b.seq)
        .map((row) => outboxFromRow(row));
    });
  }

  completeOutbox(seqs: readonly number[]): Promise<void> {
    return this.#run(async () => {
      if (seqs.length === 0) return;
      await this.#db.query(SQL.completeOutbox, [[...seqs]]);
    });
  }

  readJourneyEventsFor(consumer: string, limit: number): Promise<JourneyEventRecord[]> {
    return this.#run(async () => {
      checkPageLimit(limit);
      const rows = await this.#db.query<JourneyEventRow>(SQL.journeyEventsAfterCursor, [
        consumer,
        limit,
      ]);
      return rows.rows.map(journeyEventFromRow);
    });
  }

  advanceCursor(consumer: string, seq: number): Promise<void> {
    return this.#run(async () => {
      await this.#db.query(SQL.advanceCursor, [consumer, seq]);
    });
  }

  holdRole(role: string, holder: string, now: Instant, leaseMs: number): Promise<boolean> {
    return this.#run(async () => {
      if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
        throw new InvalidInputError(`leaseMs must be a positive number, got ${leaseMs}`);
      }
      const rows = await this.#db.query(SQL.holdRole, [role, holder, now + leaseMs, now]);
      return rows.rows.length > 0;
    });
  }

  releaseRole(role: string, holder: string): Promise<void> {
    return this.#run(async () => {
      await this.#db.query(SQL.releaseRole, [role, holder]);
    });
  }

  /**
   * Hears the changes every process commits, by LISTEN on a connection of its own (not one of the
   * pool's; see `notifications.ts`). It reconnects by itself; `onListening` reports each loss and
   * each return, when a caller should poll once for what it may have missed.
   */
  watch(
    onChange: (change: StoreChange) => void,
    onListening: (listening: boolean, error: Error | null) => void = () => undefined,
  ): StoreWatch {
    this.#checkOpen();
    const listener = new ChangeListener({
      connectionString: this.#listenAt,
      channels: this.#channels,
      applicationName: `${this.#applicationName}-listen`,
      onChange,
      onListening: (listening, error) => {
        onListening(listening, error === null ? null : toStoreError(error, this.#listenWhere));
      },
    });
    this.#watches.add(listener);
    return {
      get listening() {
        return listener.listening;
      },
      close: async () => {
        this.#watches.delete(listener);
        await listener.close();
      },
    };
  }

  /** Wakes the lanes of the outbox entries a transaction adds (at its commit). */
  async #notifyOutbox(db: Queryable, entries: readonly OutboxEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const messages = entries.filter((entry) => entry.kind === 'message');
    // A message entry without a lane is claimed by any lane: wake them all.
    const lanes = messages.every((entry) => entry.lane != null)
      ? messages.map((entry) => entry.lane ?? '')
      : null;
    const others = entries.some((entry) => entry.kind !== 'message');
    await db.query(SQL.notify, [this.#channels.outbox, outboxPayload(lanes, others)]);
  }

  recordDeliveryOutcomes(outcomes: DeliveryOutcomes): Promise<void> {
    return this.#run(() =>
      this.#transaction(async (db) => {
        const deliveries = foldDeliveries(outcomes.messages);
        if (deliveries.length > 0) {
          await db.query(SQL.updateDeliveries, [
            deliveries.map((d) => d.messageId),
            deliveries.map((d) => d.status),
            deliveries.map((d) => d.at),
            deliveries.map((d) => d.error),
            deliveries.map((d) => d.attempts),
            deliveries.map((d) => d.provider),
            deliveries.map((d) => d.providerMessageId),
            deliveries.map((d) => d.firstAttemptAt),
          ]);
        }
        if (outcomes.completed.length > 0) {
          await db.query(SQL.completeOutbox, [[...outcomes.completed]]);
        }
        const retries = foldRetries(outcomes.retries);
        if (retries.length > 0) {
          await db.query(SQL.retryOutbox, [
            retries.map((r) => r.seq),
            retries.map((r) => r.attempts),
            retries.map((r) => r.error),
            retries.map((r) => r.at),
            retries.map((r) => (r.payload === null ? null : toJson(r.payload))),
          ]);
        }
        if (outcomes.deadLetters.length > 0) {
          const d = outcomes.deadLetters;
          await db.query(SQL.insertDeadLetters, [
            d.map((x) => x.id),
            d.map((x) => x.messageId),
            d.map((x) => x.customerId),
            d.map((x) => x.channel),
            d.map((x) => toJson(x.originalMessage)),
            d.map((x) => x.failureReason),
            d.map((x) => x.category),
            d.map((x) => x.attemptCount),
            d.map((x) => x.firstAttemptAt),
            d.map((x) => x.lastAttemptAt),
            d.map((x) => x.status),
            d.map((x) => x.createdAt),
            d.map((x) => x.updatedAt),
          ]);
        }
        await upsertAlerts(db, outcomes.alerts);
        if (outcomes.commands.length > 0) {
          const receivedAt = this.#clock.now();
          const ids = this.#ids ?? randomIds(() => receivedAt);
          await appendInTransaction(db, outcomes.commands, receivedAt, ids, false);
          await db.query(SQL.notify, [this.#channels.events, '']);
        }
        await insertJourneyEvents(db, outcomes.journeyEvents);
      }),
    );
  }

  failOutbox(seq: number, error: string, retryAt: Instant | null): Promise<void> {
    return this.#run(async () => {
      await this.#db.query(SQL.failOutbox, [error, retryAt, seq]);
    });
  }

  // ---- messages and tasks --------------------------------------------------------------------

  getMessage(id: string): Promise<MessageRecord | null> {
    return this.#one<MessageRow, MessageRecord>(SQL.message, [id], messageFromRow);
  }

  findMessageByProviderId(providerMessageId: string): Promise<MessageRecord | null> {
    return this.#one<MessageRow, MessageRecord>(
      SQL.messageByProviderId,
      [providerMessageId],
      messageFromRow,
    );
  }

  listInbox(filter: InboxFilter): Promise<PageResult<MessageRecord>> {
    return this.#run(async () => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('customer_id', filter.customerId)
        .oneOf('channel', filter.channels)
        .oneOf('status', ['sent', 'delivered'])
        .raw((p) => `(expires_at IS NULL OR expires_at > ${instant(p(filter.now))})`)
        .raw(() => (filter.unreadOnly === true ? 'read_at IS NULL' : null))
        .keyset('<', KEYS.createdAtId, filter.cursor);
      const rows = await this.#list<MessageRow>(
        'messages',
        where,
        'created_at DESC, id DESC',
        filter.limit + 1,
      );
      return toPage(rows.map(messageFromRow), filter.limit, (m) => [m.createdAt, m.id]);
    });
  }

  getTask(id: string): Promise<TaskRecord | null> {
    return this.#one<TaskRow, TaskRecord>(SQL.task, [id], taskFromRow);
  }

  closeTask(
    id: string,
    change: { status: 'done' | 'cancelled'; at: Instant; by: string | null },
  ): Promise<TaskRecord | null> {
    return this.#one<TaskRow, TaskRecord>(
      SQL.closeTask,
      [change.status, change.at, change.by, id],
      taskFromRow,
    );
  }

  // ---- throughput ----------------------------------------------------------------------------

  takeTokens(buckets: readonly TokenBucket[], want: number, now: Instant): Promise<number> {
    return this.#run(async () => {
      if (buckets.length === 0) return Math.max(0, want);
      // One definition per name (the last), as a sequence of single-bucket writes would leave it.
      const byName = new Map(buckets.map((bucket) => [bucket.name, bucket]));
      const names = [...byName.keys()];
      return this.#transaction(async (db) => {
        await db.query(SQL.ensureRateBuckets, [
          names,
          names.map((name) => byName.get(name)?.capacity ?? 0),
          now,
        ]);
        // Locked in name order: two processes taking overlapping sets cannot deadlock.
        const rows = await db.query<{ bucket: string; tokens: number; updated_at: number }>(
          SQL.lockRateBuckets,
          [names],
        );
        const stored = new Map(rows.rows.map((row) => [row.bucket, row]));
        const levels = names.map((name) => {
          const bucket = byName.get(name);
          const row = stored.get(name);
          if (bucket === undefined || row === undefined) {
            throw new StoreError('STORE_FAILED', `token bucket '${name}' vanished while locked`);
          }
          const refill = bucket.capacity / bucket.windowMs;
          // A clock that went backwards refills nothing rather than draining the bucket.
          const elapsed = Math.max(0, now - row.updated_at);
          return { name, tokens: Math.min(bucket.capacity, row.tokens + elapsed * refill) };
        });
        const granted = Math.max(
          0,
          Math.min(want, ...levels.map((level) => Math.floor(level.tokens))),
        );
        await db.query(SQL.saveRateBuckets, [
          levels.map((level) => level.name),
          levels.map((level) => level.tokens - granted),
          now,
        ]);
        return granted;
      });
    });
  }

  // ---- dead letters --------------------------------------------------------------------------

  listDeadLetters(filter: DeadLetterFilter): Promise<PageResult<DeadLetterRecord>> {
    return this.#run(async () => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('status', filter.status)
        .equal('customer_id', filter.customerId)
        .keyset('>', KEYS.createdAtId, filter.cursor);
      const rows = await this.#list<DeadLetterRow>(
        'dead_letters',
        where,
        'created_at, id',
        filter.limit + 1,
      );
      return toPage(rows.map(deadLetterFromRow), filter.limit, (d) => [d.createdAt, d.id]);
    });
  }

  getDeadLetter(id: string): Promise<DeadLetterRecord | null> {
    return this.#one<DeadLetterRow, DeadLetterRecord>(SQL.deadLetter, [id], deadLetterFromRow);
  }

  transitionDeadLetter(
    id: string,
    change: {
      from: readonly DeadLetterStatus[];
      to: DeadLetterStatus;
      at: Instant;
      retryMessageId?: string | null;
      command?: NewEvent;
    },
  ): Promise<DeadLetterRecord | null> {
    return this.#run(() =>
      this.#transaction(async (db) => {
        const current = await db.query<DeadLetterRow>(SQL.deadLetterForUpdate, [id]);
        const row = current.rows[0];
        if (row === undefined || !change.from.includes(row.status)) return null;
        const updated = await db.query<DeadLetterRow>(SQL.transitionDeadLetter, [
          change.to,
          change.at,
          change.retryMessageId ?? null,
          id,
        ]);
        if (change.command !== undefined) {
          const ids = this.#ids ?? randomIds(() => change.at);
          await appendInTransaction(db, [change.command], change.at, ids, false);
          await db.query(SQL.notify, [this.#channels.events, '']);
        }
        const after = updated.rows[0];
        return after === undefined ? null : deadLetterFromRow(after);
      }),
    );
  }

  // ---- decisions and models ------------------------------------------------------------------

  appendDecisions(decisions: readonly DecisionRecord[]): Promise<void> {
    return this.#run(async () => {
      // One statement: all or none without a transaction of its own.
      await insertDecisions(this.#db, decisions);
    });
  }

  registerModel(
    model: Omit<ModelRecord, 'version'>,
    options: RegisterModelOptions = {},
  ): Promise<ModelRecord> {
    return this.#run(async () => {
      checkModelRegistration(model.name, options);
      return this.#transaction(async (db) => {
        // Two registrations of one name would otherwise both read version N and both write N + 1.
        await db.query(SQL.modelLock, [MODEL_LOCK_CLASS, model.name]);
        const next = await db.query<{ version: number }>(SQL.nextModelVersion, [model.name]);
        const version = next.rows[0]?.version ?? 1;
        if (options.after !== undefined && version !== options.after + 1) {
          throw modelVersionConflict(model.name, options.after, version - 1);
        }
        const stored = await db.query<ModelRow>(SQL.insertModel, [
          model.name,
          version,
          model.kind,
          model.createdAt,
          toJson(model.body),
          toJson(model.metrics),
          model.source,
        ]);
        const row = stored.rows[0];
        if (row === undefined) throw new StoreError('STORE_FAILED', 'the model was not stored');
        if (options.keep !== undefined) {
          await db.query(SQL.pruneModels, [model.name, version - options.keep]);
        }
        return modelFromRow(row);
      });
    });
  }

  getModel(name: string, version?: number): Promise<ModelRecord | null> {
    return version === undefined
      ? this.#one<ModelRow, ModelRecord>(SQL.latestModel, [name], modelFromRow)
      : this.#one<ModelRow, ModelRecord>(SQL.modelVersion, [name, version], modelFromRow);
  }

  listModels(filter: { name?: string; latestOnly?: boolean }): Promise<ModelRecord[]> {
    return this.#run(async () => {
      const rows =
        filter.name === undefined
          ? await this.#db.query<ModelRow>(SQL.allModels)
          : await this.#db.query<ModelRow>(SQL.modelsNamed, [filter.name]);
      const models = rows.rows.map(modelFromRow);
      if (filter.latestOnly !== true) return models;
      // Rows come newest first within a name: the first of each name is its newest.
      return firstByKey(models, (m) => m.name);
    });
  }

  // ---- journeys ------------------------------------------------------------------------------

  saveJourneyVersion(
    journeyId: string,
    definition: JsonObject,
    hash: string,
    now: Instant,
  ): Promise<{ version: number; created: boolean }> {
    return this.#run(() =>
      this.#transaction(async (db) => {
        // Two servers starting with the same config would otherwise both write version N + 1.
        await db.query(SQL.journeyLock, [JOURNEY_LOCK_CLASS, journeyId]);
        const state = (await db.query<JourneyStateRow>(SQL.journeyState, [journeyId])).rows[0];
        if (state !== undefined) {
          const current = await db.query<JourneyVersionRow>(SQL.journeyVersion, [
            journeyId,
            state.current_version,
          ]);
          if (current.rows[0]?.hash === hash) {
            return { version: state.current_version, created: false };
          }
        }
        // Versions only grow: re-saving an older definition makes a new version, so every
        // enrollment's `journey_version` keeps pointing at exactly what it ran.
        const latest = await db.query<{ version: number | null }>(SQL.latestJourneyVersion, [
          journeyId,
        ]);
        const version = (latest.rows[0]?.version ?? 0) + 1;
        await db.query(SQL.setCurrentVersion, [journeyId, version, now]);
        await db.query(SQL.insertJourneyVersion, [
          journeyId,
          version,
          hash,
          toJson(definition),
          now,
        ]);
        return { version, created: true };
      }),
    );
  }

  getJourneyVersion(journeyId: string, version: number): Promise<JourneyVersionRecord | null> {
    return this.#one<JourneyVersionRow, JourneyVersionRecord>(
      SQL.journeyVersion,
      [journeyId, version],
      journeyVersionFromRow,
    );
  }

  listJourneyVersions(journeyId: string): Promise<JourneyVersionRecord[]> {
    return this.#run(async () =>
      (await this.#db.query<JourneyVersionRow>(SQL.journeyVersions, [journeyId])).rows.map(
        journeyVersionFromRow,
      ),
    );
  }

  getJourneyState(journeyId: string): Promise<JourneyStateRecord | null> {
    return this.#one<JourneyStateRow, JourneyStateRecord>(
      SQL.journeyState,
      [journeyId],
      journeyStateFromRow,
    );
  }

  listJourneyStates(): Promise<JourneyStateRecord[]> {
    return this.#run(async () =>
      (await this.#db.query<JourneyStateRow>(SQL.journeyStates)).rows.map(journeyStateFromRow),
    );
  }

  setJourneyStatus(journeyId: string, status: 'active' | 'paused', now: Instant): Promise<void> {
    return this.#run(async () => {
      const updated = await this.#db.query(SQL.setJourneyStatus, [status, now, journeyId]);
      if (updated.rowCount === 0) throw new NotFoundError('journey', journeyId);
    });
  }

  // ---- reads ---------------------------------------------------------------------------------

  getCustomer(customerId: string): Promise<CustomerRecord | null> {
    return this.#one<CustomerRow, CustomerRecord>(SQL.customerById, [customerId], customerFromRow);
  }

  listCustomers(page: Page): Promise<PageResult<CustomerRecord>> {
    return this.#run(async () => {
      checkPageLimit(page.limit);
      const rows =
        page.cursor === undefined
          ? await this.#db.query<CustomerRow>(SQL.customersFirst, [page.limit + 1])
          : await this.#db.query<CustomerRow>(SQL.customersAfter, [
              String(decodeCursor(page.cursor, ['string'])[0]),
              page.limit + 1,
            ]);
      return toPage(rows.rows.map(customerFromRow), page.limit, (customer) => [customer.id]);
    });
  }

  getEvent(id: string): Promise<StoredEvent | null> {
    return this.#one<EventRow, StoredEvent>(SQL.eventById, [id], eventFromRow);
  }

  getEnrollment(id: string): Promise<EnrollmentRecord | null> {
    return this.#one<EnrollmentRow, EnrollmentRecord>(SQL.enrollmentById, [id], enrollmentFromRow);
  }

  listEnrollments(filter: EnrollmentFilter): Promise<PageResult<EnrollmentRecord>> {
    return this.#run(async () => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('journey_id', filter.journeyId)
        .equal('customer_id', filter.customerId)
        .equal('status', filter.status)
        .keyset('>', KEYS.enrolledAtId, filter.cursor);
      const rows = await this.#list<EnrollmentRow>(
        'journey_enrollments',
        where,
        'enrolled_at, id',
        filter.limit + 1,
      );
      return toPage(rows.map(enrollmentFromRow), filter.limit, (e) => [e.enrolledAt, e.id]);
    });
  }

  listContacts(customerId: string, since: Instant): Promise<ContactRecord[]> {
    return this.#run(async () => {
      const result = await this.#db.query<{ channel: string; at: number; engaged: boolean }>(
        SQL.contactsOf,
        [customerId, since],
      );
      return result.rows.map((row) => ({ channel: row.channel, at: row.at, engaged: row.engaged }));
    });
  }

  listMessages(filter: MessageFilter): Promise<PageResult<MessageRecord>> {
    return this.#run(async () => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('customer_id', filter.customerId)
        .equal('journey_id', filter.journeyId)
        .equal('channel', filter.channel)
        .equal('status', filter.status)
        .keyset('>', KEYS.createdAtId, filter.cursor);
      const rows = await this.#list<MessageRow>(
        'messages',
        where,
        'created_at, id',
        filter.limit + 1,
      );
      return toPage(rows.map(messageFromRow), filter.limit, (m) => [m.createdAt, m.id]);
    });
  }

  listJourneyEvents(filter: JourneyEventFilter): Promise<PageResult<JourneyEventRecord>> {
    return this.#run(async () => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('customer_id', filter.customerId)
        .equal('journey_id', filter.journeyId)
        .equal('type', filter.type)
        .keyset('>', KEYS.seq, filter.cursor);
      const rows = await this.#list<JourneyEventRow>(
        'journey_events',
        where,
        'seq',
        filter.limit + 1,
      );
      return toPage(rows.map(journeyEventFromRow), filter.limit, (e) => [e.seq ?? 0]);
    });
  }

  listTimers(filter: {
    customerId?: string;
    enrollmentId?: string;
    status?: string;
  }): Promise<TimerRecord[]> {
    return this.#run(async () => {
      const where = new Conditions()
        .equal('customer_id', filter.customerId)
        .equal('enrollment_id', filter.enrollmentId)
        .equal('status', filter.status);
      return (await this.#list<TimerRow>('timers', where, 'due_at, id', null)).map(timerFromRow);
    });
  }

  listDecisions(filter: {
    customerId: string;
    kind?: string;
    limit: number;
  }): Promise<DecisionRecord[]> {
    return this.#run(async () => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('customer_id', filter.customerId)
        .equal('kind', filter.kind);
      const rows = await this.#list<DecisionRow>(
        'decisions',
        where,
        'at DESC, id DESC',
        filter.limit,
      );
      return rows.map(decisionFromRow);
    });
  }

  listTasks(filter: {
    customerId?: string;
    status?: TaskRecord['status'];
    limit: number;
  }): Promise<TaskRecord[]> {
    return this.#run(async () => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('customer_id', filter.customerId)
        .equal('status', filter.status);
      const rows = await this.#list<TaskRow>(
        'tasks',
        where,
        'created_at DESC, id DESC',
        filter.limit,
      );
      return rows.map(taskFromRow);
    });
  }

  listAlerts(filter: { status?: AlertRecord['status']; limit: number }): Promise<AlertRecord[]> {
    return this.#run(async () => {
      checkPageLimit(filter.limit);
      const where = new Conditions().equal('status', filter.status);
      const rows = await this.#list<AlertRow>(
        'alerts',
        where,
        'created_at DESC, id DESC',
        filter.limit,
      );
      return rows.map(alertFromRow);
    });
  }

  listTriggerExecutions(filter: {
    triggerName?: string;
    limit: number;
  }): Promise<TriggerExecutionRecord[]> {
    return this.#run(async () => {
      checkPageLimit(filter.limit);
      const where = new Conditions().equal('trigger_name', filter.triggerName);
      const rows = await this.#list<TriggerExecutionRow>(
        'trigger_executions',
        where,
        'executed_at DESC, id DESC',
        filter.limit,
      );
      return rows.map(triggerExecutionFromRow);
    });
  }

  countRuleFires(customerId: string, since: Instant): Promise<Record<string, number>> {
    return this.#run(async () => {
      const rows = await this.#db.query<{ rule_id: string; fires: number }>(SQL.ruleFireCounts, [
        customerId,
        since,
      ]);
      const counts: Record<string, number> = {};
      for (const row of rows.rows) counts[row.rule_id] = row.fires;
      return counts;
    });
  }

  journeyCounts(): Promise<JourneyCounts[]> {
    return this.#run(async () => {
      const counts = new Map<string, JourneyCounts>();
      const of = (journeyId: string): JourneyCounts => {
        let entry = counts.get(journeyId);
        if (entry === undefined) {
          entry = {
            journeyId,
            byStatus: { active: 0, completed: 0, exited: 0 },
            activeByStage: {},
          };
          counts.set(journeyId, entry);
        }
        return entry;
      };
      // Journeys without enrollments are listed too, with zeros: a dashboard shows them all.
      for (const state of (await this.#db.query<JourneyStateRow>(SQL.journeyStates)).rows) {
        of(state.journey_id);
      }
      const byStatus = await this.#db.query<{
        journey_id: string;
        status: EnrollmentRow['status'];
        enrollments: number;
      }>(SQL.enrollmentCountsByStatus);
      for (const row of byStatus.rows) of(row.journey_id).byStatus[row.status] = row.enrollments;
      const byStage = await this.#db.query<{
        journey_id: string;
        stage: string;
        enrollments: number;
      }>(SQL.activeCountsByStage);
      for (const row of byStage.rows) {
        of(row.journey_id).activeByStage[row.stage] = row.enrollments;
      }
      return [...counts.values()].sort((a, b) =>
        a.journeyId < b.journeyId ? -1 : a.journeyId > b.journeyId ? 1 : 0,
      );
    });
  }

  // ---- plumbing ------------------------------------------------------------------------------

  /** Runs a listing whose WHERE clause depends on which filters are set; values are always bound. */
  async #list<R extends pg.QueryResultRow>(
    table: string,
    where: Conditions,
    orderBy: string,
    limit: number | null,
  ): Promise<R[]> {
    const params = [...where.params];
    let sql =
      `SELECT * FROM ${table}` +
      (where.clauses.length === 0 ? '' : ` WHERE ${where.clauses.join(' AND ')}`) +
      ` ORDER BY ${orderBy}`;
    if (limit !== null) {
      params.push(limit);
      sql += ` LIMIT $${params.length}`;
    }
    return (await this.#db.query<R>(sql, params)).rows;
  }

  /** One row mapped to its record, or null. */
  // The row type is the caller's declaration of its SQL's row (see `Queryable`).
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  #one<R extends pg.QueryResultRow, T>(
    sql: string,
    params: readonly SqlValue[],
    map: (row: R) => T,
  ): Promise<T | null> {
    return this.#run(async () => {
      const row = (await this.#db.query<R>(sql, params)).rows[0];
      return row === undefined ? null : map(row);
    });
  }

  #transaction<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, work);
  }

  /** Runs a unit of work once the schema is known to be current, with store errors. */
  #run<T>(work: () => Promise<T>): Promise<T> {
    return this.#attempt(async () => {
      await this.#ready();
      return work();
    });
  }

  async #attempt<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toStoreError(error, this.#where);
    }
  }

  /** Checks the schema version on first use (and again after a failed check or a migration). */
  async #ready(): Promise<void> {
    this.#checkOpen();
    if (this.#schemaChecked) return;
    const version = await schemaVersion(this.#db);
    if (version !== LATEST_SCHEMA_VERSION) {
      throw new StoreError(
        version < LATEST_SCHEMA_VERSION ? 'STORE_NOT_MIGRATED' : 'STORE_SCHEMA_TOO_NEW',
        `the database at ${this.#where} is at schema version ${version}, this Waymark needs ${LATEST_SCHEMA_VERSION}` +
          (version < LATEST_SCHEMA_VERSION ? '; run `waymark migrate`' : ''),
        { details: { databaseVersion: version, knownVersion: LATEST_SCHEMA_VERSION } },
      );
    }
    this.#schemaChecked = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'the store has been closed');
  }
}

// ---- writes shared by several methods ----------------------------------------------------------

/**
 * Appends events inside the caller's transaction.
 *
 * Duplicates within the call are settled here (a second event with a key, or a given id, already in
 * the call is not sent), duplicates of stored events by the database (`ON CONFLICT DO NOTHING`);
 * the key decides first, as it is the caller's dedupe intent. With `report` false (commands the
 * engine writes for itself) nothing is looked up: a duplicate is simply not stored again.
 */
async function appendInTransaction(
  db: Queryable,
  events: readonly NewEvent[],
  receivedAt: Instant,
  ids: IdSource,
  report: boolean,
): Promise<AppendResult[]> {
  const assigned: string[] = [];
  /** Positions of the events sent to the database: the first of each key and of each id. */
  const sentAt = new Set<number>();
  const sent: NewEvent[] = [];
  const sentIds: string[] = [];
  const seenKeys = new Set<string>();
  const seenIds = new Set<string>();
  events.forEach((event, i) => {
    const id = event.id ?? ids.next('evt');
    assigned.push(id);
    const key = event.idempotencyKey;
    if ((key !== undefined && seenKeys.has(key)) || seenIds.has(id)) return;
    if (key !== undefined) seenKeys.add(key);
    seenIds.add(id);
    sentAt.add(i);
    sent.push(event);
    sentIds.push(id);
  });
  await holdForAppend(
    db,
    sent.map((event) => event.customerId),
  );
  const inserted = await db.query<{ seq: number; id: string }>(SQL.insertEvents, [
    sentIds,
    sent.map((event) => event.idempotencyKey ?? null),
    sent.map((event) => event.customerId),
    sent.map((event) => event.type),
    sent.map((event) => event.occurredAt),
    sent.map((event) => toJson(event.payload)),
    receivedAt,
  ]);
  if (!report) return [];
  // Sent ids are distinct, so an id RETURNING names belongs to exactly one sent position.
  const seqOf = new Map(inserted.rows.map((row) => [row.id, row.seq]));
  const accepted = new Set([...sentAt].filter((i) => seqOf.has(assigned[i] ?? '')));
  const byKey = new Map<string, { seq: number; id: string }>();
  const byId = new Map<string, { seq: number; id: string }>();
  if (accepted.size < events.length) {
    const others = events.filter((_, i) => !accepted.has(i));
    const refs = await db.query<{ seq: number; id: string; idempotency_key: string | null }>(
      SQL.eventRefs,
      [
        others.flatMap((event) =>
          event.idempotencyKey === undefined ? [] : [event.idempotencyKey],
        ),
        others.flatMap((event) => (event.id === undefined ? [] : [event.id])),
      ],
    );
    for (const ref of refs.rows) {
      if (ref.idempotency_key !== null) byKey.set(ref.idempotency_key, ref);
      byId.set(ref.id, ref);
    }
  }
  return events.map((event, i): AppendResult => {
    const id = assigned[i] ?? '';
    if (accepted.has(i)) return { status: 'accepted', id, seq: seqOf.get(id) ?? 0 };
    const original =
      (event.idempotencyKey === undefined ? undefined : byKey.get(event.idempotencyKey)) ??
      (event.id === undefined ? undefined : byId.get(event.id));
    if (original === undefined) {
      throw new StoreError(
        'STORE_CONFLICT',
        `the id source produced an event id that already exists: '${id}'`,
        { details: { id } },
      );
    }
    return { status: 'duplicate', id: original.id, seq: original.seq };
  });
}

/**
 * Holds the customers' lease rows (creating missing ones) FOR KEY SHARE until the caller's
 * transaction ends, before any of their events is inserted: see the class comment.
 */
async function holdForAppend(db: Queryable, customerIds: readonly string[]): Promise<void> {
  if (customerIds.length === 0) return;
  const distinct = [...new Set(customerIds)];
  await db.query(SQL.ensureLeaseRows, [distinct]);
  // A new statement, so a row another appender created (and committed) meanwhile is seen and held.
  await db.query(SQL.holdForAppend, [distinct]);
}

/**
 * Locks the lease rows of free candidates (SKIP LOCKED) and returns who was locked. A candidate
 * without a row (work that never went through an append: a timer written for another customer)
 * gets one, which this transaction then holds.
 */
async function lockCustomers(
  db: Queryable,
  candidates: readonly string[],
  now: Instant,
): Promise<Set<string>> {
  const rows = await db.query<{ customer_id: string }>(SQL.lockFreeLeases, [[...candidates], now]);
  const got = new Set(rows.rows.map((row) => row.customer_id));
  if (got.size < candidates.length) {
    const missing = candidates.filter((id) => !got.has(id));
    const existing = await db.query<{ customer_id: string }>(SQL.existingLeaseRows, [missing]);
    const present = new Set(existing.rows.map((row) => row.customer_id));
    const absent = missing.filter((id) => !present.has(id));
    if (absent.length > 0) {
      const created = await db.query<{ customer_id: string }>(SQL.insertLeaseRows, [absent]);
      for (const row of created.rows) got.add(row.customer_id);
    }
  }
  return got;
}

/** Writes a whole `WorkResult` except its journey events; runs inside the caller's transaction. */
async function writeResult(db: Queryable, batch: WorkBatch, result: WorkResult): Promise<void> {
  // An event's processed_at is when its batch was claimed: the contract passes no commit instant,
  // and the store never reads a clock of its own.
  const processedAt = batch.claimedAt;
  if (result.processedEventSeqs.length > 0) {
    await db.query(SQL.markEventsProcessed, [processedAt, [...result.processedEventSeqs]]);
  }
  const failed = firstByKey(result.failedEvents, (f) => String(f.seq));
  if (failed.length > 0) {
    await db.query(SQL.markEventsFailed, [
      processedAt,
      failed.map((f) => f.seq),
      failed.map((f) => f.error),
    ]);
  }
  // A fired timer that is due again is one UPDATE (new due time, still pending), not two.
  const fired = new Set(result.firedTimerIds);
  const rescheduled = result.timersToReschedule.filter((t) => fired.delete(t.id));
  if (rescheduled.length > 0) {
    await db.query(SQL.rescheduleTimers, [
      rescheduled.map((t) => t.id),
      rescheduled.map((t) => t.dueAt),
      rescheduled.map((t) => toJson(t.payload)),
    ]);
  }
  if (fired.size > 0) await db.query(SQL.fireTimers, [[...fired]]);
  if (result.customerDeletes.length > 0) {
    await db.query(SQL.deleteCustomers, [[...result.customerDeletes]]);
  }
  if (result.customerUpserts.length > 0) await upsertCustomerRows(db, result.customerUpserts);
  const enrollments = lastByKey(result.enrollmentUpserts, (e) => e.id);
  if (enrollments.length > 0) {
    await db.query(SQL.upsertEnrollments, [
      JSON.stringify(
        enrollments.map((e) => ({
          id: e.id,
          journey_id: e.journeyId,
          journey_version: e.journeyVersion,
          customer_id: e.customerId,
          status: e.status,
          stage: e.stage,
          step_id: e.stepId,
          state: e.state,
          holdout: e.holdout,
          enrolled_at: e.enrolledAt,
          updated_at: e.updatedAt,
          ended_at: e.endedAt,
          exit_reason: e.exitReason,
        })),
      ),
    ]);
  }
  if (result.timersToAdd.length > 0) await insertTimers(db, result.timersToAdd);
  // After the inserts: a timer added and cancelled by the same batch ends cancelled.
  if (result.timerIdsToCancel.length > 0) {
    await db.query(SQL.cancelTimers, [[...result.timerIdsToCancel]]);
  }
  const m = result.messages;
  if (m.length > 0) {
    await db.query(SQL.insertMessages, [
      JSON.stringify(
        m.map((x) => ({
          id: x.id,
          customer_id: x.customerId,
          journey_id: x.journeyId,
          enrollment_id: x.enrollmentId,
          step_id: x.stepId,
          channel: x.channel,
          priority: x.priority,
          status: x.status,
          content: x.content,
          key: x.idempotencyKey,
          created_at: x.createdAt,
          sent_at: x.sentAt,
          updated_at: x.updatedAt,
          error: x.error,
          send_at: x.sendAt === undefined ? x.createdAt : x.sendAt,
          expires_at: x.expiresAt ?? null,
        })),
      ),
    ]);
  }
  const updates = foldMessageUpdates(result.messageUpdates);
  if (updates.length > 0) {
    await db.query(SQL.updateMessages, [
      updates.map((u) => u.messageId),
      updates.map((u) => u.status),
      updates.map((u) => u.error),
      updates.map((u) => u.at),
      updates.map((u) => u.readAt),
      updates.map((u) => u.engagedAt),
    ]);
  }
  const o = result.outbox;
  if (o.length > 0) {
    await db.query(SQL.insertOutbox, [
      o.map((x) => x.kind),
      o.map((x) => x.key),
      o.map((x) => toJson(x.payload)),
      o.map((x) => x.availableAt),
      o.map((x) => x.attempts),
      o.map((x) => x.status),
      o.map((x) => x.lane ?? null),
    ]);
  }
  const x = result.triggerExecutions;
  if (x.length > 0) {
    await db.query(SQL.insertTriggerExecutions, [
      x.map((e) => e.triggerName),
      x.map((e) => e.customerId),
      x.map((e) => e.eventSeq),
      x.map((e) => e.executedAt),
      x.map((e) => e.processingTimeMs),
      x.map((e) => e.fired),
    ]);
  }
  const plans = lastByKey(result.schedulePlans, (p) => planKey(p.customerId, p.triggerName));
  if (plans.length > 0) await db.query(SQL.upsertSchedulePlans, planColumns(plans));
  const states = lastByKey(result.triggerStates, (s) => planKey(s.customerId, s.triggerName));
  if (states.length > 0) {
    await db.query(SQL.upsertTriggerStates, [
      states.map((s) => s.customerId),
      states.map((s) => s.triggerName),
      states.map((s) => s.value),
    ]);
  }
  const fires = result.ruleFires;
  if (fires.length > 0) {
    await db.query(SQL.insertRuleFires, [
      fires.map((f) => f.ruleId),
      fires.map((f) => f.customerId),
      fires.map((f) => f.firedAt),
    ]);
  }
  await insertDecisions(db, result.decisions);
  const tasks = mergeByKey(
    result.tasks,
    (t) => t.id,
    (first, last) => ({ ...last, createdAt: first.createdAt }),
  );
  if (tasks.length > 0) {
    await db.query(SQL.upsertTasks, [
      tasks.map((t) => t.id),
      tasks.map((t) => t.customerId),
      tasks.map((t) => t.journeyId),
      tasks.map((t) => t.title),
      tasks.map((t) => t.assignee),
      tasks.map((t) => t.dueAt),
      tasks.map((t) => t.status),
      tasks.map((t) => t.createdAt),
      tasks.map((t) => toJson(t.data)),
    ]);
  }
  await upsertAlerts(db, result.alerts);
}

/**
 * Inserts journey events under the journey-events commit lock. Must be the last write of the
 * transaction: the lock is held until COMMIT, and every writer of journey events queues on it, so
 * seq order is commit order and a consumer's cursor never skips a row that commits late.
 */
async function insertJourneyEvents(
  db: Queryable,
  events: readonly JourneyEventRecord[],
): Promise<void> {
  if (events.length === 0) return;
  // One JSON document rather than five arrays: the rows are serialised here, before the lock is
  // taken, and PostgreSQL parses one document instead of unescaping an array of JSON texts. Every
  // writer of journey events queues on the lock, so what happens while it is held is what limits
  // the commits of all workers together (measured: a third less time per insert, a third of the
  // client CPU; see docs/BENCHMARKS.md, scale-out).
  const rows = JSON.stringify(
    events.map((e) => ({
      type: e.type,
      journey_id: e.journeyId,
      customer_id: e.customerId,
      occurred_at: e.timestamp,
      data: e.data,
    })),
  );
  await db.query(SQL.journeyEventsLock, [JOURNEY_EVENTS_LOCK_KEY]);
  await db.query(SQL.insertJourneyEvents, [rows]);
}

/** Decisions are an immutable log keyed by id: the first of two with one id is kept. */
async function insertDecisions(db: Queryable, d: readonly DecisionRecord[]): Promise<void> {
  if (d.length === 0) return;
  await db.query(SQL.insertDecisions, [
    JSON.stringify(
      d.map((e) => ({
        id: e.id,
        customer_id: e.customerId,
        kind: e.kind,
        at: e.at,
        subject: e.subject,
        explanation: e.explanation,
      })),
    ),
  ]);
}

async function insertTimers(db: Queryable, timers: readonly TimerRecord[]): Promise<void> {
  await db.query(SQL.insertTimers, [
    timers.map((t) => t.id),
    timers.map((t) => t.customerId),
    timers.map((t) => t.enrollmentId),
    timers.map((t) => t.kind),
    timers.map((t) => t.dueAt),
    timers.map((t) => toJson(t.payload)),
    timers.map((t) => t.status),
  ]);
}

/**
 * Upserts profiles in one statement. One row per id (an upsert may not touch a row twice): the
 * last attributes, with the first `createdAt`, which is what applying them one by one keeps.
 */
async function upsertCustomerRows(
  db: Queryable,
  customers: readonly CustomerRecord[],
): Promise<void> {
  const rows = mergeByKey(
    customers,
    (c) => c.id,
    (first, last) => ({ ...last, createdAt: first.createdAt }),
  );
  await db.query(SQL.upsertCustomers, [
    rows.map((c) => c.id),
    rows.map((c) => toJson(c.attributes)),
    rows.map((c) => c.createdAt),
    rows.map((c) => c.updatedAt),
  ]);
}

async function upsertAlerts(db: Queryable, alerts: readonly AlertRecord[]): Promise<void> {
  const rows = mergeByKey(
    alerts,
    (a) => a.id,
    (first, last) => ({ ...last, createdAt: first.createdAt }),
  );
  if (rows.length === 0) return;
  await db.query(SQL.upsertAlerts, [
    rows.map((a) => a.id),
    rows.map((a) => a.customerId),
    rows.map((a) => a.journeyId),
    rows.map((a) => a.severity),
    rows.map((a) => a.message),
    rows.map((a) => a.assignee),
    rows.map((a) => a.status),
    rows.map((a) => a.createdAt),
    rows.map((a) => toJson(a.data)),
  ]);
}

function planColumns(plans: readonly SchedulePlanRecord[]): SqlValue[] {
  return [
    plans.map((p) => p.customerId),
    plans.map((p) => p.triggerName),
    plans.map((p) => p.timerId),
    plans.map((p) => p.anchor),
    plans.map((p) => p.firedAnchor),
  ];
}

function planKey(customerId: string, triggerName: string): string {
  return JSON.stringify([customerId, triggerName]);
}

// ---- folding: several changes to one row become the one row they would leave -------------------

/** One item per key, the first of each. */
function firstByKey<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(keyOf(item))) seen.set(keyOf(item), item);
  return [...seen.values()];
}

/** One item per key, the last of each (in the position of the first). */
function lastByKey<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  return mergeByKey(items, keyOf, (_, last) => last);
}

/** One item per key, combining the first and the last of each. */
function mergeByKey<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  merge: (first: T, last: T) => T,
): T[] {
  const firsts = new Map<string, T>();
  const lasts = new Map<string, T>();
  for (const item of items) {
    const key = keyOf(item);
    if (!firsts.has(key)) firsts.set(key, item);
    lasts.set(key, item);
  }
  return [...firsts.entries()].map(([key, first]) => {
    const last = lasts.get(key) ?? first;
    return first === last ? first : merge(first, last);
  });
}

/**
 * Feedback for one message, several times in one batch, as one update: the last status and error
 * given, the last instant, and the first read and engaged stamps (only ever set once).
 */
function foldMessageUpdates(updates: WorkResult['messageUpdates']): WorkResult['messageUpdates'] {
  const folded = new Map<string, WorkResult['messageUpdates'][number]>();
  for (const u of updates) {
    const before = folded.get(u.messageId);
    folded.set(
      u.messageId,
      before === undefined
        ? u
        : {
            messageId: u.messageId,
            at: u.at,
            status: u.status ?? before.status,
            error: u.error ?? before.error,
            readAt: before.readAt ?? u.readAt,
            engagedAt: before.engagedAt ?? u.engagedAt,
          },
    );
  }
  return [...folded.values()];
}

/** A message's delivery outcomes in one pass as one update (see `updateDeliveries`). */
interface FoldedDelivery {
  messageId: string;
  status: MessageStatus;
  at: Instant;
  error: string | null;
  attempts: number;
  provider: string | null;
  providerMessageId: string | null;
  /** The first attempt's instant, which stamps `sent_at` when it is still empty. */
  firstAttemptAt: Instant | null;
}

function foldDeliveries(updates: DeliveryOutcomes['messages']): FoldedDelivery[] {
  const folded = new Map<string, FoldedDelivery>();
  for (const u of updates) {
    const before = folded.get(u.messageId);
    const attemptAt = ATTEMPTED.has(u.status) ? u.at : null;
    folded.set(u.messageId, {
      messageId: u.messageId,
      status: u.status,
      at: u.at,
      error: u.error,
      attempts: u.attempts,
      provider: u.provider ?? before?.provider ?? null,
      providerMessageId: u.providerMessageId ?? before?.providerMessageId ?? null,
      firstAttemptAt: before?.firstAttemptAt ?? attemptAt,
    });
  }
  return [...folded.values()];
}

/** Retries of one entry in one pass as one update: attempts add up, the last time and error win. */
function foldRetries(retries: DeliveryOutcomes['retries']): {
  seq: number;
  attempts: number;
  error: string;
  at: Instant;
  payload: JsonObject | null;
}[] {
  const folded = new Map<
    number,
    { seq: number; attempts: number; error: string; at: Instant; payload: JsonObject | null }
  >();
  for (const r of retries) {
    const before = folded.get(r.seq);
    folded.set(r.seq, {
      seq: r.seq,
      attempts: (before?.attempts ?? 0) + (r.attempted ? 1 : 0),
      error: r.error,
      at: r.at,
      payload: r.payload ?? before?.payload ?? null,
    });
  }
  return [...folded.values()];
}

// ---- small parts -------------------------------------------------------------------------------

/** SQL of an instant parameter. */
function instant(placeholder: string): string {
  return `to_timestamp(${placeholder}::float8 / 1000)`;
}

/** One part of a keyset: its column and how its cursor value is bound. */
interface KeyPart {
  column: string;
  kind: 'instant' | 'text' | 'bigint';
}

/** The sort keys listings page by. */
const KEYS = {
  createdAtId: [
    { column: 'created_at', kind: 'instant' },
    { column: 'id', kind: 'text' },
  ],
  enrolledAtId: [
    { column: 'enrolled_at', kind: 'instant' },
    { column: 'id', kind: 'text' },
  ],
  seq: [{ column: 'seq', kind: 'bigint' }],
} as const satisfies Record<string, readonly KeyPart[]>;

/** WHERE clauses of a listing, from the filters that are set. Column names are code, never input. */
class Conditions {
  readonly clauses: string[] = [];
  readonly params: SqlValue[] = [];

  /** Binds a value and returns its placeholder. */
  #bind = (value: SqlValue): string => {
    this.params.push(value);
    return `$${this.params.length}`;
  };

  equal(column: string, value: string | undefined): this {
    if (value !== undefined) this.clauses.push(`${column} = ${this.#bind(value)}`);
    return this;
  }

  /** The column is one of `values` (no row when the list is empty). */
  oneOf(column: string, values: readonly string[]): this {
    this.clauses.push(`${column} = ANY(${this.#bind([...values])}::text[])`);
    return this;
  }

  /** A clause written in code (never input), binding its values through `bind`; null adds nothing. */
  raw(build: (bind: (value: SqlValue) => string) => string | null): this {
    const clause = build(this.#bind);
    if (clause !== null) this.clauses.push(clause);
    return this;
  }

  /** Keyset pagination: rows whose sort key comes after (`>`) or before (`<`) the cursor's. */
  keyset(direction: '>' | '<', parts: readonly KeyPart[], cursor: string | undefined): this {
    if (cursor === undefined) return this;
    const key = decodeCursor(
      cursor,
      parts.map((part) => (part.kind === 'text' ? 'string' : 'number')),
    );
    const values = parts.map((part, i) => {
      const placeholder = this.#bind(key[i] ?? null);
      if (part.kind === 'instant') return instant(placeholder);
      return part.kind === 'bigint' ? `${placeholder}::bigint` : placeholder;
    });
    this.clauses.push(
      `(${parts.map((part) => part.column).join(', ')}) ${direction} (${values.join(', ')})`,
    );
    return this;
  }
}

/**
 * The embedded store: the `Store` contract on SQLite through better-sqlite3.
 *
 * better-sqlite3 is synchronous, which suits SQLite (an in-process library, no network round trip):
 * each contract method runs to completion on the calling thread, inside one transaction when it
 * writes more than one row, and hands back a settled promise. Multi-row writes reuse prepared
 * statements inside a single transaction, so 500 events cost one fsync, not 500.
 *
 * Several processes may open the same file (WAL lets readers run beside the one writer); every
 * write transaction is `BEGIN IMMEDIATE`, so writers queue on the lock (up to `busyTimeoutMs`)
 * instead of failing half-way, and claims by different processes never hand out the same customer.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import { StoreError } from '../errors.js';
import { checkClaimOptions, emptyWork } from '../claims.js';
import { checkModelRegistration, modelVersionConflict } from '../model-registry.js';
import { checkPageLimit, decodeCursor, toPage } from '../cursor.js';
import {
  InvalidInputError,
  NotFoundError,
  WaymarkError,
  randomIds,
  systemClock,
} from '../contract.js';
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
  InboxFilter,
  TokenBucket,
  EnrollmentRecord,
  IdSource,
  Instant,
  JourneyCounts,
  JourneyEventFilter,
  JourneyEventRecord,
  JourneyStateRecord,
  JourneyVersionRecord,
  JsonObject,
  MessageFilter,
  MessageRecord,
  ModelRecord,
  MessageStatus,
  NewEvent,
  OutboxEntry,
  OutboxKind,
  PageResult,
  Page,
  RegisterModelOptions,
  Store,
  TaskRecord,
  TimerRecord,
  SchedulePlanRecord,
  TriggerExecutionRecord,
  WorkBatch,
  WorkResult,
  StoredEvent,
} from '../contract.js';
import { isSqliteError, openDatabase } from './driver.js';
import type { SqlValue, SqliteDatabase, Statement } from './driver.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, applyMigrations, schemaVersion } from './migrations.js';
import {
  alertFromRow,
  customerFromRow,
  deadLetterFromRow,
  decisionFromRow,
  modelFromRow,
  enrollmentFromRow,
  eventFromRow,
  journeyEventFromRow,
  journeyStateFromRow,
  journeyVersionFromRow,
  messageFromRow,
  outboxFromRow,
  taskFromRow,
  timerFromRow,
  schedulePlanFromRow,
  toJson,
  triggerExecutionFromRow,
} from './rows.js';
import type {
  AlertRow,
  DeadLetterRow,
  EnrollmentRow,
  JourneyEventRow,
  MessageRow,
  TaskRow,
  TimerRow,
  TriggerExecutionRow,
} from './rows.js';
import { BACKSTOP_CHECKPOINT_PAGES, startCheckpointer, type Checkpointer } from './checkpointer.js';
import { prepareStatements } from './statements.js';
import type { Statements } from './statements.js';

/** How to open the SQLite store. */
export interface SqliteStoreOptions {
  /** Database file; its directory is created if missing. `:memory:` gives a private in-memory database (tests). */
  file: string;
  /** How long a write waits for another connection's lock before `STORE_UNAVAILABLE`, in ms. Default 5 000. */
  busyTimeoutMs?: number;
  /**
   * Where the ids the store assigns come from (events sent without an id, leases). Default:
   * time-ordered random ids, timed by the instant passed to the call (never the wall clock).
   */
  ids?: IdSource;
  /** Clock for the `applied_at` column of `schema_migrations`, the one instant the store records on its own. */
  clock?: Clock;
  /**
   * Where WAL checkpoints run: `background` (default for files) on a thread of their own, so the
   * engine's commits do not pay for copying pages back into the database file; `inline` inside
   * the commit that crosses SQLite's threshold, as SQLite does by itself.
   */
  checkpoints?: 'background' | 'inline';
}

/** SQLite's own automatic checkpoint threshold, pages: used when no checkpoint thread runs. */
const INLINE_CHECKPOINT_PAGES = 1_000;

/** Default visibility window of a claimed outbox entry, ms. */
export const DEFAULT_OUTBOX_LEASE_MS = 60_000;

/** Rows read per step while choosing customers; bounds memory, not the batch size. */
const SCAN_WINDOW = 1_000;

/** Statuses that mean a delivery was attempted, which stamps `sent_at` (see `completeDeliveries`). */
const ATTEMPTED: ReadonlySet<MessageStatus> = new Set<MessageStatus>([
  'sent',
  'delivered',
  'failed',
  'dead_lettered',
  'simulated',
]);

/** Opens the SQLite store on a file (or `:memory:`). Call `migrate()` before anything else. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}

/** `Store` on an embedded SQLite database. */
export class SqliteStore implements Store {
  readonly #db: SqliteDatabase;
  readonly #file: string;
  readonly #ids: IdSource | undefined;
  readonly #clock: Clock;
  #statements: Statements | undefined;
  /** Listing statements, one per combination of filters, prepared on first use. */
  readonly #listings = new Map<string, Statement<SqlValue[], unknown>>();
  #closed = false;
  /** The WAL checkpoint thread of a file database; null for in-memory ones or inline checkpoints. */
  #checkpointer: Checkpointer | null = null;

  constructor(options: SqliteStoreOptions) {
    this.#file = options.file;
    this.#ids = options.ids;
    this.#clock = options.clock ?? systemClock;
    try {
      if (options.file !== ':memory:' && options.file !== '') {
        mkdirSync(dirname(options.file), { recursive: true });
      }
      const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
      this.#db = openDatabase(options.file, { timeout: busyTimeoutMs });
      // WAL: readers never block the writer. NORMAL: a commit is durable once the WAL is synced at
      // checkpoint; a power cut may lose the last transactions but never corrupts the database.
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
      // 64 MiB of page cache (the default is 2 MiB): a batch touches index pages all over tables of
      // millions of rows (timers by due time, plans by customer); fixed, so memory stays flat.
      this.#db.pragma('cache_size = -65536');
      this.#db.pragma('foreign_keys = ON');
      if (options.file !== ':memory:' && options.file !== '' && options.checkpoints !== 'inline') {
        this.#checkpointer = startCheckpointer(options.file, busyTimeoutMs, () => {
          if (this.#db.open) this.#db.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
        });
        if (this.#checkpointer !== null) {
          this.#db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
        }
      }
    } catch (error) {
      throw new StoreError('STORE_UNAVAILABLE', `cannot open SQLite database '${options.file}'`, {
        cause: error,
        details: { file: options.file },
      });
    }
  }

  /** The database file (`:memory:` for an in-memory store). */
  get file(): string {
    return this.#file;
  }

  /**
   * The underlying connection, for diagnostics and operator tools (`runDiagnostics`). Writing
   * through it bypasses the contract's guarantees.
   */
  get database(): SqliteDatabase {
    this.#checkOpen();
    return this.#db;
  }

  migrate(): Promise<void> {
    return this.#attempt(() => {
      this.#checkOpen();
      applyMigrations(this.#db, MIGRATIONS, this.#clock);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements = undefined;
    this.#listings.clear();
    // The checkpoint thread's connection goes first, so that closing the store's own, the last
    // one, checkpoints what is left and removes the WAL as before.
    await this.#checkpointer?.stop();
    try {
      this.#db.close();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  // ---- ingestion -----------------------------------------------------------------------------

  appendEvents(events: readonly NewEvent[], receivedAt: Instant): Promise<AppendResult[]> {
    return this.#run((q) => {
      const ids = this.#ids ?? randomIds(() => receivedAt);
      const append = this.#db.transaction(() =>
        events.map((event): AppendResult => {
          const key = event.idempotencyKey ?? null;
          const id = event.id ?? ids.next('evt');
          const inserted = q.insertEvent.run(
            id,
            key,
            event.customerId,
            event.type,
            event.occurredAt,
            receivedAt,
            toJson(event.payload),
          );
          if (inserted.changes === 1) {
            return { status: 'accepted', id, seq: Number(inserted.lastInsertRowid) };
          }
          // Nothing inserted: an earlier event (stored before, or earlier in this call) has the
          // same idempotency key or id. The key decides first: it is the caller's dedupe intent.
          const original =
            (key === null ? undefined : q.eventRefByKey.get(key)) ??
            (event.id === undefined ? undefined : q.eventRefById.get(event.id));
          if (original === undefined) {
            throw new StoreError(
              'STORE_CONFLICT',
              `the id source produced an event id that already exists: '${id}'`,
              { details: { id } },
            );
          }
          return { status: 'duplicate', id: original.id, seq: original.seq };
        }),
      );
      return append.immediate();
    });
  }

  upsertCustomers(customers: readonly CustomerRecord[]): Promise<void> {
    return this.#run((q) => {
      this.#db
        .transaction(() => {
          for (const customer of customers) upsertCustomer(q, customer);
        })
        .immediate();
    });
  }

  // ---- processing ----------------------------------------------------------------------------

  claimWork(options: ClaimOptions): Promise<WorkBatch | null> {
    return this.#run((q) => {
      checkClaimOptions(options);
      return this.#db.transaction(() => this.#claim(q, options)).immediate();
    });
  }

  /**
   * Chooses customers and their work, then leases them.
   *
   * Pending events are taken in seq order up to `maxEvents` (so customers come in order of their
   * oldest pending event), and a customer never gets a later event without the earlier ones. Due timers are then taken in due order up to `maxTimers`; a customer whose
   * pending events did not all fit gets no timers, so a timer never overtakes events received
   * before it. Customers under a live lease of another claim are skipped altogether.
   */
  #claim(q: Statements, options: ClaimOptions): WorkBatch | null {
    const { now } = options;
    const leased = new Set(q.liveLeases.all(now).map((row) => row.customer_id));
    const work = new Map<string, CustomerWork>();
    /** Customers with pending events left behind: they take no timers in this batch. */
    const unfinished = new Set<string>();

    // The pending log is read in seq order, whole rows at once: every pending event of a customer
    // up to the last row read is in what was read, so a customer never gets a later event without
    // the earlier ones. Those left beyond it, when the budget ran out, wait for the next batch.
    let eventBudget = options.maxEvents;
    let afterSeq = 0;
    let budgetRanOut = false;
    scan: while (eventBudget > 0) {
      const window = q.scanPendingEventRows.all(afterSeq, eventBudget);
      for (const row of window) {
        afterSeq = row.seq;
        const customerId = row.customer_id;
        if (leased.has(customerId)) continue;
        let entry = work.get(customerId);
        if (entry === undefined) {
          entry = emptyWork(customerId, []);
          work.set(customerId, entry);
        }
        entry.events.push(eventFromRow(row));
        eventBudget -= 1;
        if (eventBudget === 0) {
          budgetRanOut = true;
          break scan;
        }
      }
      if (window.length === 0) break;
    }
    /** Whether the customer has pending events this batch does not take (then it takes no timers). */
    const hasEventsLeft = (customerId: string, withPendingEvents: ReadonlySet<string>): boolean =>
      work.has(customerId)
        ? budgetRanOut && q.hasPendingEventsAfter.get(customerId, afterSeq) !== undefined
        : withPendingEvents.has(customerId);

    let timerBudget = options.maxTimers;
    let afterDue = Number.MIN_SAFE_INTEGER;
    let afterId = '';
    while (timerBudget > 0) {
      const window = q.scanDueTimers.all(now, afterDue, afterId, SCAN_WINDOW);
      // Which of the window's customers not yet in the batch have pending events: one statement
      // for the window rather than one per customer.
      const newcomers = [...new Set(window.map((row) => row.customer_id))].filter(
        (id) => !work.has(id) && !leased.has(id),
      );
      const withPendingEvents = new Set(
        newcomers.length === 0
          ? []
          : q.pendingCustomersIn.all(JSON.stringify(newcomers)).map((row) => row.customer_id),
      );
      for (const row of window) {
        afterDue = row.due_at;
        afterId = row.id;
        const customerId = row.customer_id;
        if (leased.has(customerId) || unfinished.has(customerId)) continue;
        let entry = work.get(customerId);
        if (entry === undefined || entry.timers.length === 0) {
          // This customer's first timer: it waits if the batch leaves pending events behind.
          if (hasEventsLeft(customerId, withPendingEvents)) {
            unfinished.add(customerId);
            continue;
          }
        }
        if (entry === undefined) {
          entry = emptyWork(customerId, []);
          work.set(customerId, entry);
        }
        entry.timers.push(timerFromRow(row));
        timerBudget -= 1;
        if (timerBudget === 0) break;
      }
      if (window.length < SCAN_WINDOW) break;
    }

    if (work.size === 0) return null;

    const leaseId = (this.#ids ?? randomIds(() => now)).next('lease');
    const expiresAt = now + options.leaseMs;
    // Everything the customers bring is read with one statement per table for the whole batch
    // (their ids as a JSON list), not one per customer and table.
    const ids = JSON.stringify([...work.keys()]);
    const entryOf = (customerId: string): CustomerWork | undefined => work.get(customerId);
    for (const row of q.customersIn.all(ids)) {
      const entry = entryOf(row.id);
      if (entry) entry.customer = customerFromRow(row);
    }
    for (const row of q.workingEnrollmentsIn.all(ids, ids)) {
      entryOf(row.customer_id)?.enrollments.push(enrollmentFromRow(row));
    }
    for (const row of q.triggerStatesIn.all(ids)) {
      const entry = entryOf(row.customer_id);
      if (entry) entry.triggerStates[row.trigger_name] = row.value === 1;
    }
    for (const row of q.schedulePlansIn.all(ids)) {
      entryOf(row.customer_id)?.schedulePlans.push(schedulePlanFromRow(row));
    }
    if (options.contactsSince !== undefined) {
      for (const row of q.contactsIn.all(ids, options.contactsSince)) {
        entryOf(row.customer_id)?.contacts.push({
          channel: row.channel,
          at: row.at,
          engaged: row.engaged === 1,
        });
      }
    }
    q.takeLeases.run(leaseId, options.workerId, now, expiresAt, ids);
    return { leaseId, claimedAt: now, customers: [...work.values()] };
  }

  commitWork(batch: WorkBatch, result: WorkResult): Promise<void> {
    return this.#run((q) => {
      this.#db
        .transaction(() => {
          commit(q, batch, result);
        })
        .immediate();
    });
  }

  releaseWork(batch: WorkBatch): Promise<void> {
    return this.#run((q) => {
      q.dropLease.run(batch.leaseId);
    });
  }

  listUnplannedCustomers(
    triggerName: string,
    afterId: string | null,
    limit: number,
  ): Promise<CustomerRecord[]> {
    return this.#run((q) => {
      checkPageLimit(limit);
      return q.unplannedCustomers.all(afterId ?? '', triggerName, limit).map(customerFromRow);
    });
  }

  addSchedulePlans(
    entries: readonly { plan: SchedulePlanRecord; timer: TimerRecord | null }[],
  ): Promise<number> {
    return this.#run((q) =>
      this.#db
        .transaction(() => {
          let written = 0;
          for (const { plan, timer } of entries) {
            if (upsertPlan(q.insertSchedulePlan, plan).changes === 0) continue;
            written += 1;
            if (timer !== null) insertTimer(q, timer);
          }
          return written;
        })
        .immediate(),
    );
  }

  pruneTriggerExecutions(before: Instant, limit: number): Promise<number> {
    return this.#run((q) => {
      checkPageLimit(limit);
      return q.pruneTriggerExecutions.run(before, limit).changes;
    });
  }

  nextOutboxAvailableAt(): Promise<Instant | null> {
    return this.#run((q) => q.nextOutboxAvailableAt.get()?.available_at ?? null);
  }

  nextTimerDueAt(): Promise<Instant | null> {
    return this.#run((q) => q.nextTimerDueAt.get()?.due_at ?? null);
  }

  pendingEventCount(): Promise<number> {
    return this.#run((q) => q.pendingEventCount.get()?.pending ?? 0);
  }

  // ---- outbox --------------------------------------------------------------------------------

  claimOutbox(options: {
    now: Instant;
    limit: number;
    kinds?: readonly OutboxKind[];
    lanes?: readonly string[];
    leaseMs?: number;
  }): Promise<OutboxEntry[]> {
    return this.#run((q) => {
      checkPageLimit(options.limit);
      const kinds = options.kinds === undefined ? null : JSON.stringify(options.kinds);
      const heldUntil = options.now + (options.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS);
      const claimable = () =>
        options.lanes === undefined
          ? q.claimableOutbox.all(options.now, kinds, kinds, options.limit)
          : options.lanes.flatMap((lane) =>
              q.claimableOutboxInLane.all(lane, options.now, options.limit),
            );
      // Most polls find nothing: look without the write lock first, so idle delivery lanes never
      // queue behind ingestion for it.
      if (claimable().length === 0) return [];
      return this.#db
        .transaction(() => {
          const rows = claimable();
          const wanted = options.kinds === undefined ? null : new Set<string>(options.kinds);
          const claimed = rows
            .filter((row) => wanted === null || wanted.has(row.kind))
            .sort((a, b) => a.available_at - b.available_at || a.seq - b.seq)
            .slice(0, options.limit);
          return claimed.map((row) => {
            q.holdOutbox.run(heldUntil, row.seq);
            return outboxFromRow({ ...row, available_at: heldUntil });
          });
        })
        .immediate();
    });
  }

  completeOutbox(seqs: readonly number[]): Promise<void> {
    return this.#run((q) => {
      this.#db
        .transaction(() => {
          for (const seq of seqs) q.completeOutbox.run(seq);
        })
        .immediate();
    });
  }

  readJourneyEventsFor(consumer: string, limit: number): Promise<JourneyEventRecord[]> {
    return this.#run((q) => {
      checkPageLimit(limit);
      return q.journeyEventsAfterCursor.all(consumer, limit).map(journeyEventFromRow);
    });
  }

  advanceCursor(consumer: string, seq: number): Promise<void> {
    return this.#run((q) => {
      q.advanceCursor.run(consumer, seq);
    });
  }

  holdRole(role: string, holder: string, now: Instant, leaseMs: number): Promise<boolean> {
    return this.#run((q) => {
      checkRoleLease(leaseMs);
      return q.holdRole.get(role, holder, now + leaseMs, now) !== undefined;
    });
  }

  releaseRole(role: string, holder: string): Promise<void> {
    return this.#run((q) => {
      q.releaseRole.run(role, holder);
    });
  }

  recordDeliveryOutcomes(outcomes: DeliveryOutcomes): Promise<void> {
    return this.#run((q) => {
      this.#db
        .transaction(() => {
          for (const m of outcomes.messages) {
            q.updateDelivery.run(
              m.status,
              m.at,
              m.error,
              m.attempts,
              m.provider,
              m.providerMessageId,
              ATTEMPTED.has(m.status) ? 1 : 0,
              m.at,
              m.messageId,
            );
          }
          for (const event of outcomes.journeyEvents) insertJourneyEvent(q, event);
          for (const seq of outcomes.completed) q.completeOutbox.run(seq);
          for (const r of outcomes.retries) {
            q.retryOutbox.run(
              r.attempted ? 1 : 0,
              r.error,
              r.at,
              r.payload === null ? null : toJson(r.payload),
              r.seq,
            );
          }
          for (const d of outcomes.deadLetters) {
            q.insertDeadLetter.run(
              d.id,
              d.messageId,
              d.customerId,
              d.channel,
              toJson(d.originalMessage),
              d.failureReason,
              d.category,
              d.attemptCount,
              d.firstAttemptAt,
              d.lastAttemptAt,
              d.status,
              d.createdAt,
              d.updatedAt,
            );
          }
          for (const a of outcomes.alerts) insertAlert(q, a);
          this.#appendCommands(q, outcomes.commands, this.#clock.now());
        })
        .immediate();
    });
  }

  /** Appends engine-written events inside the caller's transaction; duplicates by key are skipped. */
  #appendCommands(q: Statements, commands: readonly NewEvent[], receivedAt: Instant): void {
    if (commands.length === 0) return;
    const ids = this.#ids ?? randomIds(() => receivedAt);
    for (const event of commands) {
      q.insertEvent.run(
        event.id ?? ids.next('evt'),
        event.idempotencyKey ?? null,
        event.customerId,
        event.type,
        event.occurredAt,
        receivedAt,
        toJson(event.payload),
      );
    }
  }

  getMessage(id: string): Promise<MessageRecord | null> {
    return this.#run((q) => {
      const row = q.message.get(id);
      return row === undefined ? null : messageFromRow(row);
    });
  }

  findMessageByProviderId(providerMessageId: string): Promise<MessageRecord | null> {
    return this.#run((q) => {
      const row = q.messageByProviderId.get(providerMessageId);
      return row === undefined ? null : messageFromRow(row);
    });
  }

  listInbox(filter: InboxFilter): Promise<PageResult<MessageRecord>> {
    return this.#run(() => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('customer_id', filter.customerId)
        .oneOf('channel', filter.channels)
        .oneOf('status', ['sent', 'delivered'])
        .raw('(expires_at IS NULL OR expires_at > ?)', [filter.now])
        .raw(filter.unreadOnly === true ? 'read_at IS NULL' : null, [])
        .before(['created_at', 'id'], filter.cursor, ['number', 'string']);
      const rows = this.#list<MessageRow>(
        'messages',
        where,
        'created_at DESC, id DESC',
        filter.limit + 1,
      );
      return toPage(rows.map(messageFromRow), filter.limit, (m) => [m.createdAt, m.id]);
    });
  }

  takeTokens(buckets: readonly TokenBucket[], want: number, now: Instant): Promise<number> {
    return this.#run((q) =>
      this.#db
        .transaction(() => {
          const levels = buckets.map((bucket) => {
            const row = q.rateBucket.get(bucket.name);
            const refill = bucket.capacity / bucket.windowMs;
            // A clock that went backwards refills nothing rather than draining the bucket.
            const elapsed = row === undefined ? 0 : Math.max(0, now - row.updated_at);
            const tokens =
              row === undefined
                ? bucket.capacity
                : Math.min(bucket.capacity, row.tokens + elapsed * refill);
            return { bucket, tokens };
          });
          const granted = Math.max(
            0,
            Math.min(want, ...levels.map((level) => Math.floor(level.tokens))),
          );
          for (const level of levels) {
            q.saveRateBucket.run(level.bucket.name, level.tokens - granted, now);
          }
          return granted;
        })
        .immediate(),
    );
  }

  getTask(id: string): Promise<TaskRecord | null> {
    return this.#run((q) => {
      const row = q.task.get(id);
      return row === undefined ? null : taskFromRow(row);
    });
  }

  closeTask(
    id: string,
    change: { status: 'done' | 'cancelled'; at: Instant; by: string | null },
  ): Promise<TaskRecord | null> {
    return this.#run((q) =>
      this.#db
        .transaction(() => {
          const closed = q.closeTask.run(change.status, change.at, change.by, id);
          if (closed.changes === 0) return null;
          const row = q.task.get(id);
          return row === undefined ? null : taskFromRow(row);
        })
        .immediate(),
    );
  }

  listDeadLetters(filter: DeadLetterFilter): Promise<PageResult<DeadLetterRecord>> {
    return this.#run(() => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('status', filter.status)
        .equal('customer_id', filter.customerId)
        .after(['created_at', 'id'], filter.cursor, ['number', 'string']);
      const rows = this.#list<DeadLetterRow>(
        'dead_letters',
        where,
        'created_at, id',
        filter.limit + 1,
      );
      return toPage(rows.map(deadLetterFromRow), filter.limit, (d) => [d.createdAt, d.id]);
    });
  }

  getDeadLetter(id: string): Promise<DeadLetterRecord | null> {
    return this.#run((q) => {
      const row = q.deadLetter.get(id);
      return row === undefined ? null : deadLetterFromRow(row);
    });
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
    return this.#run((q) =>
      this.#db
        .transaction(() => {
          const row = q.deadLetter.get(id);
          if (row === undefined || !change.from.includes(row.status)) return null;
          q.transitionDeadLetter.run(change.to, change.at, change.retryMessageId ?? null, id);
          if (change.command !== undefined) this.#appendCommands(q, [change.command], change.at);
          const updated = q.deadLetter.get(id);
          return updated === undefined ? null : deadLetterFromRow(updated);
        })
        .immediate(),
    );
  }

  failOutbox(seq: number, error: string, retryAt: Instant | null): Promise<void> {
    return this.#run((q) => {
      q.failOutbox.run(error, retryAt, retryAt, seq);
    });
  }

  // ---- journeys ------------------------------------------------------------------------------

  saveJourneyVersion(
    journeyId: string,
    definition: JsonObject,
    hash: string,
    now: Instant,
  ): Promise<{ version: number; created: boolean }> {
    return this.#run((q) =>
      this.#db
        .transaction(() => {
          const state = q.journeyState.get(journeyId);
          if (state !== undefined) {
            const current = q.journeyVersion.get(journeyId, state.current_version);
            if (current?.hash === hash) return { version: state.current_version, created: false };
          }
          // Versions only grow: re-saving an older definition makes a new version, so every
          // enrollment's `journey_version` keeps pointing at exactly what it ran.
          const latest = q.journeyVersions.all(journeyId).at(-1)?.version ?? 0;
          const version = latest + 1;
          q.setCurrentVersion.run(journeyId, version, now);
          q.insertJourneyVersion.run(journeyId, version, hash, toJson(definition), now);
          return { version, created: true };
        })
        .immediate(),
    );
  }

  getJourneyVersion(journeyId: string, version: number): Promise<JourneyVersionRecord | null> {
    return this.#run((q) => {
      const row = q.journeyVersion.get(journeyId, version);
      return row === undefined ? null : journeyVersionFromRow(row);
    });
  }

  listJourneyVersions(journeyId: string): Promise<JourneyVersionRecord[]> {
    return this.#run((q) => q.journeyVersions.all(journeyId).map(journeyVersionFromRow));
  }

  getJourneyState(journeyId: string): Promise<JourneyStateRecord | null> {
    return this.#run((q) => {
      const row = q.journeyState.get(journeyId);
      return row === undefined ? null : journeyStateFromRow(row);
    });
  }

  listJourneyStates(): Promise<JourneyStateRecord[]> {
    return this.#run((q) => q.journeyStates.all().map(journeyStateFromRow));
  }

  setJourneyStatus(journeyId: string, status: 'active' | 'paused', now: Instant): Promise<void> {
    return this.#run((q) => {
      if (q.setJourneyStatus.run(status, now, journeyId).changes === 0) {
        throw new NotFoundError('journey', journeyId);
      }
    });
  }

  // ---- reads ---------------------------------------------------------------------------------

  getCustomer(customerId: string): Promise<CustomerRecord | null> {
    return this.#run((q) => {
      const row = q.customerById.get(customerId);
      return row === undefined ? null : customerFromRow(row);
    });
  }

  listCustomers(page: Page): Promise<PageResult<CustomerRecord>> {
    return this.#run((q) => {
      checkPageLimit(page.limit);
      const rows =
        page.cursor === undefined
          ? q.customersFirst.all(page.limit + 1)
          : q.customersAfter.all(String(decodeCursor(page.cursor, ['string'])[0]), page.limit + 1);
      return toPage(rows.map(customerFromRow), page.limit, (customer) => [customer.id]);
    });
  }

  getEvent(id: string): Promise<StoredEvent | null> {
    return this.#run((q) => {
      const row = q.eventById.get(id);
      return row === undefined ? null : eventFromRow(row);
    });
  }

  getEnrollment(id: string): Promise<EnrollmentRecord | null> {
    return this.#run((q) => {
      const row = q.enrollmentById.get(id);
      return row === undefined ? null : enrollmentFromRow(row);
    });
  }

  listEnrollments(filter: EnrollmentFilter): Promise<PageResult<EnrollmentRecord>> {
    return this.#run(() => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('journey_id', filter.journeyId)
        .equal('customer_id', filter.customerId)
        .equal('status', filter.status)
        .after(['enrolled_at', 'id'], filter.cursor, ['number', 'string']);
      const rows = this.#list<EnrollmentRow>(
        'journey_enrollments',
        where,
        'enrolled_at, id',
        filter.limit + 1,
      );
      return toPage(rows.map(enrollmentFromRow), filter.limit, (e) => [e.enrolledAt, e.id]);
    });
  }

  listContacts(customerId: string, since: Instant): Promise<ContactRecord[]> {
    return this.#run((q) =>
      q.contactsOf.all(customerId, since).map((row) => ({
        channel: row.channel,
        at: row.at,
        engaged: row.engaged === 1,
      })),
    );
  }

  listMessages(filter: MessageFilter): Promise<PageResult<MessageRecord>> {
    return this.#run(() => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('customer_id', filter.customerId)
        .equal('journey_id', filter.journeyId)
        .equal('channel', filter.channel)
        .equal('status', filter.status)
        .after(['created_at', 'id'], filter.cursor, ['number', 'string']);
      const rows = this.#list<MessageRow>('messages', where, 'created_at, id', filter.limit + 1);
      return toPage(rows.map(messageFromRow), filter.limit, (m) => [m.createdAt, m.id]);
    });
  }

  listJourneyEvents(filter: JourneyEventFilter): Promise<PageResult<JourneyEventRecord>> {
    return this.#run(() => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('customer_id', filter.customerId)
        .equal('journey_id', filter.journeyId)
        .equal('type', filter.type)
        .after(['seq'], filter.cursor, ['number']);
      const rows = this.#list<JourneyEventRow>('journey_events', where, 'seq', filter.limit + 1);
      return toPage(rows.map(journeyEventFromRow), filter.limit, (e) => [e.seq ?? 0]);
    });
  }

  listTimers(filter: {
    customerId?: string;
    enrollmentId?: string;
    status?: string;
  }): Promise<TimerRecord[]> {
    return this.#run(() => {
      const where = new Conditions()
        .equal('customer_id', filter.customerId)
        .equal('enrollment_id', filter.enrollmentId)
        .equal('status', filter.status);
      return this.#list<TimerRow>('timers', where, 'due_at, id', null).map(timerFromRow);
    });
  }

  listDecisions(filter: {
    customerId: string;
    kind?: string;
    limit: number;
  }): Promise<DecisionRecord[]> {
    return this.#run((q) => {
      checkPageLimit(filter.limit);
      const rows =
        filter.kind === undefined
          ? q.decisionsOf.all(filter.customerId, filter.limit)
          : q.decisionsOfKind.all(filter.customerId, filter.kind, filter.limit);
      return rows.map(decisionFromRow);
    });
  }

  appendDecisions(decisions: readonly DecisionRecord[]): Promise<void> {
    return this.#run((q) => {
      this.#db
        .transaction(() => {
          for (const d of decisions) {
            q.insertDecision.run(
              d.id,
              d.customerId,
              d.kind,
              d.at,
              d.subject,
              toJson(d.explanation),
            );
          }
        })
        .immediate();
    });
  }

  registerModel(
    model: Omit<ModelRecord, 'version'>,
    options: RegisterModelOptions = {},
  ): Promise<ModelRecord> {
    return this.#run((q) => {
      checkModelRegistration(model.name, options);
      const row = this.#db
        .transaction(() => {
          const version = q.nextModelVersion.get(model.name)?.version ?? 1;
          if (options.after !== undefined && version !== options.after + 1) {
            throw modelVersionConflict(model.name, options.after, version - 1);
          }
          const stored = q.insertModel.get(
            model.name,
            version,
            model.kind,
            model.createdAt,
            toJson(model.body),
            toJson(model.metrics),
            model.source,
          );
          if (options.keep !== undefined) q.pruneModels.run(model.name, version - options.keep);
          return stored;
        })
        .immediate();
      if (row === undefined) throw new StoreError('STORE_FAILED', 'the model was not stored');
      return modelFromRow(row);
    });
  }

  getModel(name: string, version?: number): Promise<ModelRecord | null> {
    return this.#run((q) => {
      const row =
        version === undefined ? q.latestModel.get(name) : q.modelVersion.get(name, version);
      return row === undefined ? null : modelFromRow(row);
    });
  }

  listModels(filter: { name?: string; latestOnly?: boolean }): Promise<ModelRecord[]> {
    return this.#run((q) => {
      const rows = filter.name === undefined ? q.allModels.all() : q.modelsNamed.all(filter.name);
      const models = rows.map(modelFromRow);
      if (filter.latestOnly !== true) return models;
      // Rows come newest first within a name: the first of each name is its newest.
      const seen = new Set<string>();
      return models.filter((m) => {
        if (seen.has(m.name)) return false;
        seen.add(m.name);
        return true;
      });
    });
  }

  listTasks(filter: {
    customerId?: string;
    status?: TaskRecord['status'];
    limit: number;
  }): Promise<TaskRecord[]> {
    return this.#run(() => {
      checkPageLimit(filter.limit);
      const where = new Conditions()
        .equal('customer_id', filter.customerId)
        .equal('status', filter.status);
      return this.#list<TaskRow>('tasks', where, 'created_at DESC, id DESC', filter.limit).map(
        taskFromRow,
      );
    });
  }

  listAlerts(filter: { status?: AlertRecord['status']; limit: number }): Promise<AlertRecord[]> {
    return this.#run(() => {
      checkPageLimit(filter.limit);
      const where = new Conditions().equal('status', filter.status);
      return this.#list<AlertRow>('alerts', where, 'created_at DESC, id DESC', filter.limit).map(
        alertFromRow,
      );
    });
  }

  listTriggerExecutions(filter: {
    triggerName?: string;
    limit: number;
  }): Promise<TriggerExecutionRecord[]> {
    return this.#run(() => {
      checkPageLimit(filter.limit);
      const where = new Conditions().equal('trigger_name', filter.triggerName);
      return this.#list<TriggerExecutionRow>(
        'trigger_executions',
        where,
        'executed_at DESC, id DESC',
        filter.limit,
      ).map(triggerExecutionFromRow);
    });
  }

  countRuleFires(customerId: string, since: Instant): Promise<Record<string, number>> {
    return this.#run((q) => {
      const counts: Record<string, number> = {};
      for (const row of q.ruleFireCounts.all(customerId, since)) counts[row.rule_id] = row.fires;
      return counts;
    });
  }

  journeyCounts(): Promise<JourneyCounts[]> {
    return this.#run((q) => {
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
      for (const state of q.journeyStates.all()) of(state.journey_id);
      for (const row of q.enrollmentCountsByStatus.all()) {
        of(row.journey_id).byStatus[row.status] = row.enrollments;
      }
      for (const row of q.activeCountsByStage.all()) {
        of(row.journey_id).activeByStage[row.stage] = row.enrollments;
      }
      return [...counts.values()].sort((a, b) =>
        a.journeyId < b.journeyId ? -1 : a.journeyId > b.journeyId ? 1 : 0,
      );
    });
  }

  // ---- plumbing ------------------------------------------------------------------------------

  /**
   * Runs a listing whose WHERE clause depends on which filters are set. One statement is prepared
   * per combination and reused; values are always bound, never spliced into the SQL.
   */
  #list<R>(table: string, where: Conditions, orderBy: string, limit: number | null): R[] {
    const sql =
      `SELECT * FROM ${table}` +
      (where.clauses.length === 0 ? '' : ` WHERE ${where.clauses.join(' AND ')}`) +
      ` ORDER BY ${orderBy}` +
      (limit === null ? '' : ' LIMIT ?');
    let statement = this.#listings.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare<SqlValue[], unknown>(sql);
      this.#listings.set(sql, statement);
    }
    const params = limit === null ? where.params : [...where.params, limit];
    return statement.all(...params) as R[];
  }

  /** Runs a unit of work against the prepared statements, as a settled promise with store errors. */
  #run<T>(work: (statements: Statements) => T): Promise<T> {
    return this.#attempt(() => work(this.#ready()));
  }

  #attempt<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(toStoreError(error));
    }
  }

  /** The prepared statements; prepared on first use, once the schema is known to be current. */
  #ready(): Statements {
    this.#checkOpen();
    if (this.#statements === undefined) {
      const version = schemaVersion(this.#db);
      if (version !== LATEST_SCHEMA_VERSION) {
        throw new StoreError(
          version < LATEST_SCHEMA_VERSION ? 'STORE_NOT_MIGRATED' : 'STORE_SCHEMA_TOO_NEW',
          `the database is at schema version ${version}, this Waymark needs ${LATEST_SCHEMA_VERSION}` +
            (version < LATEST_SCHEMA_VERSION ? '; run `waymark migrate`' : ''),
          { details: { databaseVersion: version, knownVersion: LATEST_SCHEMA_VERSION } },
        );
      }
      this.#statements = prepareStatements(this.#db);
    }
    return this.#statements;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'the store has been closed');
  }
}

/** Writes a whole `WorkResult`; runs inside the caller's transaction. */
function commit(q: Statements, batch: WorkBatch, result: WorkResult): void {
  // Fencing: if this batch's lease expired and another claim took over any of its customers, that
  // claim now owns their events. Writing ours as well would process them twice.
  const held = q.leaseSize.get(batch.leaseId)?.held ?? 0;
  if (held !== batch.customers.length) {
    throw new StoreError(
      'STORE_LEASE_LOST',
      `lease '${batch.leaseId}' no longer holds all its customers (${held} of ${batch.customers.length}); the batch was not committed`,
      { details: { leaseId: batch.leaseId } },
    );
  }
  // An event's processed_at is when its batch was claimed: the contract passes no commit instant,
  // and the store never reads a clock of its own.
  const processedAt = batch.claimedAt;
  for (const seq of result.processedEventSeqs) q.markEventProcessed.run(processedAt, seq);
  for (const failure of result.failedEvents) {
    q.markEventFailed.run(processedAt, failure.error, failure.seq);
  }
  // A fired timer that is due again is one UPDATE (new due time, still pending), not two.
  const fired = new Set(result.firedTimerIds);
  for (const t of result.timersToReschedule) {
    if (fired.delete(t.id)) q.rescheduleTimer.run(t.dueAt, toJson(t.payload), t.id);
  }
  for (const id of fired) q.fireTimer.run(id);
  for (const customerId of result.customerDeletes) q.deleteCustomer.run(customerId);
  for (const customer of result.customerUpserts) upsertCustomer(q, customer);
  for (const e of result.enrollmentUpserts) {
    q.upsertEnrollment.run(
      e.id,
      e.journeyId,
      e.journeyVersion,
      e.customerId,
      e.status,
      e.stage,
      e.stepId,
      toJson(e.state),
      e.holdout ? 1 : 0,
      e.enrolledAt,
      e.updatedAt,
      e.endedAt,
      e.exitReason,
    );
  }
  for (const t of result.timersToAdd) insertTimer(q, t);
  // After the inserts: a timer added and cancelled by the same batch ends cancelled.
  for (const id of result.timerIdsToCancel) q.cancelTimer.run(id);
  for (const m of result.messages) {
    q.insertMessage.run(
      m.id,
      m.customerId,
      m.journeyId,
      m.enrollmentId,
      m.stepId,
      m.channel,
      m.priority,
      m.status,
      toJson(m.content),
      m.idempotencyKey,
      m.createdAt,
      m.sentAt,
      m.updatedAt,
      m.error,
      m.sendAt === undefined ? m.createdAt : m.sendAt,
      m.expiresAt ?? null,
    );
  }
  for (const u of result.messageUpdates) {
    q.updateMessage.run(u.status, u.error, u.at, u.readAt, u.engagedAt, u.messageId);
  }
  for (const event of result.journeyEvents) insertJourneyEvent(q, event);
  for (const o of result.outbox) {
    q.insertOutbox.run(
      o.kind,
      o.key,
      toJson(o.payload),
      o.availableAt,
      o.attempts,
      o.status,
      o.lane ?? null,
    );
  }
  for (const x of result.triggerExecutions) {
    q.insertTriggerExecution.run(
      x.triggerName,
      x.customerId,
      x.eventSeq,
      x.executedAt,
      x.processingTimeMs,
      x.fired ? 1 : 0,
    );
  }
  for (const plan of result.schedulePlans) upsertPlan(q.upsertSchedulePlan, plan);
  for (const s of result.triggerStates) {
    q.upsertTriggerState.run(s.customerId, s.triggerName, s.value ? 1 : 0);
  }
  for (const fire of result.ruleFires)
    q.insertRuleFire.run(fire.ruleId, fire.customerId, fire.firedAt);
  for (const d of result.decisions) {
    q.insertDecision.run(d.id, d.customerId, d.kind, d.at, d.subject, toJson(d.explanation));
  }
  for (const t of result.tasks) {
    q.upsertTask.run(
      t.id,
      t.customerId,
      t.journeyId,
      t.title,
      t.assignee,
      t.dueAt,
      t.status,
      t.createdAt,
      toJson(t.data),
    );
  }
  for (const a of result.alerts) insertAlert(q, a);
  q.dropLease.run(batch.leaseId);
}

function insertAlert(q: Statements, a: AlertRecord): void {
  q.upsertAlert.run(
    a.id,
    a.customerId,
    a.journeyId,
    a.severity,
    a.message,
    a.assignee,
    a.status,
    a.createdAt,
    toJson(a.data),
  );
}

function upsertPlan(
  statement: Statements['upsertSchedulePlan'],
  plan: SchedulePlanRecord,
): { changes: number } {
  return statement.run(
    plan.customerId,
    plan.triggerName,
    plan.timerId,
    plan.anchor,
    plan.firedAnchor,
  );
}

function insertTimer(q: Statements, t: TimerRecord): void {
  q.insertTimer.run(
    t.id,
    t.customerId,
    t.enrollmentId,
    t.kind,
    t.dueAt,
    toJson(t.payload),
    t.status,
  );
}

function upsertCustomer(q: Statements, customer: CustomerRecord): void {
  q.upsertCustomer.run(
    customer.id,
    toJson(customer.attributes),
    customer.createdAt,
    customer.updatedAt,
  );
}

function insertJourneyEvent(q: Statements, event: JourneyEventRecord): void {
  q.insertJourneyEvent.run(
    event.type,
    event.journeyId,
    event.customerId,
    event.timestamp,
    toJson(event.data),
  );
}

/** A role's lease must end after it starts: zero or less would hand the role out and take it back at once. */
function checkRoleLease(leaseMs: number): void {
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new InvalidInputError(`leaseMs must be a positive number, got ${leaseMs}`);
  }
}

/** WHERE clauses of a listing, from the filters that are set. Column names are code, never input. */
class Conditions {
  readonly clauses: string[] = [];
  readonly params: SqlValue[] = [];

  equal(column: string, value: string | undefined): this {
    if (value !== undefined) {
      this.clauses.push(`${column} = ?`);
      this.params.push(value);
    }
    return this;
  }

  /** The column is one of `values` (no row when the list is empty). */
  oneOf(column: string, values: readonly string[]): this {
    this.clauses.push(`${column} IN (SELECT value FROM json_each(?))`);
    this.params.push(JSON.stringify(values));
    return this;
  }

  /** A fixed clause written in code (never input), with its parameters; null adds nothing. */
  raw(clause: string | null, params: readonly SqlValue[]): this {
    if (clause !== null) {
      this.clauses.push(clause);
      this.params.push(...params);
    }
    return this;
  }

  /** Keyset pagination for a descending listing: rows whose sort key comes before the cursor's. */
  before(
    columns: readonly string[],
    cursor: string | undefined,
    shape: readonly ('string' | 'number')[],
  ): this {
    if (cursor !== undefined) {
      const key = decodeCursor(cursor, shape);
      this.clauses.push(`(${columns.join(', ')}) < (${columns.map(() => '?').join(', ')})`);
      this.params.push(...key);
    }
    return this;
  }

  /** Keyset pagination: rows whose sort key comes after the cursor's. */
  after(
    columns: readonly string[],
    cursor: string | undefined,
    shape: readonly ('string' | 'number')[],
  ): this {
    if (cursor !== undefined) {
      const key = decodeCursor(cursor, shape);
      this.clauses.push(`(${columns.join(', ')}) > (${columns.map(() => '?').join(', ')})`);
      this.params.push(...key);
    }
    return this;
  }
}

/** Maps what the driver throws to the store's error codes; store errors pass through. */
function toStoreError(error: unknown): Error {
  if (error instanceof WaymarkError) return error;
  if (isSqliteError(error)) {
    const { code } = error;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return new StoreError('STORE_CONFLICT', error.message, { cause: error, details: { code } });
    }
    if (code.startsWith('SQLITE_CONSTRAINT')) {
      return new StoreError('STORE_CONSTRAINT', error.message, { cause: error, details: { code } });
    }
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new StoreError('STORE_UNAVAILABLE', `database is busy: ${error.message}`, {
        cause: error,
        retryable: true,
        details: { code },
      });
    }
    if (
      [
        'SQLITE_IOERR',
        'SQLITE_FULL',
        'SQLITE_CANTOPEN',
        'SQLITE_READONLY',
        'SQLITE_CORRUPT',
        'SQLITE_NOTADB',
      ].some((prefix) => code.startsWith(prefix))
    ) {
      return new StoreError('STORE_UNAVAILABLE', error.message, {
        cause: error,
        details: { code },
      });
    }
    return new StoreError('STORE_FAILED', error.message, { cause: error, details: { code } });
  }
  return new StoreError('STORE_FAILED', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}

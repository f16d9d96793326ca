/**
 * Every fixed SQL statement of the SQLite store, prepared once per connection.
 *
 * Kept apart from the store's logic so the SQL can be read (and reviewed against the schema) in
 * one place. Statements that refer to `status = 'pending'` spell the literal rather than binding
 * it: SQLite only uses a partial index (`WHERE status = 'pending'`) when the query's own WHERE
 * clause visibly implies it.
 */
import { CONTACT_STATUSES_SQL } from '../claims.js';
import type { SqliteDatabase } from './driver.js';
import type {
  CustomerRow,
  DeadLetterRow,
  MessageRow,
  TaskRow,
  DecisionRow,
  ModelRow,
  EnrollmentRow,
  EventRow,
  JourneyEventRow,
  JourneyStateRow,
  JourneyVersionRow,
  OutboxRow,
  SchedulePlanRow,
  TimerRow,
} from './rows.js';

type Nullable<T> = T | null;

const ENROLLMENT_COLUMNS =
  'id, journey_id, journey_version, customer_id, status, stage, step_id, state, holdout, ' +
  'enrolled_at, updated_at, ended_at, exit_reason';

/** Prepares all fixed statements on a migrated database. */
export function prepareStatements(db: SqliteDatabase) {
  return {
    // ---- ingestion ---------------------------------------------------------------------------
    /** Conflicts on id or idempotency key insert nothing; the caller then finds the original. */
    insertEvent: db.prepare<
      [string, Nullable<string>, string, string, number, number, string],
      never
    >(
      `INSERT INTO events (id, idempotency_key, customer_id, type, occurred_at, received_at, payload, status)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')
       ON CONFLICT DO NOTHING`,
    ),
    eventRefByKey: db.prepare<[string], { seq: number; id: string }>(
      'SELECT seq, id FROM events WHERE idempotency_key = ?',
    ),
    eventRefById: db.prepare<[string], { seq: number; id: string }>(
      'SELECT seq, id FROM events WHERE id = ?',
    ),
    /** A profile keeps the instant it was first created; attributes are replaced, not merged. */
    upsertCustomer: db.prepare<[string, string, number, number], never>(
      `INSERT INTO customers (id, attributes, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at`,
    ),
    deleteCustomer: db.prepare<[string], never>('DELETE FROM customers WHERE id = ?'),

    // ---- claiming ----------------------------------------------------------------------------
    liveLeases: db.prepare<[number], { customer_id: string }>(
      'SELECT customer_id FROM leases WHERE expires_at > ?',
    ),
    /** The pending event log in seq order after a seq, whole rows. */
    scanPendingEventRows: db.prepare<[number, number], EventRow>(
      `SELECT * FROM events WHERE status = 'pending' AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    /** Which of a JSON list of customers have pending events. */
    pendingCustomersIn: db.prepare<[string], { customer_id: string }>(
      `SELECT DISTINCT customer_id FROM events
        WHERE status = 'pending' AND customer_id IN (SELECT value FROM json_each(?))`,
    ),
    hasPendingEventsAfter: db.prepare<[string, number], { found: number }>(
      `SELECT 1 AS found FROM events WHERE customer_id = ? AND status = 'pending' AND seq > ? LIMIT 1`,
    ),
    /** A window of due timers in (due_at, id) order, after the given key. */
    scanDueTimers: db.prepare<[number, number, string, number], TimerRow>(
      `SELECT * FROM timers WHERE status = 'pending' AND due_at <= ? AND (due_at, id) > (?, ?)
       ORDER BY due_at, id LIMIT ?`,
    ),
    customerById: db.prepare<[string], CustomerRow>('SELECT * FROM customers WHERE id = ?'),
    customersIn: db.prepare<[string], CustomerRow>(
      'SELECT * FROM customers WHERE id IN (SELECT value FROM json_each(?))',
    ),
    /** Active enrollments plus the most recently ended one per journey (re-entry policies), for a JSON list of customers. */
    workingEnrollmentsIn: db.prepare<[string, string], EnrollmentRow>(
      `SELECT ${ENROLLMENT_COLUMNS} FROM journey_enrollments
        WHERE customer_id IN (SELECT value FROM json_each(?)) AND status = 'active'
       UNION ALL
       SELECT ${ENROLLMENT_COLUMNS} FROM (
         SELECT *, ROW_NUMBER() OVER (
                  PARTITION BY customer_id, journey_id
                  ORDER BY COALESCE(ended_at, updated_at) DESC, id DESC
                ) AS recency
           FROM journey_enrollments
          WHERE customer_id IN (SELECT value FROM json_each(?)) AND status <> 'active'
       ) WHERE recency = 1
       ORDER BY customer_id, enrolled_at, id`,
    ),
    triggerStatesIn: db.prepare<
      [string],
      { customer_id: string; trigger_name: string; value: number }
    >(
      'SELECT customer_id, trigger_name, value FROM trigger_states WHERE customer_id IN (SELECT value FROM json_each(?))',
    ),
    /** Messages that reach the customer (not failed, suppressed or dead-lettered), by send time. */
    contactsIn: db.prepare<
      [string, number],
      { customer_id: string; channel: string; at: number; engaged: number }
    >(
      `SELECT customer_id, channel, send_at AS at, engaged_at IS NOT NULL AS engaged FROM messages
        WHERE customer_id IN (SELECT value FROM json_each(?)) AND send_at >= ?
          AND status IN (${CONTACT_STATUSES_SQL})`,
    ),
    /** One customer's ledger, as `contactsIn`, in send order. */
    contactsOf: db.prepare<[string, number], { channel: string; at: number; engaged: number }>(
      `SELECT channel, send_at AS at, engaged_at IS NOT NULL AS engaged FROM messages
        WHERE customer_id = ? AND send_at >= ?
          AND status IN (${CONTACT_STATUSES_SQL})
        ORDER BY send_at, id`,
    ),
    schedulePlansIn: db.prepare<[string], SchedulePlanRow>(
      'SELECT * FROM schedule_plans WHERE customer_id IN (SELECT value FROM json_each(?))',
    ),
    /** Leases a JSON list of customers; only reached for customers without a live lease. */
    takeLeases: db.prepare<[string, string, number, number, string], never>(
      `INSERT INTO leases (customer_id, lease_id, worker_id, claimed_at, expires_at)
       SELECT value, ?, ?, ?, ? FROM json_each(?) WHERE true
       ON CONFLICT (customer_id) DO UPDATE SET lease_id = excluded.lease_id,
         worker_id = excluded.worker_id, claimed_at = excluded.claimed_at,
         expires_at = excluded.expires_at`,
    ),
    upsertSchedulePlan: db.prepare<
      [string, string, Nullable<string>, Nullable<string>, Nullable<string>],
      never
    >(
      `INSERT INTO schedule_plans (customer_id, trigger_name, timer_id, anchor, fired_anchor)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (customer_id, trigger_name) DO UPDATE SET timer_id = excluded.timer_id,
         anchor = excluded.anchor, fired_anchor = excluded.fired_anchor`,
    ),
    /** A first plan only: the processor's plan, if it got there first, wins. */
    insertSchedulePlan: db.prepare<
      [string, string, Nullable<string>, Nullable<string>, Nullable<string>],
      never
    >(
      `INSERT INTO schedule_plans (customer_id, trigger_name, timer_id, anchor, fired_anchor)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    ),
    unplannedCustomers: db.prepare<[string, string, number], CustomerRow>(
      `SELECT c.* FROM customers c
        WHERE c.id > ? AND NOT EXISTS (
          SELECT 1 FROM schedule_plans p WHERE p.customer_id = c.id AND p.trigger_name = ?)
        ORDER BY c.id LIMIT ?`,
    ),
    leaseSize: db.prepare<[string], { held: number }>(
      'SELECT COUNT(*) AS held FROM leases WHERE lease_id = ?',
    ),
    dropLease: db.prepare<[string], never>('DELETE FROM leases WHERE lease_id = ?'),

    // ---- committing --------------------------------------------------------------------------
    markEventProcessed: db.prepare<[number, number], never>(
      `UPDATE events SET status = 'processed', processed_at = ?, error = NULL
        WHERE seq = ? AND status = 'pending'`,
    ),
    markEventFailed: db.prepare<[number, string, number], never>(
      `UPDATE events SET status = 'failed', processed_at = ?, error = ?
        WHERE seq = ? AND status = 'pending'`,
    ),
    fireTimer: db.prepare<[string], never>(
      `UPDATE timers SET status = 'fired' WHERE id = ? AND status = 'pending'`,
    ),
    /** A timer this batch fired that is due again: it stays pending with a new due time. */
    rescheduleTimer: db.prepare<[number, string, string], never>(
      `UPDATE timers SET due_at = ?, payload = ? WHERE id = ? AND status = 'pending'`,
    ),
    cancelTimer: db.prepare<[string], never>(
      `UPDATE timers SET status = 'cancelled' WHERE id = ? AND status = 'pending'`,
    ),
    /** Plain insert: a second timer with an existing id is a bug to surface, not to hide. */
    insertTimer: db.prepare<
      [string, string, Nullable<string>, string, number, string, string],
      never
    >(
      `INSERT INTO timers (id, customer_id, enrollment_id, kind, due_at, payload, status)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    upsertEnrollment: db.prepare<
      [
        string,
        string,
        number,
        string,
        string,
        string,
        Nullable<string>,
        string,
        number,
        number,
        number,
        Nullable<number>,
        Nullable<string>,
      ],
      never
    >(
      `INSERT INTO journey_enrollments (${ENROLLMENT_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET journey_id = excluded.journey_id,
         journey_version = excluded.journey_version, customer_id = excluded.customer_id,
         status = excluded.status, stage = excluded.stage, step_id = excluded.step_id,
         state = excluded.state, holdout = excluded.holdout, enrolled_at = excluded.enrolled_at,
         updated_at = excluded.updated_at, ended_at = excluded.ended_at,
         exit_reason = excluded.exit_reason`,
    ),
    /** One message per idempotency key: a replayed batch re-creates nothing. */
    insertMessage: db.prepare<
      [
        string,
        string,
        Nullable<string>,
        Nullable<string>,
        Nullable<string>,
        string,
        string,
        string,
        string,
        string,
        number,
        Nullable<number>,
        number,
        Nullable<string>,
        Nullable<number>,
        Nullable<number>,
      ],
      never
    >(
      `INSERT INTO messages (id, customer_id, journey_id, enrollment_id, step_id, channel, priority,
         status, content, idempotency_key, created_at, sent_at, updated_at, error, send_at,
         expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (idempotency_key) DO NOTHING`,
    ),
    insertJourneyEvent: db.prepare<[string, string, string, number, string], never>(
      `INSERT INTO journey_events (type, journey_id, customer_id, occurred_at, data)
       VALUES (?, ?, ?, ?, ?)`,
    ),
    insertOutbox: db.prepare<
      [string, string, string, number, number, string, Nullable<string>],
      never
    >(
      `INSERT INTO outbox (kind, idempotency_key, payload, available_at, attempts, status, lane)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (idempotency_key) DO NOTHING`,
    ),
    insertTriggerExecution: db.prepare<
      [string, string, Nullable<number>, number, number, number],
      never
    >(
      `INSERT INTO trigger_executions (trigger_name, customer_id, event_seq, executed_at,
         processing_time_ms, fired)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    upsertTriggerState: db.prepare<[string, string, number], never>(
      `INSERT INTO trigger_states (customer_id, trigger_name, value) VALUES (?, ?, ?)
       ON CONFLICT (customer_id, trigger_name) DO UPDATE SET value = excluded.value`,
    ),
    insertRuleFire: db.prepare<[string, string, number], never>(
      'INSERT INTO rule_fires (rule_id, customer_id, fired_at) VALUES (?, ?, ?)',
    ),
    /** Decisions are an immutable log keyed by id: a replay of the same decision is a no-op. */
    insertDecision: db.prepare<[string, string, string, number, Nullable<string>, string], never>(
      `INSERT INTO decisions (id, customer_id, kind, at, subject, explanation)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    ),
    upsertTask: db.prepare<
      [
        string,
        string,
        Nullable<string>,
        string,
        Nullable<string>,
        Nullable<number>,
        string,
        number,
        string,
      ],
      never
    >(
      `INSERT INTO tasks (id, customer_id, journey_id, title, assignee, due_at, status, created_at, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id,
         journey_id = excluded.journey_id, title = excluded.title, assignee = excluded.assignee,
         due_at = excluded.due_at, status = excluded.status, data = excluded.data`,
    ),
    upsertAlert: db.prepare<
      [
        string,
        Nullable<string>,
        Nullable<string>,
        string,
        string,
        Nullable<string>,
        string,
        number,
        string,
      ],
      never
    >(
      `INSERT INTO alerts (id, customer_id, journey_id, severity, message, assignee, status,
         created_at, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id,
         journey_id = excluded.journey_id, severity = excluded.severity,
         message = excluded.message, assignee = excluded.assignee, status = excluded.status,
         data = excluded.data`,
    ),

    // ---- timers and counts -------------------------------------------------------------------
    nextTimerDueAt: db.prepare<[], { due_at: number | null }>(
      `SELECT MIN(due_at) AS due_at FROM timers WHERE status = 'pending'`,
    ),
    pruneTriggerExecutions: db.prepare<[number, number], never>(
      `DELETE FROM trigger_executions WHERE id IN (
         SELECT id FROM trigger_executions WHERE executed_at < ? ORDER BY executed_at LIMIT ?)`,
    ),
    nextOutboxAvailableAt: db.prepare<[], { available_at: number | null }>(
      `SELECT MIN(available_at) AS available_at FROM outbox WHERE status = 'pending'`,
    ),
    pendingEventCount: db.prepare<[], { pending: number }>(
      `SELECT COUNT(*) AS pending FROM events WHERE status = 'pending'`,
    ),

    // ---- outbox ------------------------------------------------------------------------------
    /** `kinds` is a JSON array of kinds, or null for all kinds. */
    claimableOutbox: db.prepare<[number, Nullable<string>, Nullable<string>, number], OutboxRow>(
      `SELECT seq, kind, idempotency_key, payload, available_at, attempts, status, lane FROM outbox
        WHERE status = 'pending' AND available_at <= ?
          AND (? IS NULL OR kind IN (SELECT value FROM json_each(?)))
        ORDER BY available_at, seq LIMIT ?`,
    ),
    claimableOutboxInLane: db.prepare<[string, number, number], OutboxRow>(
      `SELECT seq, kind, idempotency_key, payload, available_at, attempts, status, lane FROM outbox
        WHERE status = 'pending' AND lane = ? AND available_at <= ?
        ORDER BY available_at, seq LIMIT ?`,
    ),
    retryOutbox: db.prepare<[number, string, number, Nullable<string>, number], never>(
      `UPDATE outbox SET attempts = attempts + ?, last_error = ?, available_at = ?,
         payload = COALESCE(?, payload)
       WHERE seq = ?`,
    ),
    updateDelivery: db.prepare<
      [
        string,
        number,
        Nullable<string>,
        number,
        Nullable<string>,
        Nullable<string>,
        number,
        number,
        string,
      ],
      never
    >(
      `UPDATE messages SET status = ?, updated_at = ?, error = ?, attempts = ?,
         provider = COALESCE(?, provider), provider_message_id = COALESCE(?, provider_message_id),
         sent_at = CASE WHEN ? = 1 THEN COALESCE(sent_at, ?) ELSE sent_at END
       WHERE id = ?`,
    ),
    insertDeadLetter: db.prepare<
      [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        number,
        number,
        number,
        string,
        number,
        number,
      ],
      never
    >(
      `INSERT INTO dead_letters (id, message_id, customer_id, channel, original_message,
         failure_reason, category, attempt_count, first_attempt_at, last_attempt_at, status,
         created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (message_id) DO NOTHING`,
    ),
    deadLetter: db.prepare<[string], DeadLetterRow>('SELECT * FROM dead_letters WHERE id = ?'),
    message: db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE id = ?'),
    messageByProviderId: db.prepare<[string], MessageRow>(
      'SELECT * FROM messages WHERE provider_message_id = ? ORDER BY created_at LIMIT 1',
    ),
    /** Feedback: a status when given; read and engaged stamps only the first time. */
    updateMessage: db.prepare<
      [Nullable<string>, Nullable<string>, number, Nullable<number>, Nullable<number>, string],
      never
    >(
      `UPDATE messages SET status = COALESCE(?, status), error = COALESCE(?, error),
         updated_at = ?, read_at = COALESCE(read_at, ?), engaged_at = COALESCE(engaged_at, ?)
       WHERE id = ?`,
    ),
    task: db.prepare<[string], TaskRow>('SELECT * FROM tasks WHERE id = ?'),
    rateBucket: db.prepare<[string], { tokens: number; updated_at: number }>(
      'SELECT tokens, updated_at FROM rate_buckets WHERE bucket = ?',
    ),
    saveRateBucket: db.prepare<[string, number, number], never>(
      `INSERT INTO rate_buckets (bucket, tokens, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (bucket) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`,
    ),
    closeTask: db.prepare<[string, number, Nullable<string>, string], never>(
      `UPDATE tasks SET status = ?, completed_at = ?, completed_by = ?
        WHERE id = ? AND status = 'open'`,
    ),
    transitionDeadLetter: db.prepare<[string, number, Nullable<string>, string], never>(
      `UPDATE dead_letters SET status = ?, updated_at = ?,
         retry_message_id = COALESCE(?, retry_message_id)
       WHERE id = ?`,
    ),
    holdOutbox: db.prepare<[number, number], never>(
      'UPDATE outbox SET available_at = ? WHERE seq = ?',
    ),
    completeOutbox: db.prepare<[number], never>(`UPDATE outbox SET status = 'done' WHERE seq = ?`),
    journeyEventsAfterCursor: db.prepare<[string, number], JourneyEventRow>(
      `SELECT * FROM journey_events
        WHERE seq > COALESCE((SELECT last_seq FROM consumer_cursors WHERE consumer = ?), 0)
        ORDER BY seq LIMIT ?`,
    ),
    advanceCursor: db.prepare<[string, number], never>(
      `INSERT INTO consumer_cursors (consumer, last_seq) VALUES (?, ?)
         ON CONFLICT (consumer) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`,
    ),
    /**
     * Takes a role that is free, expired or already `holder`'s; RETURNING names the holder only
     * when this statement wrote the row (a live lease of another holder is left alone).
     */
    holdRole: db.prepare<[string, string, number, number], { holder: string }>(
      `INSERT INTO role_leases (role, holder, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (role) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE role_leases.holder = excluded.holder OR role_leases.expires_at <= ?
       RETURNING holder`,
    ),
    releaseRole: db.prepare<[string, string], never>(
      'DELETE FROM role_leases WHERE role = ? AND holder = ?',
    ),
    /** retryAt null: failed for good; otherwise pending again from retryAt. */
    failOutbox: db.prepare<[string, Nullable<number>, Nullable<number>, number], never>(
      `UPDATE outbox SET attempts = attempts + 1, last_error = ?,
         status = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END,
         available_at = COALESCE(?, available_at)
       WHERE seq = ?`,
    ),
    /** `attempted` (0/1): whether this outcome involved a delivery attempt, which sets sent_at once. */
    recordDelivery: db.prepare<[string, number, Nullable<string>, number, number, string], never>(
      `UPDATE messages SET status = ?, updated_at = ?, error = ?,
         sent_at = CASE WHEN ? = 1 THEN COALESCE(sent_at, ?) ELSE sent_at END
       WHERE id = ?`,
    ),

    // ---- journeys ----------------------------------------------------------------------------
    journeyState: db.prepare<[string], JourneyStateRow>(
      'SELECT * FROM journeys WHERE journey_id = ?',
    ),
    journeyStates: db.prepare<[], JourneyStateRow>('SELECT * FROM journeys ORDER BY journey_id'),
    journeyVersion: db.prepare<[string, number], JourneyVersionRow>(
      'SELECT * FROM journey_versions WHERE journey_id = ? AND version = ?',
    ),
    journeyVersions: db.prepare<[string], JourneyVersionRow>(
      'SELECT * FROM journey_versions WHERE journey_id = ? ORDER BY version',
    ),
    /** A new journey starts active at version 1; an existing one moves its current version. */
    setCurrentVersion: db.prepare<[string, number, number], never>(
      `INSERT INTO journeys (journey_id, current_version, status, updated_at)
       VALUES (?, ?, 'active', ?)
       ON CONFLICT (journey_id) DO UPDATE SET current_version = excluded.current_version,
         updated_at = excluded.updated_at`,
    ),
    insertJourneyVersion: db.prepare<[string, number, string, string, number], never>(
      `INSERT INTO journey_versions (journey_id, version, hash, definition, created_at)
       VALUES (?, ?, ?, ?, ?)`,
    ),
    setJourneyStatus: db.prepare<[string, number, string], never>(
      'UPDATE journeys SET status = ?, updated_at = ? WHERE journey_id = ?',
    ),

    // ---- reads -------------------------------------------------------------------------------
    customersFirst: db.prepare<[number], CustomerRow>(
      'SELECT * FROM customers ORDER BY id LIMIT ?',
    ),
    customersAfter: db.prepare<[string, number], CustomerRow>(
      'SELECT * FROM customers WHERE id > ? ORDER BY id LIMIT ?',
    ),
    eventById: db.prepare<[string], EventRow>('SELECT * FROM events WHERE id = ?'),
    enrollmentById: db.prepare<[string], EnrollmentRow>(
      `SELECT ${ENROLLMENT_COLUMNS} FROM journey_enrollments WHERE id = ?`,
    ),
    decisionsOf: db.prepare<[string, number], DecisionRow>(
      'SELECT * FROM decisions WHERE customer_id = ? ORDER BY at DESC, id DESC LIMIT ?',
    ),
    decisionsOfKind: db.prepare<[string, string, number], DecisionRow>(
      'SELECT * FROM decisions WHERE customer_id = ? AND kind = ? ORDER BY at DESC, id DESC LIMIT ?',
    ),
    nextModelVersion: db.prepare<[string], { version: number }>(
      'SELECT COALESCE(MAX(version), 0) + 1 AS version FROM models WHERE name = ?',
    ),
    insertModel: db.prepare<[string, number, string, number, string, string, string], ModelRow>(
      `INSERT INTO models (name, version, kind, created_at, body, metrics, source)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ),
    /** Versions of a name up to the second argument: the ones `registerModel`'s `keep` drops. */
    pruneModels: db.prepare<[string, number], never>(
      'DELETE FROM models WHERE name = ? AND version <= ?',
    ),
    latestModel: db.prepare<[string], ModelRow>(
      'SELECT * FROM models WHERE name = ? ORDER BY version DESC LIMIT 1',
    ),
    modelVersion: db.prepare<[string, number], ModelRow>(
      'SELECT * FROM models WHERE name = ? AND version = ?',
    ),
    allModels: db.prepare<[], ModelRow>('SELECT * FROM models ORDER BY name, version DESC'),
    modelsNamed: db.prepare<[string], ModelRow>(
      'SELECT * FROM models WHERE name = ? ORDER BY version DESC',
    ),
    ruleFireCounts: db.prepare<[string, number], { rule_id: string; fires: number }>(
      `SELECT rule_id, COUNT(*) AS fires FROM rule_fires
        WHERE customer_id = ? AND fired_at >= ? GROUP BY rule_id`,
    ),
    enrollmentCountsByStatus: db.prepare<
      [],
      { journey_id: string; status: EnrollmentRow['status']; enrollments: number }
    >(
      // Kept by triggers (migration 12): a few rows per journey, whatever the number of enrollments.
      `SELECT journey_id, status, SUM(enrollments) AS enrollments FROM journey_enrollment_counts
        GROUP BY journey_id, status HAVING SUM(enrollments) > 0`,
    ),
    activeCountsByStage: db.prepare<[], { journey_id: string; stage: string; enrollments: number }>(
      `SELECT journey_id, stage, enrollments FROM journey_enrollment_counts
        WHERE status = 'active' AND enrollments > 0`,
    ),
  };
}

/** The prepared statements of one connection. */
export type Statements = ReturnType<typeof prepareStatements>;

/**
 * Every fixed SQL statement of the PostgreSQL store, kept apart from the store's logic so the SQL
 * can be read (and reviewed against the schema) in one place.
 *
 * Conventions:
 * - An instant parameter is epoch ms, converted where it is used: `to_timestamp($n::float8 / 1000)`
 *   (see `driver.ts` for why that is exact). A list of instants is a `float8[]`.
 * - Multi-row writes take one array per column and `unnest` them: one round trip and one plan for
 *   a whole batch, whatever its size. `WITH ORDINALITY ... ORDER BY n` where the order of the rows
 *   matters (sequence values, the first of two rows with the same key winning).
 * - A list of ids is one `text[]` parameter with `= ANY($n)`, never SQL spliced from values.
 * - Statements that filter on `status = 'pending'` spell the literal, so the planner matches them to
 *   the partial indexes (`WHERE status = 'pending'`).
 */
import { CONTACT_STATUSES_SQL } from '../claims.js';

/** Advisory lock taken just before inserting journey events, held until commit (see `journey_events`). */
export const JOURNEY_EVENTS_LOCK_KEY = '33615619889133172';

/** First key of the per-journey advisory locks (`saveJourneyVersion`); the second is the id's hash. */
export const JOURNEY_LOCK_CLASS = 2003659382;

/** First key of the per-model-name advisory locks (`registerModel`). */
export const MODEL_LOCK_CLASS = 2003659373;

const ENROLLMENT_COLUMNS =
  'id, journey_id, journey_version, customer_id, status, stage, step_id, state, holdout, ' +
  'enrolled_at, updated_at, ended_at, exit_reason';

/** A live lease on the customer of `alias`, at the instant in parameter `$now`. */
function liveLease(alias: string, now: string): string {
  return `EXISTS (SELECT 1 FROM leases l WHERE l.customer_id = ${alias}.customer_id
                    AND l.expires_at > to_timestamp(${now}::float8 / 1000))`;
}

/** The fixed statements. */
export const SQL = {
  // ---- ingestion -----------------------------------------------------------------------------
  /**
   * Creates the lease rows of customers that have none, in id order (two appenders inserting the
   * same new customers in the same order cannot deadlock). Rows that exist are left alone.
   */
  ensureLeaseRows: `
    INSERT INTO leases (customer_id)
    SELECT DISTINCT c FROM unnest($1::text[]) AS u(c) ORDER BY c
    ON CONFLICT DO NOTHING`,
  /**
   * An appender's hold on its customers until it commits: FOR KEY SHARE does not block other
   * appenders or commits (FOR NO KEY UPDATE), only claims (FOR UPDATE SKIP LOCKED), which then skip
   * the customer instead of reading its log while an earlier event of it is still uncommitted.
   */
  holdForAppend: `
    SELECT customer_id FROM leases WHERE customer_id = ANY($1::text[])
     ORDER BY customer_id FOR KEY SHARE`,
  /** Conflicts on id or idempotency key insert nothing; the caller then finds the original. */
  insertEvents: `
    INSERT INTO events (id, idempotency_key, customer_id, type, occurred_at, received_at, payload)
    SELECT u.id, u.key, u.customer_id, u.type, to_timestamp(u.occurred_at / 1000),
           to_timestamp($7::float8 / 1000), u.payload
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::jsonb[])
           WITH ORDINALITY AS u(id, key, customer_id, type, occurred_at, payload, n)
     ORDER BY u.n
    ON CONFLICT DO NOTHING
    RETURNING seq, id`,
  eventRefs: `
    SELECT seq, id, idempotency_key FROM events
     WHERE idempotency_key = ANY($1::text[]) OR id = ANY($2::text[])`,
  /** A profile keeps the instant it was first created; attributes are replaced, not merged. */
  upsertCustomers: `
    INSERT INTO customers (id, attributes, created_at, updated_at)
    SELECT u.id, u.attributes, to_timestamp(u.created_at / 1000), to_timestamp(u.updated_at / 1000)
      FROM unnest($1::text[], $2::jsonb[], $3::float8[], $4::float8[])
           AS u(id, attributes, created_at, updated_at)
    ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes,
      updated_at = excluded.updated_at`,
  deleteCustomers: 'DELETE FROM customers WHERE id = ANY($1::text[])',

  // ---- claiming ------------------------------------------------------------------------------
  /**
   * Candidates of a claim: the customers of the next `$4` pending events after seq `$2`, in order
   * of their first one, leaving out customers under a live lease and those in `$3`.
   */
  pendingEventCustomers: `
    SELECT customer_id, COUNT(*)::int AS events, MIN(seq) AS first_seq, MAX(seq) AS last_seq
      FROM (SELECT e.seq, e.customer_id FROM events e
             WHERE e.status = 'pending' AND e.seq > $2
               AND e.customer_id <> ALL($3::text[])
               AND NOT ${liveLease('e', '$1')}
             ORDER BY e.seq LIMIT $4) AS w
     GROUP BY customer_id
     ORDER BY first_seq`,
  /** Candidates by due timers: the customers of the next `$3` due timers, as above. */
  dueTimerCustomers: `
    SELECT customer_id
      FROM (SELECT t.customer_id, t.due_at, t.id FROM timers t
             WHERE t.status = 'pending' AND t.due_at <= to_timestamp($1::float8 / 1000)
               AND t.customer_id <> ALL($2::text[])
               AND NOT ${liveLease('t', '$1')}
             ORDER BY t.due_at, t.id LIMIT $3) AS w
     GROUP BY customer_id
     ORDER BY MIN(due_at), MIN(id)`,
  /**
   * Locks the lease rows of the candidates that nobody holds: rows locked by another claim, a
   * commit or an appender are skipped, never waited for, so claimers never queue behind each other.
   */
  lockFreeLeases: `
    SELECT customer_id FROM leases
     WHERE customer_id = ANY($1::text[])
       AND (expires_at IS NULL OR expires_at <= to_timestamp($2::float8 / 1000))
     ORDER BY customer_id
       FOR UPDATE SKIP LOCKED`,
  existingLeaseRows: 'SELECT customer_id FROM leases WHERE customer_id = ANY($1::text[])',
  /** Lease rows a claim creates for customers that had none (work written by older code or by hand). */
  insertLeaseRows: `
    INSERT INTO leases (customer_id)
    SELECT c FROM unnest($1::text[]) AS u(c) ORDER BY c
    ON CONFLICT DO NOTHING
    RETURNING customer_id`,
  /** The pending events of locked customers, oldest first, at most `$2`. */
  pendingEventsOf: `
    SELECT * FROM events
     WHERE status = 'pending' AND customer_id = ANY($1::text[])
     ORDER BY seq LIMIT $2`,
  /** Which of the customers have pending events after seq `$2`. */
  customersWithEventsAfter: `
    SELECT DISTINCT customer_id FROM events
     WHERE status = 'pending' AND customer_id = ANY($1::text[]) AND seq > $2`,
  /** Due timers of the customers, in due order, at most `$3`. */
  dueTimersOf: `
    SELECT * FROM timers
     WHERE status = 'pending' AND due_at <= to_timestamp($1::float8 / 1000)
       AND customer_id = ANY($2::text[])
     ORDER BY due_at, id LIMIT $3`,
  takeLeases: `
    UPDATE leases SET lease_id = $1, worker_id = $2, claimed_at = to_timestamp($3::float8 / 1000),
           expires_at = to_timestamp($4::float8 / 1000)
     WHERE customer_id = ANY($5::text[])`,
  customersIn: 'SELECT * FROM customers WHERE id = ANY($1::text[])',
  /** Active enrollments plus the most recently ended one per journey (re-entry policies). */
  workingEnrollmentsIn: `
    SELECT ${ENROLLMENT_COLUMNS} FROM journey_enrollments
     WHERE customer_id = ANY($1::text[]) AND status = 'active'
    UNION ALL
    SELECT ${ENROLLMENT_COLUMNS} FROM (
      SELECT *, ROW_NUMBER() OVER (
               PARTITION BY customer_id, journey_id
               ORDER BY COALESCE(ended_at, updated_at) DESC, id DESC
             ) AS recency
        FROM journey_enrollments
       WHERE customer_id = ANY($1::text[]) AND status <> 'active'
    ) AS ended WHERE recency = 1
    ORDER BY customer_id, enrolled_at, id`,
  triggerStatesIn: `
    SELECT customer_id, trigger_name, value FROM trigger_states
     WHERE customer_id = ANY($1::text[])`,
  /** Messages that reach the customer (not failed, suppressed or dead-lettered), by send time. */
  contactsIn: `
    SELECT customer_id, channel, send_at AS at, engaged_at IS NOT NULL AS engaged FROM messages
     WHERE customer_id = ANY($1::text[]) AND send_at >= to_timestamp($2::float8 / 1000)
       AND status IN (${CONTACT_STATUSES_SQL})`,
  /** One customer's ledger, as `contactsIn`, in send order. */
  contactsOf: `
    SELECT channel, send_at AS at, engaged_at IS NOT NULL AS engaged FROM messages
     WHERE customer_id = $1 AND send_at >= to_timestamp($2::float8 / 1000)
       AND status IN (${CONTACT_STATUSES_SQL})
     ORDER BY send_at, id`,
  schedulePlansIn: 'SELECT * FROM schedule_plans WHERE customer_id = ANY($1::text[])',

  // ---- leases --------------------------------------------------------------------------------
  /**
   * A commit's check that its lease still holds every customer, locking those rows so no claim can
   * take them over until the commit ends. FOR NO KEY UPDATE: appenders (FOR KEY SHARE) go on.
   */
  holdLease: `
    SELECT customer_id FROM leases WHERE customer_id = ANY($1::text[]) AND lease_id = $2
     ORDER BY customer_id FOR NO KEY UPDATE`,
  dropLease: `
    UPDATE leases SET lease_id = NULL, worker_id = NULL, claimed_at = NULL, expires_at = NULL
     WHERE customer_id = ANY($1::text[]) AND lease_id = $2`,

  // ---- committing ----------------------------------------------------------------------------
  markEventsProcessed: `
    UPDATE events SET status = 'processed', processed_at = to_timestamp($1::float8 / 1000),
           error = NULL
     WHERE seq = ANY($2::bigint[]) AND status = 'pending'`,
  markEventsFailed: `
    UPDATE events e SET status = 'failed', processed_at = to_timestamp($1::float8 / 1000),
           error = f.error
      FROM unnest($2::bigint[], $3::text[]) AS f(seq, error)
     WHERE e.seq = f.seq AND e.status = 'pending'`,
  /** Timers this batch fired that are due again: they stay pending with a new due time. */
  rescheduleTimers: `
    UPDATE timers t SET due_at = to_timestamp(r.due_at / 1000), payload = r.payload
      FROM unnest($1::text[], $2::float8[], $3::jsonb[]) AS r(id, due_at, payload)
     WHERE t.id = r.id AND t.status = 'pending'`,
  fireTimers: `UPDATE timers SET status = 'fired' WHERE id = ANY($1::text[]) AND status = 'pending'`,
  cancelTimers: `
    UPDATE timers SET status = 'cancelled' WHERE id = ANY($1::text[]) AND status = 'pending'`,
  /** Plain insert: a second timer with an existing id is a bug to surface, not to hide. */
  insertTimers: `
    INSERT INTO timers (id, customer_id, enrollment_id, kind, due_at, payload, status)
    SELECT u.id, u.customer_id, u.enrollment_id, u.kind, to_timestamp(u.due_at / 1000), u.payload,
           u.status
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::jsonb[],
                  $7::text[]) AS u(id, customer_id, enrollment_id, kind, due_at, payload, status)`,
  /**
   * The rows come as one JSON document (see `insertJourneyEvents`): the client serialises them
   * natively instead of escaping every element of thirteen arrays, and PostgreSQL parses one
   * document.
   */
  upsertEnrollments: `
    INSERT INTO journey_enrollments (${ENROLLMENT_COLUMNS})
    SELECT u.id, u.journey_id, u.journey_version, u.customer_id, u.status, u.stage, u.step_id,
           u.state, u.holdout, to_timestamp(u.enrolled_at / 1000), to_timestamp(u.updated_at / 1000),
           to_timestamp(u.ended_at / 1000), u.exit_reason
      FROM jsonb_to_recordset($1::jsonb)
           AS u(id text, journey_id text, journey_version int, customer_id text, status text,
                stage text, step_id text, state jsonb, holdout boolean, enrolled_at float8,
                updated_at float8, ended_at float8, exit_reason text)
    ON CONFLICT (id) DO UPDATE SET journey_id = excluded.journey_id,
      journey_version = excluded.journey_version, customer_id = excluded.customer_id,
      status = excluded.status, stage = excluded.stage, step_id = excluded.step_id,
      state = excluded.state, holdout = excluded.holdout, enrolled_at = excluded.enrolled_at,
      updated_at = excluded.updated_at, ended_at = excluded.ended_at,
      exit_reason = excluded.exit_reason`,
  /** One message per idempotency key: a replayed batch re-creates nothing; the first of a batch wins. */
  insertMessages: `
    INSERT INTO messages (id, customer_id, journey_id, enrollment_id, step_id, channel, priority,
      status, content, idempotency_key, created_at, sent_at, updated_at, error, send_at, expires_at)
    SELECT u.id, u.customer_id, u.journey_id, u.enrollment_id, u.step_id, u.channel, u.priority,
           u.status, u.content, u.key, to_timestamp(u.created_at / 1000),
           to_timestamp(u.sent_at / 1000), to_timestamp(u.updated_at / 1000), u.error,
           to_timestamp(u.send_at / 1000), to_timestamp(u.expires_at / 1000)
      FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (id text, customer_id text,
                      journey_id text, enrollment_id text, step_id text, channel text,
                      priority text, status text, content jsonb, key text, created_at float8,
                      sent_at float8, updated_at float8, error text, send_at float8,
                      expires_at float8))
           WITH ORDINALITY AS u(id, customer_id, journey_id, enrollment_id, step_id, channel,
                priority, status, content, key, created_at, sent_at, updated_at, error, send_at,
                expires_at, n)
     ORDER BY u.n
    ON CONFLICT (idempotency_key) DO NOTHING`,
  /** Feedback (one row per message, folded by the caller): a status when given, first-time stamps. */
  updateMessages: `
    UPDATE messages m SET status = COALESCE(u.status, m.status), error = COALESCE(u.error, m.error),
           updated_at = to_timestamp(u.at / 1000),
           read_at = COALESCE(m.read_at, to_timestamp(u.read_at / 1000)),
           engaged_at = COALESCE(m.engaged_at, to_timestamp(u.engaged_at / 1000))
      FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[])
           AS u(id, status, error, at, read_at, engaged_at)
     WHERE m.id = u.id`,
  journeyEventsLock: 'SELECT pg_advisory_xact_lock($1::bigint)',
  /** $1: a JSON array of `{type, journey_id, customer_id, occurred_at (epoch ms), data}`. */
  insertJourneyEvents: `
    INSERT INTO journey_events (type, journey_id, customer_id, occurred_at, data)
    SELECT r.type, r.journey_id, r.customer_id, to_timestamp(r.occurred_at / 1000), r.data
      FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (type text, journey_id text,
                      customer_id text, occurred_at float8, data jsonb))
           WITH ORDINALITY AS r(type, journey_id, customer_id, occurred_at, data, n)
     ORDER BY r.n`,
  insertOutbox: `
    INSERT INTO outbox (kind, idempotency_key, payload, available_at, attempts, status, lane)
    SELECT u.kind, u.key, u.payload, to_timestamp(u.available_at / 1000), u.attempts, u.status,
           u.lane
      FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::float8[], $5::int[], $6::text[],
                  $7::text[]) WITH ORDINALITY AS u(kind, key, payload, available_at, attempts,
                  status, lane, n)
     ORDER BY u.n
    ON CONFLICT (idempotency_key) DO NOTHING`,
  insertTriggerExecutions: `
    INSERT INTO trigger_executions (trigger_name, customer_id, event_seq, executed_at,
      processing_time_ms, fired)
    SELECT u.trigger_name, u.customer_id, u.event_seq, to_timestamp(u.executed_at / 1000),
           u.processing_time_ms, u.fired
      FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[], $5::float8[], $6::boolean[])
           WITH ORDINALITY AS u(trigger_name, customer_id, event_seq, executed_at,
                processing_time_ms, fired, n)
     ORDER BY u.n`,
  upsertTriggerStates: `
    INSERT INTO trigger_states (customer_id, trigger_name, value)
    SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[])
    ON CONFLICT (customer_id, trigger_name) DO UPDATE SET value = excluded.value`,
  upsertSchedulePlans: `
    INSERT INTO schedule_plans (customer_id, trigger_name, timer_id, anchor, fired_anchor)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
    ON CONFLICT (customer_id, trigger_name) DO UPDATE SET timer_id = excluded.timer_id,
      anchor = excluded.anchor, fired_anchor = excluded.fired_anchor`,
  /** First plans only: a plan the processor wrote meanwhile wins. Returns the plans written. */
  insertSchedulePlans: `
    INSERT INTO schedule_plans (customer_id, trigger_name, timer_id, anchor, fired_anchor)
    SELECT u.customer_id, u.trigger_name, u.timer_id, u.anchor, u.fired_anchor
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
           WITH ORDINALITY AS u(customer_id, trigger_name, timer_id, anchor, fired_anchor, n)
     ORDER BY u.n
    ON CONFLICT DO NOTHING
    RETURNING customer_id, trigger_name`,
  insertRuleFires: `
    INSERT INTO rule_fires (rule_id, customer_id, fired_at)
    SELECT u.rule_id, u.customer_id, to_timestamp(u.fired_at / 1000)
      FROM unnest($1::text[], $2::text[], $3::float8[]) AS u(rule_id, customer_id, fired_at)`,
  /** Decisions are an immutable log keyed by id: a replay of the same decision is a no-op. */
  insertDecisions: `
    INSERT INTO decisions (id, customer_id, kind, at, subject, explanation)
    SELECT u.id, u.customer_id, u.kind, to_timestamp(u.at / 1000), u.subject, u.explanation
      FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (id text, customer_id text, kind text,
                      at float8, subject text, explanation jsonb))
           WITH ORDINALITY AS u(id, customer_id, kind, at, subject, explanation, n)
     ORDER BY u.n
    ON CONFLICT (id) DO NOTHING`,
  upsertTasks: `
    INSERT INTO tasks (id, customer_id, journey_id, title, assignee, due_at, status, created_at, data)
    SELECT u.id, u.customer_id, u.journey_id, u.title, u.assignee, to_timestamp(u.due_at / 1000),
           u.status, to_timestamp(u.created_at / 1000), u.data
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[],
                  $7::text[], $8::float8[], $9::jsonb[])
           AS u(id, customer_id, journey_id, title, assignee, due_at, status, created_at, data)
    ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id,
      journey_id = excluded.journey_id, title = excluded.title, assignee = excluded.assignee,
      due_at = excluded.due_at, status = excluded.status, data = excluded.data`,
  upsertAlerts: `
    INSERT INTO alerts (id, customer_id, journey_id, severity, message, assignee, status,
      created_at, data)
    SELECT u.id, u.customer_id, u.journey_id, u.severity, u.message, u.assignee, u.status,
           to_timestamp(u.created_at / 1000), u.data
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                  $7::text[], $8::float8[], $9::jsonb[])
           AS u(id, customer_id, journey_id, severity, message, assignee, status, created_at, data)
    ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id,
      journey_id = excluded.journey_id, severity = excluded.severity,
      message = excluded.message, assignee = excluded.assignee, status = excluded.status,
      data = excluded.data`,

  // ---- timers and counts ---------------------------------------------------------------------
  nextTimerDueAt: `SELECT MIN(due_at) AS due_at FROM timers WHERE status = 'pending'`,
  pruneTriggerExecutions: `
    DELETE FROM trigger_executions WHERE id IN (
      SELECT id FROM trigger_executions WHERE executed_at < to_timestamp($1::float8 / 1000)
       ORDER BY executed_at, id LIMIT $2)`,
  nextOutboxAvailableAt: `
    SELECT MIN(available_at) AS available_at FROM outbox WHERE status = 'pending'`,
  pendingEventCount: `SELECT COUNT(*) AS pending FROM events WHERE status = 'pending'`,
  unplannedCustomers: `
    SELECT c.* FROM customers c
     WHERE c.id > $1 AND NOT EXISTS (
       SELECT 1 FROM schedule_plans p WHERE p.customer_id = c.id AND p.trigger_name = $2)
     ORDER BY c.id LIMIT $3`,

  // ---- outbox --------------------------------------------------------------------------------
  /**
   * Claims available entries in one statement: the oldest `$3` (of kinds `$2`, null for all), locked
   * SKIP LOCKED so concurrent dispatchers split them, then hidden until `$4` by moving their
   * `available_at`. Returns each entry with the `available_at` it had, for ordering.
   */
  claimOutbox: `
    WITH chosen AS (
      SELECT seq, available_at FROM outbox
       WHERE status = 'pending' AND available_at <= to_timestamp($1::float8 / 1000)
         AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
       ORDER BY available_at, seq LIMIT $3
         FOR UPDATE SKIP LOCKED)
    UPDATE outbox o SET available_at = to_timestamp($4::float8 / 1000)
      FROM chosen
     WHERE o.seq = chosen.seq
    RETURNING o.seq, o.kind, o.idempotency_key, o.payload, o.available_at, o.attempts, o.status,
              o.lane, chosen.available_at AS was_available_at`,
  /** The same by lane: each lane's oldest `$3` entries through its own index range, then merged. */
  claimOutboxInLanes: `
    WITH chosen AS (
      SELECT o.seq, o.available_at FROM unnest($5::text[]) AS l(lane)
       CROSS JOIN LATERAL (
         SELECT seq, available_at FROM outbox
          WHERE status = 'pending' AND lane = l.lane
            AND available_at <= to_timestamp($1::float8 / 1000)
            AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
          ORDER BY available_at, seq LIMIT $3
            FOR UPDATE SKIP LOCKED) AS o
       ORDER BY o.available_at, o.seq LIMIT $3)
    UPDATE outbox o SET available_at = to_timestamp($4::float8 / 1000)
      FROM chosen
     WHERE o.seq = chosen.seq
    RETURNING o.seq, o.kind, o.idempotency_key, o.payload, o.available_at, o.attempts, o.status,
              o.lane, chosen.available_at AS was_available_at`,
  completeOutbox: `UPDATE outbox SET status = 'done' WHERE seq = ANY($1::bigint[])`,
  /** Retries folded per entry by the caller: attempts to add, last error, new time and payload. */
  retryOutbox: `
    UPDATE outbox o SET attempts = o.attempts + r.attempts, last_error = r.error,
           available_at = to_timestamp(r.at / 1000), payload = COALESCE(r.payload, o.payload)
      FROM unnest($1::bigint[], $2::int[], $3::text[], $4::float8[], $5::jsonb[])
           AS r(seq, attempts, error, at, payload)
     WHERE o.seq = r.seq`,
  /** retryAt null: failed for good; otherwise pending again from retryAt. */
  failOutbox: `
    UPDATE outbox SET attempts = attempts + 1, last_error = $1,
           status = CASE WHEN $2::float8 IS NULL THEN 'failed' ELSE 'pending' END,
           available_at = COALESCE(to_timestamp($2::float8 / 1000), available_at)
     WHERE seq = $3`,
  journeyEventsAfterCursor: `
    SELECT * FROM journey_events
     WHERE seq > COALESCE((SELECT last_seq FROM consumer_cursors WHERE consumer = $1), 0)
     ORDER BY seq LIMIT $2`,
  advanceCursor: `
    INSERT INTO consumer_cursors (consumer, last_seq) VALUES ($1, $2)
    ON CONFLICT (consumer) DO UPDATE
      SET last_seq = GREATEST(consumer_cursors.last_seq, excluded.last_seq)`,

  // ---- process roles -------------------------------------------------------------------------
  /**
   * Takes a role that is free, expired or already `$2`'s; a row comes back only when this statement
   * wrote it (the conflict's WHERE leaves another holder's live lease alone). The row lock of ON
   * CONFLICT DO UPDATE makes two takers of an expired role queue, and the second then sees the
   * first one's live lease.
   */
  holdRole: `
    INSERT INTO role_leases (role, holder, expires_at)
    VALUES ($1, $2, to_timestamp($3::float8 / 1000))
    ON CONFLICT (role) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
      WHERE role_leases.holder = excluded.holder
         OR role_leases.expires_at <= to_timestamp($4::float8 / 1000)
    RETURNING holder`,
  releaseRole: 'DELETE FROM role_leases WHERE role = $1 AND holder = $2',
  /** Tells listeners on channel $1 (see `notifications.ts`); sent by PostgreSQL at COMMIT only. */
  notify: 'SELECT pg_notify($1, $2)',

  // ---- delivery ------------------------------------------------------------------------------
  /** Delivery outcomes (one row per message, folded by the caller). */
  updateDeliveries: `
    UPDATE messages m SET status = u.status, updated_at = to_timestamp(u.at / 1000),
           error = u.error, attempts = u.attempts,
           provider = COALESCE(u.provider, m.provider),
           provider_message_id = COALESCE(u.provider_message_id, m.provider_message_id),
           sent_at = COALESCE(m.sent_at, to_timestamp(u.first_attempt_at / 1000))
      FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[], $5::int[], $6::text[],
                  $7::text[], $8::float8[])
           AS u(id, status, at, error, attempts, provider, provider_message_id, first_attempt_at)
     WHERE m.id = u.id`,
  insertDeadLetters: `
    INSERT INTO dead_letters (id, message_id, customer_id, channel, original_message,
      failure_reason, category, attempt_count, first_attempt_at, last_attempt_at, status,
      created_at, updated_at)
    SELECT u.id, u.message_id, u.customer_id, u.channel, u.original_message, u.failure_reason,
           u.category, u.attempt_count, to_timestamp(u.first_attempt_at / 1000),
           to_timestamp(u.last_attempt_at / 1000), u.status, to_timestamp(u.created_at / 1000),
           to_timestamp(u.updated_at / 1000)
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[],
                  $7::text[], $8::int[], $9::float8[], $10::float8[], $11::text[], $12::float8[],
                  $13::float8[])
           WITH ORDINALITY AS u(id, message_id, customer_id, channel, original_message,
                failure_reason, category, attempt_count, first_attempt_at, last_attempt_at,
                status, created_at, updated_at, n)
     ORDER BY u.n
    ON CONFLICT (message_id) DO NOTHING`,
  deadLetter: 'SELECT * FROM dead_letters WHERE id = $1',
  deadLetterForUpdate: 'SELECT * FROM dead_letters WHERE id = $1 FOR UPDATE',
  transitionDeadLetter: `
    UPDATE dead_letters SET status = $1, updated_at = to_timestamp($2::float8 / 1000),
           retry_message_id = COALESCE($3, retry_message_id)
     WHERE id = $4
    RETURNING *`,
  message: 'SELECT * FROM messages WHERE id = $1',
  messageByProviderId: `
    SELECT * FROM messages WHERE provider_message_id = $1 ORDER BY created_at LIMIT 1`,
  task: 'SELECT * FROM tasks WHERE id = $1',
  closeTask: `
    UPDATE tasks SET status = $1, completed_at = to_timestamp($2::float8 / 1000), completed_by = $3
     WHERE id = $4 AND status = 'open'
    RETURNING *`,

  // ---- throughput ----------------------------------------------------------------------------
  /** New buckets start full; existing ones are left for the locked read-modify-write that follows. */
  ensureRateBuckets: `
    INSERT INTO rate_buckets (bucket, tokens, updated_at)
    SELECT u.bucket, u.capacity, to_timestamp($3::float8 / 1000)
      FROM unnest($1::text[], $2::float8[]) AS u(bucket, capacity)
     ORDER BY u.bucket
    ON CONFLICT DO NOTHING`,
  lockRateBuckets: `
    SELECT bucket, tokens, updated_at FROM rate_buckets WHERE bucket = ANY($1::text[])
     ORDER BY bucket FOR UPDATE`,
  saveRateBuckets: `
    UPDATE rate_buckets b SET tokens = u.tokens, updated_at = to_timestamp($3::float8 / 1000)
      FROM unnest($1::text[], $2::float8[]) AS u(bucket, tokens)
     WHERE b.bucket = u.bucket`,

  // ---- journeys ------------------------------------------------------------------------------
  /** Serialises version changes of one journey across processes (two servers starting at once). */
  journeyLock: 'SELECT pg_advisory_xact_lock($1::int, hashtext($2))',
  /** The same for model names (`registerModel`): concurrent registrations get distinct versions. */
  modelLock: 'SELECT pg_advisory_xact_lock($1::int, hashtext($2))',
  journeyState: 'SELECT * FROM journeys WHERE journey_id = $1',
  journeyStates: 'SELECT * FROM journeys ORDER BY journey_id',
  journeyVersion: 'SELECT * FROM journey_versions WHERE journey_id = $1 AND version = $2',
  journeyVersions: 'SELECT * FROM journey_versions WHERE journey_id = $1 ORDER BY version',
  latestJourneyVersion: `
    SELECT MAX(version) AS version FROM journey_versions WHERE journey_id = $1`,
  /** A new journey starts active at version 1; an existing one moves its current version. */
  setCurrentVersion: `
    INSERT INTO journeys (journey_id, current_version, status, updated_at)
    VALUES ($1, $2, 'active', to_timestamp($3::float8 / 1000))
    ON CONFLICT (journey_id) DO UPDATE SET current_version = excluded.current_version,
      updated_at = excluded.updated_at`,
  insertJourneyVersion: `
    INSERT INTO journey_versions (journey_id, version, hash, definition, created_at)
    VALUES ($1, $2, $3, $4::jsonb, to_timestamp($5::float8 / 1000))`,
  setJourneyStatus: `
    UPDATE journeys SET status = $1, updated_at = to_timestamp($2::float8 / 1000)
     WHERE journey_id = $3`,

  // ---- reads ---------------------------------------------------------------------------------
  customerById: 'SELECT * FROM customers WHERE id = $1',
  customersFirst: 'SELECT * FROM customers ORDER BY id LIMIT $1',
  customersAfter: 'SELECT * FROM customers WHERE id > $1 ORDER BY id LIMIT $2',
  eventById: 'SELECT * FROM events WHERE id = $1',
  enrollmentById: `SELECT ${ENROLLMENT_COLUMNS} FROM journey_enrollments WHERE id = $1`,
  decisionsOf: `
    SELECT * FROM decisions WHERE customer_id = $1 ORDER BY at DESC, id DESC LIMIT $2`,
  nextModelVersion: `
    SELECT COALESCE(MAX(version), 0) + 1 AS version FROM models WHERE name = $1`,
  insertModel: `
    INSERT INTO models (name, version, kind, created_at, body, metrics, source)
    VALUES ($1, $2, $3, to_timestamp($4::float8 / 1000), $5::jsonb, $6::jsonb, $7)
    RETURNING *`,
  /** Versions of a name up to $2: the ones `registerModel`'s `keep` drops. */
  pruneModels: 'DELETE FROM models WHERE name = $1 AND version <= $2',
  latestModel: 'SELECT * FROM models WHERE name = $1 ORDER BY version DESC LIMIT 1',
  modelVersion: 'SELECT * FROM models WHERE name = $1 AND version = $2',
  allModels: 'SELECT * FROM models ORDER BY name, version DESC',
  modelsNamed: 'SELECT * FROM models WHERE name = $1 ORDER BY version DESC',
  ruleFireCounts: `
    SELECT rule_id, COUNT(*) AS fires FROM rule_fires
     WHERE customer_id = $1 AND fired_at >= to_timestamp($2::float8 / 1000) GROUP BY rule_id`,
  enrollmentCountsByStatus: `
    SELECT journey_id, status, COUNT(*) AS enrollments FROM journey_enrollments
     GROUP BY journey_id, status`,
  activeCountsByStage: `
    SELECT journey_id, stage, COUNT(*) AS enrollments FROM journey_enrollments
     WHERE status = 'active' GROUP BY journey_id, stage`,
} as const;

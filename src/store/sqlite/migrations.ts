/**
 * The SQLite schema as numbered migrations.
 *
 * Rules for this list:
 * - append only: a released migration is never edited, a change is a new migration;
 * - versions strictly increase by one;
 * - each migration runs in its own transaction together with its row in `schema_migrations`, so a
 *   crash leaves the schema at a version boundary, never half-applied.
 *
 * Conventions of the schema: instants are INTEGER epoch milliseconds, JSON is TEXT, booleans are
 * INTEGER 0/1. Table and column names follow the specification's diagnostic queries
 * (`journey_enrollments.stage`, `messages.sent_at`, `trigger_executions.processing_time_ms`, ...) so
 * those queries read the same here and on PostgreSQL.
 *
 * Deliberately no foreign key from the history tables (events, enrollments, messages, journey
 * events, decisions) to `customers`: events arrive before a profile exists, and deleting a profile
 * must not delete, or be blocked by, the audit trail that refers to it.
 */
import { StoreError } from '../errors.js';
import type { Clock } from '../contract.js';
import type { SqliteDatabase } from './driver.js';

/** One schema change. */
export interface Migration {
  /** Position in the list, from 1, strictly increasing by one. */
  version: number;
  /** Short description, recorded in `schema_migrations`. */
  name: string;
  /** The statements, run in one transaction. */
  sql: string;
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE customers (
  id          TEXT    PRIMARY KEY,
  attributes  TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- The event log. seq orders events globally in receive order; AUTOINCREMENT so that a seq is
-- never reused, even after the newest rows are deleted by retention.
CREATE TABLE events (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT,
  id               TEXT    NOT NULL UNIQUE,
  idempotency_key  TEXT    UNIQUE,
  customer_id      TEXT    NOT NULL,
  type             TEXT    NOT NULL,
  occurred_at      INTEGER NOT NULL,
  received_at      INTEGER NOT NULL,
  payload          TEXT    NOT NULL,
  status           TEXT    NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'processed', 'failed')),
  error            TEXT,
  processed_at     INTEGER
);
-- Partial indexes: processed events (nearly all of them) cost nothing in the claim path.
CREATE INDEX events_pending_by_seq ON events (seq) WHERE status = 'pending';
CREATE INDEX events_pending_by_customer ON events (customer_id, seq) WHERE status = 'pending';

CREATE TABLE timers (
  id             TEXT    PRIMARY KEY,
  customer_id    TEXT    NOT NULL,
  enrollment_id  TEXT,
  kind           TEXT    NOT NULL,
  due_at         INTEGER NOT NULL,
  payload        TEXT    NOT NULL,
  status         TEXT    NOT NULL CHECK (status IN ('pending', 'fired', 'cancelled'))
);
CREATE INDEX timers_pending_by_due ON timers (due_at, id) WHERE status = 'pending';
CREATE INDEX timers_by_customer ON timers (customer_id, due_at);
CREATE INDEX timers_by_enrollment ON timers (enrollment_id) WHERE enrollment_id IS NOT NULL;

CREATE TABLE journey_enrollments (
  id               TEXT    PRIMARY KEY,
  journey_id       TEXT    NOT NULL,
  journey_version  INTEGER NOT NULL,
  customer_id      TEXT    NOT NULL,
  status           TEXT    NOT NULL CHECK (status IN ('active', 'completed', 'exited')),
  stage            TEXT    NOT NULL,
  step_id          TEXT,
  state            TEXT    NOT NULL,
  holdout          INTEGER NOT NULL CHECK (holdout IN (0, 1)),
  enrolled_at      INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  ended_at         INTEGER,
  exit_reason      TEXT
);
CREATE INDEX journey_enrollments_by_customer
  ON journey_enrollments (customer_id, journey_id, status);
CREATE INDEX journey_enrollments_by_journey
  ON journey_enrollments (journey_id, status, stage);

CREATE TABLE messages (
  id               TEXT    PRIMARY KEY,
  customer_id      TEXT    NOT NULL,
  journey_id       TEXT,
  enrollment_id    TEXT,
  step_id          TEXT,
  channel          TEXT    NOT NULL,
  priority         TEXT    NOT NULL,
  status           TEXT    NOT NULL,
  content          TEXT    NOT NULL,
  -- The key a provider sees: one message per key, whatever retries or replays happen.
  idempotency_key  TEXT    NOT NULL UNIQUE,
  created_at       INTEGER NOT NULL,
  sent_at          INTEGER,
  updated_at       INTEGER NOT NULL,
  error            TEXT
);
CREATE INDEX messages_by_customer ON messages (customer_id, created_at);
CREATE INDEX messages_by_journey ON messages (journey_id, created_at);
CREATE INDEX messages_by_sent_at ON messages (sent_at);

-- Transactional outbox: effects written with the state change that caused them.
CREATE TABLE outbox (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT,
  kind             TEXT    NOT NULL,
  idempotency_key  TEXT    NOT NULL UNIQUE,
  payload          TEXT    NOT NULL,
  available_at     INTEGER NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  status           TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
  last_error       TEXT
);
CREATE INDEX outbox_pending_by_available ON outbox (available_at, seq) WHERE status = 'pending';

CREATE TABLE journey_events (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  type         TEXT    NOT NULL,
  journey_id   TEXT    NOT NULL,
  customer_id  TEXT    NOT NULL,
  occurred_at  INTEGER NOT NULL,
  data         TEXT    NOT NULL
);
CREATE INDEX journey_events_by_customer ON journey_events (customer_id, seq);
CREATE INDEX journey_events_by_journey ON journey_events (journey_id, seq);

CREATE TABLE trigger_executions (
  id                  INTEGER PRIMARY KEY,
  trigger_name        TEXT    NOT NULL,
  customer_id         TEXT    NOT NULL,
  event_seq           INTEGER,
  executed_at         INTEGER NOT NULL,
  processing_time_ms  REAL    NOT NULL,
  fired               INTEGER NOT NULL CHECK (fired IN (0, 1))
);
CREATE INDEX trigger_executions_by_time ON trigger_executions (executed_at);
CREATE INDEX trigger_executions_by_trigger ON trigger_executions (trigger_name, executed_at);

-- Last truth value of each condition trigger per customer (edge detection); read per customer.
CREATE TABLE trigger_states (
  customer_id   TEXT    NOT NULL,
  trigger_name  TEXT    NOT NULL,
  value         INTEGER NOT NULL CHECK (value IN (0, 1)),
  PRIMARY KEY (customer_id, trigger_name)
);

CREATE TABLE rule_fires (
  id           INTEGER PRIMARY KEY,
  rule_id      TEXT    NOT NULL,
  customer_id  TEXT    NOT NULL,
  fired_at     INTEGER NOT NULL
);
CREATE INDEX rule_fires_by_customer ON rule_fires (customer_id, fired_at);

CREATE TABLE decisions (
  id           TEXT    PRIMARY KEY,
  customer_id  TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  at           INTEGER NOT NULL,
  subject      TEXT,
  explanation  TEXT    NOT NULL
);
CREATE INDEX decisions_by_customer ON decisions (customer_id, at);

CREATE TABLE tasks (
  id           TEXT    PRIMARY KEY,
  customer_id  TEXT    NOT NULL,
  journey_id   TEXT,
  title        TEXT    NOT NULL,
  assignee     TEXT,
  due_at       INTEGER,
  status       TEXT    NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
  created_at   INTEGER NOT NULL,
  data         TEXT    NOT NULL
);
CREATE INDEX tasks_by_customer ON tasks (customer_id, created_at);
CREATE INDEX tasks_by_status ON tasks (status, created_at);

CREATE TABLE alerts (
  id           TEXT    PRIMARY KEY,
  customer_id  TEXT,
  journey_id   TEXT,
  severity     TEXT    NOT NULL,
  message      TEXT    NOT NULL,
  assignee     TEXT,
  status       TEXT    NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  created_at   INTEGER NOT NULL,
  data         TEXT    NOT NULL
);
CREATE INDEX alerts_by_status ON alerts (status, created_at);

-- Journey control state: which version is current, and whether the journey is paused.
CREATE TABLE journeys (
  journey_id       TEXT    PRIMARY KEY,
  current_version  INTEGER NOT NULL,
  status           TEXT    NOT NULL CHECK (status IN ('active', 'paused')),
  updated_at       INTEGER NOT NULL
);

CREATE TABLE journey_versions (
  journey_id  TEXT    NOT NULL REFERENCES journeys (journey_id),
  version     INTEGER NOT NULL,
  hash        TEXT    NOT NULL,
  definition  TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (journey_id, version)
);

-- Who holds which customer. A row with expires_at > now keeps other claims off the customer.
CREATE TABLE leases (
  customer_id  TEXT    PRIMARY KEY,
  lease_id     TEXT    NOT NULL,
  worker_id    TEXT    NOT NULL,
  claimed_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
);
CREATE INDEX leases_by_lease ON leases (lease_id);
CREATE INDEX leases_by_expiry ON leases (expires_at);
`,
  },
  {
    version: 2,
    name: 'journey event consumer cursors',
    sql: `
-- Journey events are published straight from journey_events: each consumer (the dispatcher's
-- publishers) keeps the seq it has handled, instead of a second outbox row per event.
CREATE TABLE consumer_cursors (
  consumer  TEXT    PRIMARY KEY,
  last_seq  INTEGER NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'leases without secondary indexes',
    sql: `
-- The lease table only ever holds the customers of the batches in flight (a few thousand rows at
-- most), so scanning it is cheap, while two extra indexes cost every claimed customer four more
-- B-tree writes (an insert and a delete in each) on the ingestion hot path.
DROP INDEX leases_by_lease;
DROP INDEX leases_by_expiry;
`,
  },
  {
    version: 4,
    name: 'schedule plans',
    sql: `
-- Per customer and schedule trigger: the pending timer of the next fire and what it was computed
-- from (zone or anchor value); fired_anchor keeps a schedule from firing twice for one anchor.
CREATE TABLE schedule_plans (
  customer_id   TEXT    NOT NULL,
  trigger_name  TEXT    NOT NULL,
  timer_id      TEXT,
  due_at        INTEGER,
  anchor        TEXT,
  fired_anchor  TEXT,
  PRIMARY KEY (customer_id, trigger_name)
) WITHOUT ROWID;
-- The planner looks for customers without a plan per trigger.
CREATE INDEX schedule_plans_by_trigger ON schedule_plans (trigger_name, customer_id);
`,
  },
  {
    version: 5,
    name: 'timers by customer without due time',
    sql: `
-- A recurring schedule moves its timer's due_at on every fire; with due_at in this index each move
-- was also a delete and an insert on a random index page. A customer has few timers: sorting them
-- by due time after the lookup costs nothing.
DROP INDEX timers_by_customer;
CREATE INDEX timers_by_customer ON timers (customer_id);
`,
  },
  {
    version: 6,
    name: 'schedule plans without due time',
    sql: `
-- The plan's timer row holds the due time; keeping a copy here cost a write per fire.
ALTER TABLE schedule_plans DROP COLUMN due_at;
`,
  },
  {
    version: 7,
    name: 'delivery: lanes, attempts, providers, dead letters',
    sql: `
-- Message entries are claimed per channel (lane), so a slow provider holds back only its channel.
ALTER TABLE outbox ADD COLUMN lane TEXT;
CREATE INDEX outbox_pending_by_lane ON outbox (lane, available_at, seq) WHERE status = 'pending';

ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN provider TEXT;
-- Delivery callbacks name the provider's id, not ours.
ALTER TABLE messages ADD COLUMN provider_message_id TEXT;
CREATE INDEX messages_by_provider_id ON messages (provider_message_id)
  WHERE provider_message_id IS NOT NULL;

-- The guide's DeadLetterItem: messages no channel could deliver, kept for review.
CREATE TABLE dead_letters (
  id                TEXT    PRIMARY KEY,
  message_id        TEXT    NOT NULL UNIQUE,
  customer_id       TEXT    NOT NULL,
  channel           TEXT    NOT NULL,
  original_message  TEXT    NOT NULL,
  failure_reason    TEXT    NOT NULL,
  category          TEXT    NOT NULL,
  attempt_count     INTEGER NOT NULL,
  first_attempt_at  INTEGER NOT NULL,
  last_attempt_at   INTEGER NOT NULL,
  status            TEXT    NOT NULL
                    CHECK (status IN ('pending_review', 'retrying', 'abandoned')),
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  retry_message_id  TEXT
);
CREATE INDEX dead_letters_by_status ON dead_letters (status, created_at, id);
CREATE INDEX dead_letters_by_customer ON dead_letters (customer_id, created_at, id);
`,
  },
  {
    version: 8,
    name: 'messages send_at for contact caps',
    sql: `
-- Contact caps count a customer's messages by when they go out, deferred ones included.
ALTER TABLE messages ADD COLUMN send_at INTEGER;
UPDATE messages SET send_at = COALESCE(sent_at, created_at);
CREATE INDEX messages_contacts ON messages (customer_id, send_at);
`,
  },
  {
    version: 9,
    name: 'engagement, in-app inbox, task completion, rate buckets',
    sql: `
ALTER TABLE messages ADD COLUMN read_at INTEGER;
ALTER TABLE messages ADD COLUMN engaged_at INTEGER;
-- In-app messages leave the inbox after the channel's persistence.
ALTER TABLE messages ADD COLUMN expires_at INTEGER;
ALTER TABLE tasks ADD COLUMN completed_at INTEGER;
ALTER TABLE tasks ADD COLUMN completed_by TEXT;
-- Global throughput caps: one token bucket per channel and window, shared by every process.
CREATE TABLE rate_buckets (
  bucket      TEXT    PRIMARY KEY,
  tokens      REAL    NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
`,
  },
  {
    version: 10,
    name: 'model registry, decisions by kind',
    sql: `
-- Trained models, one row per version of a name; the newest version is the one scored with.
CREATE TABLE models (
  name        TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  kind        TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  body        TEXT    NOT NULL,
  metrics     TEXT    NOT NULL,
  source      TEXT    NOT NULL,
  PRIMARY KEY (name, version)
) WITHOUT ROWID;
-- A customer's predictions (and next-best-action decisions) are read by kind on the timeline.
CREATE INDEX decisions_by_customer_kind ON decisions (customer_id, kind, at);
`,
  },
  {
    version: 11,
    name: 'process roles',
    sql: `
-- Roles one process at a time holds (the scheduler), as leases that expire: a process that dies
-- loses its role when the lease runs out, one that stops gives it up by deleting its row.
CREATE TABLE role_leases (
  role        TEXT    PRIMARY KEY,
  holder      TEXT    NOT NULL,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
`,
  },
  {
    version: 12,
    name: 'enrollment counts kept by triggers',
    sql: `
-- Enrollments per journey, status and stage, kept up to date by triggers in the transaction that
-- changes an enrollment. Counting the enrollments themselves scans an index as large as the table
-- (every enrollment ever made), and better-sqlite3 is synchronous: on a database of millions of
-- enrollments every metrics scrape or journey-metrics call would stall the process that long.
-- Rows count down to 0 and stay; readers skip zeros.
CREATE TABLE journey_enrollment_counts (
  journey_id   TEXT    NOT NULL,
  status       TEXT    NOT NULL,
  stage        TEXT    NOT NULL,
  enrollments  INTEGER NOT NULL,
  PRIMARY KEY (journey_id, status, stage)
) WITHOUT ROWID;
INSERT INTO journey_enrollment_counts (journey_id, status, stage, enrollments)
  SELECT journey_id, status, stage, COUNT(*) FROM journey_enrollments
   GROUP BY journey_id, status, stage;

-- An upsert that takes its DO UPDATE path fires the UPDATE trigger, not the INSERT one.
CREATE TRIGGER journey_enrollments_count_insert AFTER INSERT ON journey_enrollments
BEGIN
  INSERT INTO journey_enrollment_counts (journey_id, status, stage, enrollments)
    VALUES (new.journey_id, new.status, new.stage, 1)
    ON CONFLICT (journey_id, status, stage) DO UPDATE SET enrollments = enrollments + 1;
END;
CREATE TRIGGER journey_enrollments_count_update
  AFTER UPDATE OF journey_id, status, stage ON journey_enrollments
  WHEN old.journey_id IS NOT new.journey_id OR old.status IS NOT new.status
    OR old.stage IS NOT new.stage
BEGIN
  UPDATE journey_enrollment_counts SET enrollments = enrollments - 1
   WHERE journey_id = old.journey_id AND status = old.status AND stage = old.stage;
  INSERT INTO journey_enrollment_counts (journey_id, status, stage, enrollments)
    VALUES (new.journey_id, new.status, new.stage, 1)
    ON CONFLICT (journey_id, status, stage) DO UPDATE SET enrollments = enrollments + 1;
END;
CREATE TRIGGER journey_enrollments_count_delete AFTER DELETE ON journey_enrollments
BEGIN
  UPDATE journey_enrollment_counts SET enrollments = enrollments - 1
   WHERE journey_id = old.journey_id AND status = old.status AND stage = old.stage;
END;
`,
  },
];

/** Version of the newest migration this code knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL,
  applied_at  INTEGER NOT NULL
)`;

/** The highest applied migration version, 0 for an empty database. */
export function schemaVersion(db: SqliteDatabase): number {
  const table = db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
    )
    .get();
  if (table === undefined) return 0;
  const row = db
    .prepare<[], { version: number | null }>(
      'SELECT MAX(version) AS version FROM schema_migrations',
    )
    .get();
  return row?.version ?? 0;
}

/**
 * Applies the migrations the database has not seen, each in its own `BEGIN IMMEDIATE` transaction
 * that re-checks the recorded versions first: several processes starting at once serialise on the
 * write lock and each migration runs exactly once. Returns the versions applied by this call.
 */
export function applyMigrations(
  db: SqliteDatabase,
  migrations: readonly Migration[],
  clock: Clock,
): number[] {
  checkMigrationList(migrations);
  db.exec(CREATE_MIGRATIONS_TABLE);
  const latest = migrations.at(-1)?.version ?? 0;
  const current = schemaVersion(db);
  if (current > latest) {
    throw new StoreError(
      'STORE_SCHEMA_TOO_NEW',
      `the database is at schema version ${current}, newer than this Waymark knows (${latest}); upgrade Waymark`,
      { details: { databaseVersion: current, knownVersion: latest } },
    );
  }
  const isApplied = db.prepare<[number], { version: number }>(
    'SELECT version FROM schema_migrations WHERE version = ?',
  );
  const record = db.prepare<[number, string, number], never>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    const apply = db.transaction(() => {
      if (isApplied.get(migration.version) !== undefined) return;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, clock.now());
      applied.push(migration.version);
    });
    apply.immediate();
  }
  return applied;
}

/** Rejects a list that is not 1, 2, 3, ...: a gap or a reordering is a programming error. */
function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new StoreError(
        'STORE_FAILED',
        `migration '${migration.name}' has version ${migration.version}, expected ${index + 1}`,
      );
    }
  });
}

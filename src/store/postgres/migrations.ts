/**
 * The PostgreSQL schema as numbered migrations.
 *
 * Rules for this list (the same as SQLite's):
 * - append only: a released migration is never edited, a change is a new migration;
 * - versions strictly increase by one;
 * - each migration runs in its own transaction together with its row in `schema_migrations`, so a
 *   crash leaves the schema at a version boundary, never half-applied (PostgreSQL's DDL is
 *   transactional).
 *
 * The numbering is this backend's own: PostgreSQL starts at the schema SQLite reached after its
 * tenth migration, so version 1 here holds all of it. Tables and columns carry the same names as
 * in SQLite, which are the specification's names (`journey_enrollments.stage`, `messages.sent_at`,
 * `trigger_executions.processing_time_ms`, ...), so the guide's diagnostic queries run as written.
 *
 * Conventions of the schema:
 * - every instant is `timestamptz` (the diagnostic queries compare them with `NOW() - INTERVAL`);
 *   the store converts to and from epoch ms at its boundary (see `driver.ts`);
 * - JSON is `jsonb`, booleans are `boolean`, ids are `text`;
 * - every text column is `COLLATE "C"`: ids sort and compare bytewise, as in SQLite and the same
 *   whatever locale the database was created with, so keyset pagination (`id > $1`) and listings
 *   agree on every backend. Bytewise comparison is also the cheapest for B-trees.
 *
 * Deliberately no foreign key from the history tables to `customers`, as in SQLite: events arrive
 * before a profile exists, and deleting a profile must not delete, or be blocked by, its history.
 */
import { StoreError } from '../errors.js';
import type { Clock } from '../contract.js';
import type { Queryable } from './driver.js';
import { inTransaction } from './driver.js';
import type pg from 'pg';

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
  id          text COLLATE "C" PRIMARY KEY,
  attributes  jsonb       NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);

-- The event log. seq orders events globally in receive order. A sequence is not commit-ordered
-- across transactions; per customer it is, because appenders hold the customer's lease row (see
-- leases) while they insert.
CREATE TABLE events (
  seq              bigserial PRIMARY KEY,
  id               text COLLATE "C" NOT NULL UNIQUE,
  idempotency_key  text COLLATE "C" UNIQUE,
  customer_id      text COLLATE "C" NOT NULL,
  type             text COLLATE "C" NOT NULL,
  occurred_at      timestamptz NOT NULL,
  received_at      timestamptz NOT NULL,
  payload          jsonb       NOT NULL,
  status           text COLLATE "C" NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'processed', 'failed')),
  error            text COLLATE "C",
  processed_at     timestamptz
);
-- Partial indexes: processed events (nearly all of them) cost nothing in the claim path.
CREATE INDEX events_pending_by_seq ON events (seq) WHERE status = 'pending';
CREATE INDEX events_pending_by_customer ON events (customer_id, seq) WHERE status = 'pending';

CREATE TABLE timers (
  id             text COLLATE "C" PRIMARY KEY,
  customer_id    text COLLATE "C" NOT NULL,
  enrollment_id  text COLLATE "C",
  kind           text COLLATE "C" NOT NULL,
  due_at         timestamptz NOT NULL,
  payload        jsonb       NOT NULL,
  status         text COLLATE "C" NOT NULL CHECK (status IN ('pending', 'fired', 'cancelled'))
);
CREATE INDEX timers_pending_by_due ON timers (due_at, id) WHERE status = 'pending';
-- Without due_at: a recurring schedule moves its timer's due time on every fire, and a customer
-- has few timers to sort after the lookup.
CREATE INDEX timers_by_customer ON timers (customer_id);
CREATE INDEX timers_by_enrollment ON timers (enrollment_id) WHERE enrollment_id IS NOT NULL;

CREATE TABLE journey_enrollments (
  id               text COLLATE "C" PRIMARY KEY,
  journey_id       text COLLATE "C" NOT NULL,
  journey_version  integer     NOT NULL,
  customer_id      text COLLATE "C" NOT NULL,
  status           text COLLATE "C" NOT NULL CHECK (status IN ('active', 'completed', 'exited')),
  stage            text COLLATE "C" NOT NULL,
  step_id          text COLLATE "C",
  state            jsonb       NOT NULL,
  holdout          boolean     NOT NULL,
  enrolled_at      timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  ended_at         timestamptz,
  exit_reason      text COLLATE "C"
);
CREATE INDEX journey_enrollments_by_customer
  ON journey_enrollments (customer_id, journey_id, status);
CREATE INDEX journey_enrollments_by_journey
  ON journey_enrollments (journey_id, status, stage);
-- "Check stuck journeys" (updated_at < NOW() - INTERVAL '7 days' AND status = 'active'): only
-- active enrollments are in this index, ordered by their last change, so the query reads the
-- stale end of it and nothing else; journey_id and stage ride along (INCLUDE) so the grouping
-- needs no visit to the table for pages the visibility map marks all-visible.
CREATE INDEX journey_enrollments_active_by_update
  ON journey_enrollments (updated_at) INCLUDE (journey_id, stage) WHERE status = 'active';

CREATE TABLE messages (
  id                   text COLLATE "C" PRIMARY KEY,
  customer_id          text COLLATE "C" NOT NULL,
  journey_id           text COLLATE "C",
  enrollment_id        text COLLATE "C",
  step_id              text COLLATE "C",
  channel              text COLLATE "C" NOT NULL,
  priority             text COLLATE "C" NOT NULL,
  status               text COLLATE "C" NOT NULL,
  content              jsonb       NOT NULL,
  -- The key a provider sees: one message per key, whatever retries or replays happen.
  idempotency_key      text COLLATE "C" NOT NULL UNIQUE,
  created_at           timestamptz NOT NULL,
  sent_at              timestamptz,
  updated_at           timestamptz NOT NULL,
  error                text COLLATE "C",
  attempts             integer     NOT NULL DEFAULT 0,
  provider             text COLLATE "C",
  provider_message_id  text COLLATE "C",
  -- When it goes out (created_at, or the end of what held it): contact caps count by it.
  send_at              timestamptz,
  read_at              timestamptz,
  engaged_at           timestamptz,
  expires_at           timestamptz
);
CREATE INDEX messages_by_customer ON messages (customer_id, created_at);
CREATE INDEX messages_by_journey ON messages (journey_id, created_at);
CREATE INDEX messages_contacts ON messages (customer_id, send_at);
-- Delivery callbacks name the provider's id, not ours.
CREATE INDEX messages_by_provider_id ON messages (provider_message_id)
  WHERE provider_message_id IS NOT NULL;
-- "Message delivery issues" (sent_at > NOW() - INTERVAL '24 hours'): at 10M messages a day's
-- worth is a narrow range at the top of this index, read in order without touching older rows;
-- channel and status are included for the grouping. Messages never attempted (sent_at NULL) are
-- left out: the query's strict comparison implies sent_at IS NOT NULL, so the planner uses the
-- partial index, and queued or suppressed messages cost the index nothing.
CREATE INDEX messages_by_sent_at ON messages (sent_at) INCLUDE (channel, status)
  WHERE sent_at IS NOT NULL;

-- Transactional outbox: effects written with the state change that caused them. Claims are by
-- status, not by a cursor, so an entry whose transaction commits after a later seq's is simply
-- claimed by a later pass: a sequence that is not commit-ordered loses nothing here.
CREATE TABLE outbox (
  seq              bigserial PRIMARY KEY,
  kind             text COLLATE "C" NOT NULL,
  idempotency_key  text COLLATE "C" NOT NULL UNIQUE,
  payload          jsonb       NOT NULL,
  available_at     timestamptz NOT NULL,
  attempts         integer     NOT NULL DEFAULT 0,
  status           text COLLATE "C" NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
  last_error       text COLLATE "C",
  -- Message entries are claimed per channel, so a slow provider holds back only its channel.
  lane             text COLLATE "C"
);
CREATE INDEX outbox_pending_by_available ON outbox (available_at, seq) WHERE status = 'pending';
CREATE INDEX outbox_pending_by_lane ON outbox (lane, available_at, seq) WHERE status = 'pending';

-- Journey events are read by consumers through a seq cursor (consumer_cursors), so here seq must
-- be commit-ordered: writers take the journey-events commit lock (an advisory transaction lock)
-- just before inserting, and hold it until they commit. A reader can then never see seq 11
-- before seq 10 is visible.
CREATE TABLE journey_events (
  seq          bigserial PRIMARY KEY,
  type         text COLLATE "C" NOT NULL,
  journey_id   text COLLATE "C" NOT NULL,
  customer_id  text COLLATE "C" NOT NULL,
  occurred_at  timestamptz NOT NULL,
  data         jsonb       NOT NULL
);
CREATE INDEX journey_events_by_customer ON journey_events (customer_id, seq);
CREATE INDEX journey_events_by_journey ON journey_events (journey_id, seq);

CREATE TABLE consumer_cursors (
  consumer  text COLLATE "C" PRIMARY KEY,
  last_seq  bigint NOT NULL
);

CREATE TABLE trigger_executions (
  id                  bigserial PRIMARY KEY,
  trigger_name        text COLLATE "C" NOT NULL,
  customer_id         text COLLATE "C" NOT NULL,
  event_seq           bigint,
  executed_at         timestamptz      NOT NULL,
  processing_time_ms  double precision NOT NULL,
  fired               boolean          NOT NULL
);
-- "Trigger performance" (executed_at > NOW() - INTERVAL '1 hour'): the last hour is the top of
-- this index; trigger_name and processing_time_ms are included, and the table is append-only, so
-- after a vacuum the query is an index-only scan of the last hour. Retention deletes by it too.
CREATE INDEX trigger_executions_by_time
  ON trigger_executions (executed_at) INCLUDE (trigger_name, processing_time_ms);
CREATE INDEX trigger_executions_by_trigger ON trigger_executions (trigger_name, executed_at);

-- Last truth value of each condition trigger per customer (edge detection); read per customer.
CREATE TABLE trigger_states (
  customer_id   text COLLATE "C" NOT NULL,
  trigger_name  text COLLATE "C" NOT NULL,
  value         boolean NOT NULL,
  PRIMARY KEY (customer_id, trigger_name)
);

CREATE TABLE rule_fires (
  id           bigserial PRIMARY KEY,
  rule_id      text COLLATE "C" NOT NULL,
  customer_id  text COLLATE "C" NOT NULL,
  fired_at     timestamptz NOT NULL
);
CREATE INDEX rule_fires_by_customer ON rule_fires (customer_id, fired_at);

CREATE TABLE decisions (
  id           text COLLATE "C" PRIMARY KEY,
  customer_id  text COLLATE "C" NOT NULL,
  kind         text COLLATE "C" NOT NULL,
  at           timestamptz NOT NULL,
  subject      text COLLATE "C",
  explanation  jsonb       NOT NULL
);
CREATE INDEX decisions_by_customer ON decisions (customer_id, at);
-- A customer's predictions (and next-best-action decisions) are read by kind on the timeline.
CREATE INDEX decisions_by_customer_kind ON decisions (customer_id, kind, at);

-- Trained models, one row per version of a name; the newest version is the one scored with.
CREATE TABLE models (
  name        text COLLATE "C" NOT NULL,
  version     integer     NOT NULL,
  kind        text COLLATE "C" NOT NULL,
  created_at  timestamptz NOT NULL,
  body        jsonb       NOT NULL,
  metrics     jsonb       NOT NULL,
  source      text COLLATE "C" NOT NULL,
  PRIMARY KEY (name, version)
);

CREATE TABLE tasks (
  id            text COLLATE "C" PRIMARY KEY,
  customer_id   text COLLATE "C" NOT NULL,
  journey_id    text COLLATE "C",
  title         text COLLATE "C" NOT NULL,
  assignee      text COLLATE "C",
  due_at        timestamptz,
  status        text COLLATE "C" NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
  created_at    timestamptz NOT NULL,
  data          jsonb       NOT NULL,
  completed_at  timestamptz,
  completed_by  text COLLATE "C"
);
CREATE INDEX tasks_by_customer ON tasks (customer_id, created_at);
CREATE INDEX tasks_by_status ON tasks (status, created_at);

CREATE TABLE alerts (
  id           text COLLATE "C" PRIMARY KEY,
  customer_id  text COLLATE "C",
  journey_id   text COLLATE "C",
  severity     text COLLATE "C" NOT NULL,
  message      text COLLATE "C" NOT NULL,
  assignee     text COLLATE "C",
  status       text COLLATE "C" NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  created_at   timestamptz NOT NULL,
  data         jsonb       NOT NULL
);
CREATE INDEX alerts_by_status ON alerts (status, created_at);

-- Journey control state: which version is current, and whether the journey is paused.
CREATE TABLE journeys (
  journey_id       text COLLATE "C" PRIMARY KEY,
  current_version  integer     NOT NULL,
  status           text COLLATE "C" NOT NULL CHECK (status IN ('active', 'paused')),
  updated_at       timestamptz NOT NULL
);

CREATE TABLE journey_versions (
  journey_id  text COLLATE "C" NOT NULL REFERENCES journeys (journey_id),
  version     integer     NOT NULL,
  hash        text COLLATE "C" NOT NULL,
  definition  jsonb       NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (journey_id, version)
);

-- Who holds which customer. Unlike SQLite's (a row per lease, deleted on release), a row here
-- stays once a customer has had work, and the lease columns are NULL while nobody holds it: a
-- row that always exists can be locked. Claims lock these rows FOR UPDATE SKIP LOCKED (two
-- claimers never wait for, nor get, the same customer); appenders lock a customer's row FOR KEY
-- SHARE while they insert its events, so a claim never reads a customer whose earlier event is
-- still uncommitted; commits lock their rows FOR NO KEY UPDATE to check the lease is still theirs.
-- Only the primary key is indexed, and the updated columns are not, so a lease taken and
-- released is two HOT updates; the fill factor leaves room on each page for them.
CREATE TABLE leases (
  customer_id  text COLLATE "C" PRIMARY KEY,
  lease_id     text COLLATE "C",
  worker_id    text COLLATE "C",
  claimed_at   timestamptz,
  expires_at   timestamptz
) WITH (fillfactor = 70);

-- Per customer and schedule trigger: the pending timer of the next fire and what it was computed
-- from (zone or anchor value); fired_anchor keeps a schedule from firing twice for one anchor.
CREATE TABLE schedule_plans (
  customer_id   text COLLATE "C" NOT NULL,
  trigger_name  text COLLATE "C" NOT NULL,
  timer_id      text COLLATE "C",
  anchor        text COLLATE "C",
  fired_anchor  text COLLATE "C",
  PRIMARY KEY (customer_id, trigger_name)
);
-- The planner looks for customers without a plan per trigger.
CREATE INDEX schedule_plans_by_trigger ON schedule_plans (trigger_name, customer_id);

-- The guide's DeadLetterItem: messages no channel could deliver, kept for review.
CREATE TABLE dead_letters (
  id                text COLLATE "C" PRIMARY KEY,
  message_id        text COLLATE "C" NOT NULL UNIQUE,
  customer_id       text COLLATE "C" NOT NULL,
  channel           text COLLATE "C" NOT NULL,
  original_message  jsonb       NOT NULL,
  failure_reason    text COLLATE "C" NOT NULL,
  category          text COLLATE "C" NOT NULL,
  attempt_count     integer     NOT NULL,
  first_attempt_at  timestamptz NOT NULL,
  last_attempt_at   timestamptz NOT NULL,
  status            text COLLATE "C" NOT NULL
                    CHECK (status IN ('pending_review', 'retrying', 'abandoned')),
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  retry_message_id  text COLLATE "C"
);
CREATE INDEX dead_letters_by_status ON dead_letters (status, created_at, id);
CREATE INDEX dead_letters_by_customer ON dead_letters (customer_id, created_at, id);

-- Global throughput caps: one token bucket per channel and window, shared by every process.
CREATE TABLE rate_buckets (
  bucket      text COLLATE "C" PRIMARY KEY,
  tokens      double precision NOT NULL,
  updated_at  timestamptz      NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'process roles',
    sql: `
-- Roles one process at a time holds (the scheduler), as leases that expire: a process that dies
-- loses its role when the lease runs out, one that stops gives it up by deleting its row. A row,
-- not a session advisory lock, so it works through PgBouncer in transaction mode and outlives no
-- connection.
CREATE TABLE role_leases (
  role        text COLLATE "C" PRIMARY KEY,
  holder      text COLLATE "C" NOT NULL,
  expires_at  timestamptz      NOT NULL
);
`,
  },
];

/** Version of the newest migration this code knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/**
 * Advisory lock key of migrations (any 64-bit number unlikely to clash with an application's
 * own advisory locks; these are the bytes of "waymark" read as an integer).
 */
export const MIGRATION_LOCK_KEY = '33602696382607979';

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     integer     PRIMARY KEY,
  name        text        NOT NULL,
  applied_at  timestamptz NOT NULL
)`;

/** The highest applied migration version, 0 for an empty database (or schema). */
export async function schemaVersion(db: Queryable): Promise<number> {
  const table = await db.query<{ present: boolean }>(
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS present`,
  );
  if (table.rows[0]?.present !== true) return 0;
  const row = await db.query<{ version: number | null }>(
    'SELECT MAX(version) AS version FROM schema_migrations',
  );
  return row.rows[0]?.version ?? 0;
}

/**
 * Applies the migrations the database has not seen. Every step runs in a transaction that first
 * takes the migration advisory lock (`pg_advisory_xact_lock`), then re-reads the applied versions:
 * processes starting at once queue on the lock, and each migration runs exactly once, by whichever
 * got there first. Returns the versions applied by this call.
 *
 * `schema`, when given, is created first (under the same lock: two concurrent `CREATE SCHEMA IF
 * NOT EXISTS` can still collide on the catalog's unique index).
 */
export async function applyMigrations(
  pool: pg.Pool,
  migrations: readonly Migration[],
  clock: Clock,
  schema: string | undefined,
): Promise<number[]> {
  checkMigrationList(migrations);
  const latest = migrations.at(-1)?.version ?? 0;
  const current = await inTransaction(pool, async (db) => {
    await db.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    // The name was checked by the store (a plain identifier), so it may be spliced in.
    if (schema !== undefined) await db.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await db.query(CREATE_MIGRATIONS_TABLE);
    return schemaVersion(db);
  });
  if (current > latest) {
    throw new StoreError(
      'STORE_SCHEMA_TOO_NEW',
      `the database is at schema version ${current}, newer than this Waymark knows (${latest}); upgrade Waymark`,
      { details: { databaseVersion: current, knownVersion: latest } },
    );
  }
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    await inTransaction(pool, async (db) => {
      await db.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      const done = await db.query('SELECT 1 FROM schema_migrations WHERE version = $1', [
        migration.version,
      ]);
      if (done.rows.length > 0) return;
      // No parameters: the simple query protocol, which runs a whole script of statements.
      await db.query(migration.sql);
      await db.query(
        `INSERT INTO schema_migrations (version, name, applied_at)
         VALUES ($1, $2, to_timestamp($3::float8 / 1000))`,
        [migration.version, migration.name, clock.now()],
      );
      applied.push(migration.version);
    });
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

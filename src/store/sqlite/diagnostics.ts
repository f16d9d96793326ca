/**
 * The specification's three diagnostic queries ("Diagnostic Queries" in the guide), translated
 * for SQLite.
 *
 * Same tables, columns, filters, grouping and ordering as the guide's PostgreSQL text; only two
 * things change: `NOW()` becomes a bound parameter (the store never reads a database clock, so
 * simulation and tests see the same answers as production), and `INTERVAL '7 days'` becomes
 * milliseconds because instants are INTEGER epoch ms here. Result columns keep the names
 * PostgreSQL gives them (`count`, `avg`).
 */
import type { Instant } from '../contract.js';
import type {
  Diagnostics,
  MessageDeliveryRow,
  StuckJourneyRow,
  TriggerPerformanceRow,
} from '../diagnostics.js';
import type { SqliteDatabase, Statement } from './driver.js';
import { SqliteStore } from './sqlite-store.js';

export type {
  Diagnostics,
  MessageDeliveryRow,
  StuckJourneyRow,
  TriggerPerformanceRow,
} from '../diagnostics.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The queries as run, each taking `now` (epoch ms) as its only parameter. */
export const DIAGNOSTIC_QUERIES = {
  /** Check stuck journeys: active enrollments untouched for 7 days, per journey and stage. */
  stuckJourneys: `
SELECT journey_id, stage, COUNT(*) AS count
FROM journey_enrollments
WHERE updated_at < ? - ${7 * DAY_MS}
  AND status = 'active'
GROUP BY journey_id, stage`,
  /** Message delivery issues: messages attempted in the last 24 hours, per channel and status. */
  messageDeliveryIssues: `
SELECT channel, status, COUNT(*) AS count
FROM messages
WHERE sent_at > ? - ${DAY_MS}
GROUP BY channel, status`,
  /** Trigger performance: average processing time per trigger over the last hour, slowest first. */
  triggerPerformance: `
SELECT trigger_name, AVG(processing_time_ms) AS avg, COUNT(*) AS count
FROM trigger_executions
WHERE executed_at > ? - ${HOUR_MS}
GROUP BY trigger_name
ORDER BY AVG(processing_time_ms) DESC`,
} as const;

interface DiagnosticStatements {
  stuckJourneys: Statement<[number], StuckJourneyRow>;
  messageDeliveryIssues: Statement<[number], MessageDeliveryRow>;
  triggerPerformance: Statement<[number], TriggerPerformanceRow>;
}

/** Prepared once per connection. */
const prepared = new WeakMap<SqliteDatabase, DiagnosticStatements>();

/** Runs the three diagnostic queries against a store (or a raw connection to a migrated database). */
export function runDiagnostics(source: SqliteStore | SqliteDatabase, now: Instant): Diagnostics {
  const db = source instanceof SqliteStore ? source.database : source;
  let statements = prepared.get(db);
  if (statements === undefined) {
    statements = {
      stuckJourneys: db.prepare(DIAGNOSTIC_QUERIES.stuckJourneys),
      messageDeliveryIssues: db.prepare(DIAGNOSTIC_QUERIES.messageDeliveryIssues),
      triggerPerformance: db.prepare(DIAGNOSTIC_QUERIES.triggerPerformance),
    };
    prepared.set(db, statements);
  }
  return {
    stuckJourneys: statements.stuckJourneys.all(now),
    messageDeliveryIssues: statements.messageDeliveryIssues.all(now),
    triggerPerformance: statements.triggerPerformance.all(now),
  };
}

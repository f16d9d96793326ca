/**
 * The specification's three diagnostic queries ("Diagnostic Queries" in the guide), run on
 * PostgreSQL exactly as the guide writes them.
 *
 * Unlike everything else the store does, they read the database's clock (`NOW()`): they are the
 * guide's text, meant to be pasted into psql by an operator, and the schema is built so that they
 * work there as written (`timestamptz` instants, the guide's table and column names) and stay fast
 * on big tables (see the indexes named in `migrations.ts`). The engine never depends on them.
 */
import type { Diagnostics } from '../diagnostics.js';
import type { PostgresStore } from './postgres-store.js';

export type {
  Diagnostics,
  MessageDeliveryRow,
  StuckJourneyRow,
  TriggerPerformanceRow,
} from '../diagnostics.js';

/** The guide's queries, character for character (only the comment lines are left out). */
export const DIAGNOSTIC_QUERIES = {
  /** Check stuck journeys: active enrollments untouched for 7 days, per journey and stage. */
  stuckJourneys: `SELECT journey_id, stage, COUNT(*)
FROM journey_enrollments
WHERE updated_at < NOW() - INTERVAL '7 days'
  AND status = 'active'
GROUP BY journey_id, stage;`,
  /** Message delivery issues: messages attempted in the last 24 hours, per channel and status. */
  messageDeliveryIssues: `SELECT channel, status, COUNT(*)
FROM messages
WHERE sent_at > NOW() - INTERVAL '24 hours'
GROUP BY channel, status;`,
  /** Trigger performance: average processing time per trigger over the last hour, slowest first. */
  triggerPerformance: `SELECT trigger_name, AVG(processing_time_ms), COUNT(*)
FROM trigger_executions
WHERE executed_at > NOW() - INTERVAL '1 hour'
GROUP BY trigger_name
ORDER BY AVG(processing_time_ms) DESC;`,
} as const;

/**
 * Runs the three queries against a PostgreSQL store, at the database's `NOW()`. Counts come back
 * as numbers (the store reads `bigint` as a number), and the columns have PostgreSQL's default
 * names, `count` and `avg`, which is what SQLite's translation names them too.
 */
export async function runDiagnostics(store: PostgresStore): Promise<Diagnostics> {
  return {
    stuckJourneys: await store.query(DIAGNOSTIC_QUERIES.stuckJourneys),
    messageDeliveryIssues: await store.query(DIAGNOSTIC_QUERIES.messageDeliveryIssues),
    triggerPerformance: await store.query(DIAGNOSTIC_QUERIES.triggerPerformance),
  };
}

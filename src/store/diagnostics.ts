/**
 * What the specification's three diagnostic queries ("Diagnostic Queries" in the guide) return,
 * the same on every backend: result columns keep the names PostgreSQL gives them (`count`, `avg`).
 * Each backend runs them its own way (`sqlite/diagnostics.ts`, `postgres/diagnostics.ts`).
 */

/** A row of "check stuck journeys". */
export interface StuckJourneyRow {
  journey_id: string;
  stage: string;
  count: number;
}

/** A row of "message delivery issues". */
export interface MessageDeliveryRow {
  channel: string;
  status: string;
  count: number;
}

/** A row of "trigger performance". */
export interface TriggerPerformanceRow {
  trigger_name: string;
  /** Average `processing_time_ms`. */
  avg: number;
  count: number;
}

/** The answers of the three queries at one instant. */
export interface Diagnostics {
  stuckJourneys: StuckJourneyRow[];
  messageDeliveryIssues: MessageDeliveryRow[];
  triggerPerformance: TriggerPerformanceRow[];
}

/**
 * How records map to PostgreSQL rows and back. The driver has already turned `timestamptz` into
 * epoch ms, `bigint` into numbers and `jsonb` into objects (see `driver.ts`), so a row differs from
 * its record only in column names. The mappers are shared with SQLite (`../rows.ts`).
 */
import type { JsonObject } from '../contract.js';
import { rowMappers } from '../rows.js';
import type * as Rows from '../rows.js';

/** JSON text of a stored object, for a `jsonb` parameter. */
export function toJson(value: JsonObject): string {
  return JSON.stringify(value);
}

// The tables' rows as node-postgres hands them over: `jsonb` parsed, booleans as booleans.
export type CustomerRow = Rows.CustomerRow<JsonObject>;
export type EventRow = Rows.EventRow<JsonObject>;
export type TimerRow = Rows.TimerRow<JsonObject>;
export type SchedulePlanRow = Rows.SchedulePlanRow;
export type EnrollmentRow = Rows.EnrollmentRow<JsonObject, boolean>;
export type MessageRow = Rows.MessageRow<JsonObject>;
export type OutboxRow = Rows.OutboxRow<JsonObject>;
export type DeadLetterRow = Rows.DeadLetterRow<JsonObject>;
export type JourneyEventRow = Rows.JourneyEventRow<JsonObject>;
export type TriggerExecutionRow = Rows.TriggerExecutionRow<boolean>;
export type DecisionRow = Rows.DecisionRow<JsonObject>;
export type ModelRow = Rows.ModelRow<JsonObject>;
export type TaskRow = Rows.TaskRow<JsonObject>;
export type AlertRow = Rows.AlertRow<JsonObject>;
export type JourneyVersionRow = Rows.JourneyVersionRow<JsonObject>;
export type JourneyStateRow = Rows.JourneyStateRow;

/** Records from PostgreSQL rows. */
export const {
  customerFromRow,
  eventFromRow,
  timerFromRow,
  schedulePlanFromRow,
  enrollmentFromRow,
  messageFromRow,
  outboxFromRow,
  deadLetterFromRow,
  journeyEventFromRow,
  triggerExecutionFromRow,
  decisionFromRow,
  modelFromRow,
  taskFromRow,
  alertFromRow,
  journeyVersionFromRow,
  journeyStateFromRow,
} = rowMappers<JsonObject, boolean>({ json: (value) => value, flag: (value) => value });

/**
 * How records map to SQLite rows and back. Instants are INTEGER epoch ms, JSON is TEXT and booleans
 * are 0/1, so every column a record has is visible to plain SQL (the diagnostic queries, ad-hoc
 * `sqlite3` sessions) without decoding. The mappers are shared with PostgreSQL (`../rows.ts`).
 */
import type { JsonObject } from '../contract.js';
import { rowMappers } from '../rows.js';
import type * as Rows from '../rows.js';

/** JSON text of a stored object. */
export function toJson(value: JsonObject): string {
  return JSON.stringify(value);
}

/** The object back from its JSON text; the store only ever writes objects there. */
export function fromJson(text: string): JsonObject {
  return JSON.parse(text) as JsonObject;
}

// The tables' rows as SQLite hands them over: JSON columns as TEXT, flags as 0/1.
export type CustomerRow = Rows.CustomerRow<string>;
export type EventRow = Rows.EventRow<string>;
export type TimerRow = Rows.TimerRow<string>;
export type SchedulePlanRow = Rows.SchedulePlanRow;
export type EnrollmentRow = Rows.EnrollmentRow<string, number>;
export type MessageRow = Rows.MessageRow<string>;
export type OutboxRow = Rows.OutboxRow<string>;
export type DeadLetterRow = Rows.DeadLetterRow<string>;
export type JourneyEventRow = Rows.JourneyEventRow<string>;
export type TriggerExecutionRow = Rows.TriggerExecutionRow<number>;
export type DecisionRow = Rows.DecisionRow<string>;
export type ModelRow = Rows.ModelRow<string>;
export type TaskRow = Rows.TaskRow<string>;
export type AlertRow = Rows.AlertRow<string>;
export type JourneyVersionRow = Rows.JourneyVersionRow<string>;
export type JourneyStateRow = Rows.JourneyStateRow;

/** Records from SQLite rows. */
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
} = rowMappers<string, number>({ json: fromJson, flag: (value) => value === 1 });

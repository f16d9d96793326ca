/** Reading fields of JSON payloads (events, outbox entries, commands) without trusting them. */
import type { JsonObject } from '../core/index.js';

/** A string field, or null when absent or not a string. */
export function stringField(payload: JsonObject, key: string): string | null {
  const v = payload[key];
  return typeof v === 'string' ? v : null;
}

/** The strings of a list, or [] when it is not one. */
export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A JSON object, or null when the value is anything else. */
export function asObject(value: unknown): JsonObject | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : null;
}

/**
 * Behavioural features, kept incrementally on the profile and read the same way for training and
 * for live scoring.
 *
 * Glossary:
 * - **activity record**: `attributes.activity`, updated by the engine with every behavioural
 *   event (not `customer.*`, not engine commands): for all events together (`all`) and for each
 *   tracked event type (`defaults.activity.events`), the first and last time, the total, and the
 *   count per UTC day for the last `ACTIVITY_DAYS` days. One event costs one small update; nothing
 *   ever rescans the event log.
 * - **activity features**: numbers derived from the record *at an instant* — days since the last
 *   event, counts over 7, 30 and 90 days, days since the first event, the total. Derived at
 *   scoring time (for live scoring) and at training time (for training), by `activityFeatures`,
 *   so a model sees exactly the same columns in both. Conditions can read the raw record too
 *   (`customer.activity.all.total`), but its windows only move when events arrive; models and the
 *   next-best-action read the derived features.
 */

/** Days of daily counts kept (the longest window). */
export const ACTIVITY_DAYS = 90;
/** The windows counted, in days. */
export const ACTIVITY_WINDOWS = [7, 30, 90] as const;

const DAY = 86_400_000;

/** One tracked stream of events (all events, or one type). */
export interface ActivityCounter {
  first: number;
  last: number;
  total: number;
  /** Events per UTC day number (epoch days), for the last `ACTIVITY_DAYS` days. */
  days: Record<string, number>;
}

/** `attributes.activity`: counters by key (`all`, or an event type). */
export type ActivityRecord = Record<string, ActivityCounter>;

/**
 * The record after one event of `type` at `at` (a new object; the old one is not changed).
 * `tracked` are the event types counted on their own besides `all`.
 */
export function recordActivity(
  previous: unknown,
  type: string,
  at: number,
  tracked: ReadonlySet<string>,
): ActivityRecord {
  const record: ActivityRecord = { ...readRecord(previous) };
  const keys = tracked.has(type) ? ['all', type] : ['all'];
  for (const key of keys) record[key] = bump(record[key], at);
  return record;
}

function bump(counter: ActivityCounter | undefined, at: number): ActivityCounter {
  const day = Math.floor(at / DAY);
  const days: Record<string, number> = {};
  for (const [d, n] of Object.entries(counter?.days ?? {})) {
    // Older days fall out; a late event (occurred before the newest) still counts on its day.
    if (Number(d) > day - ACTIVITY_DAYS) days[d] = n;
  }
  days[String(day)] = (days[String(day)] ?? 0) + 1;
  return {
    first: Math.min(counter?.first ?? at, at),
    last: Math.max(counter?.last ?? at, at),
    total: (counter?.total ?? 0) + 1,
    days,
  };
}

/** The features of a record at `now`, as flat numeric columns named `activity_<key>_<feature>`. */
export function activityFeatures(record: unknown, now: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, counter] of Object.entries(readRecord(record))) {
    const name = `activity_${key.replace(/[^A-Za-z0-9]+/gu, '_')}`;
    out[`${name}_days_since_last`] = round((now - counter.last) / DAY);
    out[`${name}_days_since_first`] = round((now - counter.first) / DAY);
    out[`${name}_total`] = counter.total;
    const today = Math.floor(now / DAY);
    for (const window of ACTIVITY_WINDOWS) {
      let count = 0;
      for (const [d, n] of Object.entries(counter.days)) {
        const day = Number(d);
        if (day > today - window && day <= today) count += n;
      }
      out[`${name}_${window}d`] = count;
    }
  }
  return out;
}

/** A stored record, tolerating anything (a hand-edited profile must not break scoring). */
function readRecord(value: unknown): ActivityRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: ActivityRecord = {};
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) continue;
    const c = raw as Record<string, unknown>;
    if (typeof c['first'] !== 'number' || typeof c['last'] !== 'number') continue;
    const days: Record<string, number> = {};
    const rawDays = c['days'];
    if (rawDays !== null && typeof rawDays === 'object' && !Array.isArray(rawDays)) {
      for (const [d, n] of Object.entries(rawDays as Record<string, unknown>)) {
        if (typeof n === 'number' && /^\d+$/u.test(d)) days[d] = n;
      }
    }
    out[key] = {
      first: c['first'],
      last: c['last'],
      total: typeof c['total'] === 'number' ? c['total'] : 0,
      days,
    };
  }
  return out;
}

function round(days: number): number {
  return Math.round(days * 100) / 100;
}

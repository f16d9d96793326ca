/**
 * Hour-of-week cells in a customer's local time, and the smoothing that lets an hour borrow
 * evidence from its neighbours and from the same hour on other days.
 *
 * A week has 168 cells: cell = (ISO weekday − 1) × 24 + local hour, so Monday 00:00–00:59 is 0 and
 * Sunday 23:00–23:59 is 167. Local means the customer's IANA zone at that instant, so a customer
 * who engages at 19:00 keeps engaging in cell …19 across a daylight-saving change.
 */
import { DateTime } from 'luxon';

/** Cells in a week. */
export const HOURS_PER_WEEK = 168;

/** The hour-of-week cell of `instant` in `zone` (see the module comment). */
export function hourOfWeek(instant: number, zone: string): number {
  const local = instant + offsetMs(instant, zone);
  const days = Math.floor(local / DAY_MS);
  // 1970-01-01 was a Thursday: ISO weekday 4, index 3 from Monday.
  const weekday = (((days + 3) % 7) + 7) % 7;
  return weekday * 24 + Math.floor((local - days * DAY_MS) / HOUR_MS);
}

/** Minutes after local midnight of `instant` in `zone` (fractional). */
export function localMinute(instant: number, zone: string): number {
  const local = instant + offsetMs(instant, zone);
  return (((local % DAY_MS) + DAY_MS) % DAY_MS) / 60_000;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Offsets change only at quarter hours of UTC (every zone's offset is a multiple of 15 minutes). */
const BUCKET_MS = 15 * 60_000;
const OFFSETS = new Map<string, Map<number, number>>();
const OFFSET_CACHE_LIMIT = 200_000;
let cachedOffsets = 0;

/**
 * The zone's UTC offset at `instant`, ms. Asked of luxon once per zone and quarter hour and then
 * remembered: the models ask for thousands of cells per decision, and building a zoned DateTime
 * for each costs tens of microseconds.
 */
export function offsetMs(instant: number, zone: string): number {
  const bucket = Math.floor(instant / BUCKET_MS);
  let byBucket = OFFSETS.get(zone);
  if (byBucket === undefined) {
    byBucket = new Map();
    OFFSETS.set(zone, byBucket);
  }
  let offset = byBucket.get(bucket);
  if (offset === undefined) {
    if (cachedOffsets >= OFFSET_CACHE_LIMIT) {
      OFFSETS.clear();
      cachedOffsets = 0;
      byBucket = new Map();
      OFFSETS.set(zone, byBucket);
    }
    offset = DateTime.fromMillis(bucket * BUCKET_MS, { zone }).offset * 60_000;
    byBucket.set(bucket, offset);
    cachedOffsets++;
  }
  return offset;
}

/** Dayparts for channel context: 00–06, 06–12, 12–18, 18–24 local. */
export const DAYPARTS = ['night', 'morning', 'afternoon', 'evening'] as const;

/** The daypart (index into `DAYPARTS`) of an hour-of-week cell. */
export function daypartOf(cell: number): number {
  return Math.floor((cell % 24) / 6);
}

/** The local hour (0–23) of a cell. */
export function hourOfCell(cell: number): number {
  return cell % 24;
}

/** A cell as people read it: `Tue 19:00`. */
export function cellLabel(cell: number): string {
  const day = WEEKDAYS[Math.floor(cell / 24)] ?? '?';
  return `${day} ${String(cell % 24).padStart(2, '0')}:00`;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** How evidence spreads; the defaults are what the engine uses. */
export interface Smoothing {
  /**
   * Weight of the cells 1, 2, … hours away on the weekly ring (the cell itself weighs 1): an
   * engagement at 19:00 says something about 18:00 and 20:00.
   */
  readonly neighbours: readonly number[];
  /**
   * Weight of the same (smoothed) hour on the average day: each cell also gets this multiple of
   * the day-of-week-free profile (the 7 days' totals divided by 7), so a daily habit is learned in
   * a week of messages, while weekday-specific evidence still separates the days.
   */
  readonly daily: number;
}

/**
 * The engine's smoothing (see `Smoothing`): neighbours up to 4 hours away (0.8, 0.6, 0.4, 0.2),
 * and the average day twice over (`daily: 14` = the same hour's 7-day total × 2): daily habits
 * dominate, a weekday's own evidence still counts on top.
 */
export const DEFAULT_SMOOTHING: Smoothing = { neighbours: [0.8, 0.6, 0.4, 0.2], daily: 14 };

/**
 * Smooths 168 weekly counts: each cell gets its own count, its ring neighbours' counts by weight,
 * and `daily` times the average day's (neighbour-smoothed) count at the same hour. Linear, so
 * smoothing sends and engagements separately keeps engaged ≤ sent in every cell.
 */
export function smoothWeek(counts: ArrayLike<number>, smoothing: Smoothing): Float64Array {
  const ring = new Float64Array(HOURS_PER_WEEK);
  for (let c = 0; c < HOURS_PER_WEEK; c++) {
    let sum = counts[c] ?? 0;
    smoothing.neighbours.forEach((weight, i) => {
      const d = i + 1;
      sum +=
        weight * ((counts[(c + d) % HOURS_PER_WEEK] ?? 0) + (counts[(c - d + 168) % 168] ?? 0));
    });
    ring[c] = sum;
  }
  if (smoothing.daily === 0) return ring;
  const day = new Float64Array(24);
  for (let c = 0; c < HOURS_PER_WEEK; c++) day[c % 24] = (day[c % 24] ?? 0) + (ring[c] ?? 0) / 7;
  const out = new Float64Array(HOURS_PER_WEEK);
  for (let c = 0; c < HOURS_PER_WEEK; c++) {
    out[c] = (ring[c] ?? 0) + smoothing.daily * (day[c % 24] ?? 0);
  }
  return out;
}

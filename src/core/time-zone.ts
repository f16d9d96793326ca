import { IANAZone } from 'luxon';

const known = new Map<string, boolean>();

/**
 * Whether `name` is an IANA time zone this runtime knows. Cached: luxon's check builds an
 * `Intl.DateTimeFormat` per call, which costs microseconds on a path that runs per customer per
 * event. The cache is bounded so hostile profile values cannot grow it without limit.
 */
export function isValidTimeZone(name: string): boolean {
  const cached = known.get(name);
  if (cached !== undefined) return cached;
  const valid = IANAZone.isValidZone(name);
  if (known.size >= 10_000) known.clear();
  known.set(name, valid);
  return valid;
}

const MINUTE_MS = 60_000;
/** Offsets by zone, then by minute since the epoch; bounded like the validity cache. */
const offsets = new Map<string, Map<number, number>>();
let cachedOffsets = 0;

/**
 * The zone's UTC offset in minutes at `instant`. Cached per zone and minute: time-zone transitions
 * fall on whole minutes, and asking `Intl` (what luxon does) costs microseconds on a path that runs
 * for every wait a journey sets up.
 */
export function zoneOffsetMinutes(zone: string, instant: number): number {
  const minute = Math.floor(instant / MINUTE_MS);
  let byMinute = offsets.get(zone);
  const cached = byMinute?.get(minute);
  if (cached !== undefined) return cached;
  const offset = IANAZone.create(zone).offset(minute * MINUTE_MS);
  if (cachedOffsets >= 100_000) {
    offsets.clear();
    cachedOffsets = 0;
    byMinute = undefined;
  }
  if (byMinute === undefined) {
    byMinute = new Map();
    offsets.set(zone, byMinute);
  }
  byMinute.set(minute, offset);
  cachedOffsets += 1;
  return offset;
}

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

import { randomBytes } from 'node:crypto';

/**
 * Where new record ids come from. Injected like the clock: the server uses time-ordered random ids,
 * `waymark simulate` and tests a counter, so their output is identical run after run.
 */
export interface IdSource {
  /** A new unique id starting with `prefix` (e.g. `enr` → `enr_01J...`). */
  next(prefix: string): string;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * ULID-style ids: 48 bits of milliseconds then 80 random bits, Crockford base32, so ids sort by
 * creation time (useful for pagination cursors and for reading logs).
 */
export function randomIds(now: () => number): IdSource {
  return {
    next(prefix) {
      let time = now();
      let head = '';
      for (let i = 0; i < 10; i++) {
        head = CROCKFORD.charAt(time % 32) + head;
        time = Math.floor(time / 32);
      }
      const bytes = randomBytes(16);
      let tail = '';
      for (let i = 0; i < 16; i++) tail += CROCKFORD.charAt((bytes[i] ?? 0) % 32);
      return `${prefix}_${head}${tail}`;
    },
  };
}

/** Deterministic ids `prefix_000001`, ... per prefix; for simulation and tests. */
export function sequentialIds(): IdSource {
  const counters = new Map<string, number>();
  return {
    next(prefix) {
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      return `${prefix}_${String(n).padStart(6, '0')}`;
    },
  };
}

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
  let pool = Buffer.alloc(0);
  let offset = 0;
  return {
    next(prefix) {
      let time = now();
      let head = '';
      for (let i = 0; i < 10; i++) {
        head = CROCKFORD.charAt(time % 32) + head;
        time = Math.floor(time / 32);
      }
      // One system call per 256 ids rather than per id: ids are minted several times per event.
      if (offset + 16 > pool.length) {
        pool = randomBytes(4096);
        offset = 0;
      }
      let tail = '';
      for (let i = 0; i < 16; i++) tail += CROCKFORD.charAt((pool[offset + i] ?? 0) % 32);
      offset += 16;
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

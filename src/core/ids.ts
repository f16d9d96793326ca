import { randomFillSync } from 'node:crypto';

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
 * creation time (useful for pagination cursors and for reading logs). Within one millisecond the
 * random part counts up from a random start (ULID's monotonic mode), so ids minted together are
 * increasing too: they append to the id indexes instead of landing on random B-tree pages, which
 * matters when a batch mints thousands (a planner run mints a timer per customer at one instant).
 */
export function randomIds(now: () => number): IdSource {
  let lastTime = -1;
  /** The time part of `lastTime`, encoded once per millisecond rather than once per id. */
  let head = '';
  const tail: number[] = new Array<number>(16).fill(0);
  // Random bytes drawn 1 KiB at a time: a call per millisecond showed in profiles of busy workers.
  const pool = new Uint8Array(1024);
  let used = pool.length;
  return {
    next(prefix) {
      const time = now();
      if (time === lastTime) {
        // Increment the 80-bit tail; it starts random, so overflowing it would take 2^79 ids.
        for (let i = 15; i >= 0; i--) {
          const digit = (tail[i] ?? 0) + 1;
          tail[i] = digit % 32;
          if (digit < 32) break;
        }
      } else {
        lastTime = time;
        if (used + 16 > pool.length) {
          randomFillSync(pool);
          used = 0;
        }
        // The first digit stays below 16 so the count has room to grow.
        for (let i = 0; i < 16; i++) tail[i] = (pool[used + i] ?? 0) % (i === 0 ? 16 : 32);
        used += 16;
        head = encodeTime(time);
      }
      let text = '';
      for (const digit of tail) text += CROCKFORD.charAt(digit);
      return `${prefix}_${head}${text}`;
    },
  };
}

/** The 48-bit millisecond part of an id: ten Crockford digits, most significant first. */
function encodeTime(time: number): string {
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = CROCKFORD.charAt(time % 32) + head;
    time = Math.floor(time / 32);
  }
  return head;
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

/**
 * The one source of "now".
 *
 * Nothing in Waymark calls `Date.now()` or the database's clock directly: the server is handed the
 * system clock, simulation and tests a `VirtualClock`, and the very same engine code runs under both.
 * Instants are epoch milliseconds (UTC) throughout the core.
 */
export interface Clock {
  /** Current instant in epoch milliseconds. */
  now(): number;
}

/** Wall-clock time, for the server. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; for `waymark simulate`, journey tests and unit tests. */
export class VirtualClock implements Clock {
  #now: number;

  /** @param start the starting instant, epoch ms or an ISO-8601 string. */
  constructor(start: number | string) {
    this.#now = typeof start === 'number' ? start : Date.parse(start);
    if (!Number.isFinite(this.#now))
      throw new RangeError(`invalid start instant: ${String(start)}`);
  }

  now(): number {
    return this.#now;
  }

  /** Moves the clock to `instant`; time never goes backwards. */
  set(instant: number): void {
    if (instant < this.#now) throw new RangeError('a virtual clock never goes backwards');
    this.#now = instant;
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.set(this.#now + ms);
  }
}

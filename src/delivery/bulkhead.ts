/**
 * A bulkhead: at most `limit` sends in flight to one provider; the rest wait their turn. A slow
 * provider then ties up only its own slots, never the process's sockets or the other providers'
 * capacity.
 */
export class Bulkhead {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** Sends in flight now. */
  get active(): number {
    return this.#active;
  }

  /** Sends waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Runs `task` once a slot is free, and frees the slot when it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, so the count never dips and lets a newcomer jump the queue.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

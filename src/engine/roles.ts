import type { Instant, Logger, Store } from '../core/index.js';

/**
 * What a process of a deployment runs.
 *
 * - `all`: the API and the workers (`waymark serve`, the default).
 * - `api`: HTTP only (`waymark serve --role api`): ingest, reads and commands; no worker loop, no
 *   delivery lanes, no scheduled jobs. Commands wait for some worker process to apply them.
 * - `worker`: the worker loop, the delivery lanes and the scheduled jobs, without the API
 *   (`waymark worker`).
 */
export type ProcessRole = 'all' | 'api' | 'worker';

/**
 * The role one process at a time holds among the workers sharing a store: it runs the jobs that
 * would do harm or waste if every process ran them — batch triggers (every customer's command
 * appended N times), retention, scheduled model training (N new versions), schedule planning — and
 * publishes the journey event log to sinks and webhooks (each cursor read by one process, so
 * events go out once and in order).
 */
export const SCHEDULER_ROLE = 'scheduler';

/**
 * A process's claim on a role held by one process at a time (`Store.holdRole`), kept by renewing
 * its lease a third of the way through, so a missed renewal or two never loses it, and one that
 * dies or hangs hands it over within `leaseMs`. A process without the role asks again as often.
 *
 * Two holders at once are possible only when a holder stalls for longer than its lease (a long GC
 * pause, a frozen VM) and carries on without renewing; the jobs behind the role are made to
 * tolerate that (batch-trigger commands are edge-triggered, cursors only move forward).
 */
export class RoleLease {
  readonly #store: Store;
  readonly #role: string;
  readonly #holder: string;
  readonly #leaseMs: number;
  readonly #log: Logger;
  /** When the lease is asked for again (renewed when held). */
  #nextAskAt = Number.NEGATIVE_INFINITY;
  /** Until when the last grant holds; the role is ours only before it. */
  #heldUntil = Number.NEGATIVE_INFINITY;
  #held = false;

  constructor(deps: {
    store: Store;
    role: string;
    /** Unique per process: who holds the role is told apart by it. */
    holder: string;
    /** How long a grant holds, ms. */
    leaseMs: number;
    log: Logger;
  }) {
    this.#store = deps.store;
    this.#role = deps.role;
    this.#holder = deps.holder;
    this.#leaseMs = deps.leaseMs;
    this.#log = deps.log;
  }

  /** Who this process is in the role's lease. */
  get holder(): string {
    return this.#holder;
  }

  /**
   * Whether this process holds the role at `now`, asking the store when the lease is due for
   * renewal (or, not held, for another try). A store that cannot be asked means "no".
   */
  async holds(now: Instant): Promise<boolean> {
    if (now >= this.#nextAskAt || (this.#held && now >= this.#heldUntil)) {
      this.#nextAskAt = now + this.#leaseMs / 3;
      let granted = false;
      try {
        granted = await this.#store.holdRole(this.#role, this.#holder, now, this.#leaseMs);
      } catch (error) {
        this.#log.warn('could not renew a process role; assuming it is not held', {
          role: this.#role,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      this.#heldUntil = granted ? now + this.#leaseMs : Number.NEGATIVE_INFINITY;
      if (granted !== this.#held) {
        this.#log.info(granted ? 'process role taken' : 'process role lost', {
          role: this.#role,
          holder: this.#holder,
        });
      }
      this.#held = granted;
    }
    return this.#held && now < this.#heldUntil;
  }

  /** Gives the role up when held (shutdown), so another process takes it without waiting. */
  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    this.#heldUntil = Number.NEGATIVE_INFINITY;
    this.#nextAskAt = Number.NEGATIVE_INFINITY;
    await this.#store.releaseRole(this.#role, this.#holder);
  }
}

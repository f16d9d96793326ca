import type { Clock, Instant, Logger, Store, WorkBatch, WorkResult } from '../core/index.js';
import type { OutboxDispatcher } from './dispatcher.js';

/** Turns a claimed batch into everything it writes. Pure: the same batch and `now` give the same result. */
export type BatchProcessor = (batch: WorkBatch, now: Instant) => WorkResult;

/** Tuning for a worker; every field has a default. */
export interface WorkerOptions {
  /** Events per claimed batch (default 500). */
  maxEvents?: number;
  /** Due timers per claimed batch (default 5,000: bigger batches amortise the commit). */
  maxTimers?: number;
  /** Lease on claimed customers, ms (default 30,000). */
  leaseMs?: number;
  /**
   * How long a claimed message delivery stays with the process that claimed it before another may
   * send it, ms (default 120,000). It must outlast the slowest provider call, or a slow send is
   * sent twice; the engine hands it to its message dispatcher, the worker loop does not use it.
   */
  deliveryLeaseMs?: number | undefined;
  /** Longest sleep when idle, ms (default 1,000): bounds the lag of timers set by other processes. */
  idlePollMs?: number;
  workerId?: string;
  /**
   * How far back each customer's contact ledger is loaded, ms; null (default) loads none. Set when
   * contact caps or fatigue apply: a month and a day covers every calendar window.
   */
  contactWindowMs?: number | null;
}

/** What one pass did. */
export interface PassResult {
  events: number;
  timers: number;
  deliveries: number;
}

type State = 'idle' | 'running' | 'closing' | 'closed';

/**
 * Claims work, runs the pure processor over it and commits the result, then drains the outbox.
 * In a server it loops in the background (`start`), woken by ingestion and by the next due timer;
 * in simulation and tests it is stepped explicitly (`runOnce`, `runUntilIdle`).
 */
export class Worker {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #process: BatchProcessor;
  readonly #dispatcher: OutboxDispatcher;
  readonly #log: Logger;
  #watchOutbox = true;
  readonly #options: Required<Omit<WorkerOptions, 'deliveryLeaseMs'>>;
  readonly #beforePass: (now: Instant) => Promise<void>;
  #state: State = 'idle';
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #wakeRequested = false;

  constructor(deps: {
    store: Store;
    clock: Clock;
    process: BatchProcessor;
    dispatcher: OutboxDispatcher;
    log: Logger;
    options?: WorkerOptions;
    /** Runs at the start of every pass (scheduled work such as batch triggers). */
    beforePass?: (now: Instant) => Promise<void>;
  }) {
    this.#beforePass = deps.beforePass ?? (() => Promise.resolve());
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#process = deps.process;
    this.#dispatcher = deps.dispatcher;
    this.#log = deps.log;
    this.#options = {
      maxEvents: 500,
      maxTimers: 5000,
      leaseMs: 30_000,
      idlePollMs: 1000,
      workerId: 'worker-1',
      contactWindowMs: null,
      ...deps.options,
    };
  }

  /** One claim → process → commit, then one outbox drain. */
  async runOnce(): Promise<PassResult> {
    const now = this.#clock.now();
    await this.#beforePass(now);
    const batch = await this.#store.claimWork({
      now,
      maxEvents: this.#options.maxEvents,
      maxTimers: this.#options.maxTimers,
      workerId: this.#options.workerId,
      leaseMs: this.#options.leaseMs,
      ...(this.#options.contactWindowMs === null
        ? {}
        : { contactsSince: now - this.#options.contactWindowMs }),
    });
    let events = 0;
    let timers = 0;
    if (batch) {
      let result: WorkResult;
      try {
        result = this.#process(batch, now);
      } catch (error) {
        // The processor isolates per-customer failures itself; reaching here is a bug. Give the work
        // back rather than lose it, and let the caller see the failure.
        await this.#store.releaseWork(batch);
        throw error;
      }
      try {
        await this.#store.commitWork(batch, result);
      } catch (error) {
        // Nothing was written: give the customers back at once rather than after the lease (a
        // lease already lost, or a database that cannot be reached, makes this a no-op).
        await this.#store.releaseWork(batch).catch(() => undefined);
        throw error;
      }
      events = result.processedEventSeqs.length + result.failedEvents.length;
      timers = result.firedTimerIds.length;
    }
    const deliveries = await this.#dispatcher.drain(now);
    return { events, timers, deliveries };
  }

  /**
   * Runs passes until nothing is pending at the clock's current instant. Timers due later stay;
   * simulation advances the clock and calls this again.
   */
  async runUntilIdle(maxPasses = 1_000_000): Promise<PassResult> {
    const total: PassResult = { events: 0, timers: 0, deliveries: 0 };
    for (let i = 0; i < maxPasses; i++) {
      const pass = await this.runOnce();
      total.events += pass.events;
      total.timers += pass.timers;
      total.deliveries += pass.deliveries;
      if (pass.events === 0 && pass.timers === 0 && pass.deliveries === 0) return total;
    }
    return total;
  }

  /**
   * Whether the loop wakes for due outbox entries. Off when delivery lanes send the messages
   * (server mode): a due message the worker cannot send would otherwise wake it again and again
   * until a lane claims it. Other outbox entries are then picked up on the idle poll.
   */
  watchOutbox(on: boolean): void {
    this.#watchOutbox = on;
  }

  /** Starts the background loop (server mode). */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    this.#loop = this.#run();
  }

  /** Asks the loop to look for work now (called after ingestion). */
  wake(): void {
    this.#wakeRequested = true;
    this.#wake?.();
  }

  /** Finishes the current pass and stops; idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state === 'idle') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closing';
    this.wake();
    await this.#loop;
    this.#state = 'closed';
  }

  async #run(): Promise<void> {
    while (this.#state === 'running') {
      let busy = false;
      try {
        const pass = await this.runOnce();
        busy = pass.events + pass.timers + pass.deliveries > 0;
      } catch (error) {
        this.#log.error('worker pass failed', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
      // close() may have run during the await above; TypeScript cannot see that.
      if (busy || (this.#state as State) !== 'running') continue;
      await this.#sleep();
    }
  }

  async #sleep(): Promise<void> {
    if (this.#wakeRequested) {
      this.#wakeRequested = false;
      return;
    }
    const [timer, outbox] = await Promise.all([
      this.#store.nextTimerDueAt().catch(() => null),
      this.#watchOutbox ? this.#store.nextOutboxAvailableAt().catch(() => null) : null,
    ]);
    const next = Math.min(timer ?? Infinity, outbox ?? Infinity);
    const untilTimer = next === Infinity ? Infinity : Math.max(0, next - this.#clock.now());
    const delay = Math.min(this.#options.idlePollMs, untilTimer);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, delay);
      this.#wake = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
    this.#wake = null;
    this.#wakeRequested = false;
  }
}

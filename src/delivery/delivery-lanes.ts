import type { Clock, Logger } from '../core/index.js';
import type { MessageDispatcher } from './message-dispatcher.js';

/**
 * Server mode for message delivery: one loop per channel (lane), each claiming and sending only its
 * own channel's messages. This is the bulkhead between channels: a provider that hangs until its
 * timeout holds back its own lane, never the worker that runs journeys or another channel.
 *
 * States: idle → running → closing → closed. `close()` lets every lane finish its current pass
 * (outcomes recorded) and resolves when all have stopped; it is idempotent.
 */
export class DeliveryLanes {
  readonly #dispatcher: MessageDispatcher;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #lanes: readonly string[];
  readonly #idleMs: number;
  #state: 'idle' | 'running' | 'closing' | 'closed' = 'idle';
  #loops: Promise<void>[] = [];
  readonly #wakers = new Set<() => void>();
  #wakePending = false;

  constructor(options: {
    dispatcher: MessageDispatcher;
    clock: Clock;
    log: Logger;
    /** Channel names, one loop each. */
    lanes: readonly string[];
    /** Longest sleep between passes of an idle lane, in ms (default 500). */
    idleMs?: number;
  }) {
    this.#dispatcher = options.dispatcher;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#lanes = [...new Set(options.lanes)];
    this.#idleMs = options.idleMs ?? 500;
  }

  /** Starts one loop per lane. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    this.#loops = this.#lanes.map((lane) => this.#run(lane));
  }

  /** Tells idle lanes to look for work now (new messages were committed). */
  wake(): void {
    this.#wakePending = true;
    for (const wake of [...this.#wakers]) wake();
  }

  /** Finishes every lane's current pass and stops; idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'closing') {
      await Promise.all(this.#loops);
      return;
    }
    this.#state = 'closing';
    this.wake();
    await Promise.all(this.#loops);
    this.#state = 'closed';
  }

  async #run(lane: string): Promise<void> {
    while (this.#state === 'running') {
      let handled = 0;
      try {
        handled = await this.#dispatcher.drain(this.#clock.now(), [lane]);
      } catch (error) {
        this.#log.error('delivery pass failed', {
          lane,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      if (handled > 0 || (this.#state as string) !== 'running') continue;
      await this.#sleep();
    }
  }

  #sleep(): Promise<void> {
    if (this.#wakePending) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        this.#wakePending = false;
        resolve();
      };
      const timer = setTimeout(done, this.#idleMs);
      this.#wakers.add(done);
    });
  }
}

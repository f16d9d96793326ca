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
  readonly #lanes: string[];
  readonly #idleMs: number;
  #state: 'idle' | 'running' | 'closing' | 'closed' = 'idle';
  #loops: Promise<void>[] = [];
  /** The sleeping lanes' wake-ups, by lane. */
  readonly #wakers = new Map<string, () => void>();
  /** Lanes told to look again since their last pass. */
  readonly #pending = new Set<string>();

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

  /**
   * Tells idle lanes to look for work now (new messages were committed). With `lanes`, only
   * those; a lane not running here is ignored.
   */
  wake(lanes?: Iterable<string>): void {
    if (lanes === undefined) {
      for (const lane of this.#lanes) this.#pending.add(lane);
    } else {
      for (const lane of lanes) {
        // A channel first seen at run time (not in the config) gets its loop now.
        if (this.#state === 'running' && !this.#lanes.includes(lane)) {
          this.#lanes.push(lane);
          this.#loops.push(this.#run(lane));
        }
        this.#pending.add(lane);
      }
    }
    for (const [lane, wake] of [...this.#wakers]) if (this.#pending.has(lane)) wake();
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
      await this.#sleep(lane);
    }
  }

  #sleep(lane: string): Promise<void> {
    if (this.#pending.delete(lane)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(lane);
        this.#pending.delete(lane);
        resolve();
      };
      const timer = setTimeout(done, this.#idleMs);
      this.#wakers.set(lane, done);
    });
  }
}

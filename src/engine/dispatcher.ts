import type { Instant, JourneyEventRecord, Logger, OutboxEntry, Store } from '../core/index.js';

/** Receives committed journey events (webhooks, stream publishers, simulation output). */
export type JourneyEventSink = (events: readonly JourneyEventRecord[]) => Promise<void>;

/**
 * Publishes the journey event log on its own (reading by its own cursor), such as the configured
 * journey-event webhooks. `publish` makes one pass and resolves to how much it delivered.
 */
export interface JourneyEventPublisher {
  publish(): Promise<number>;
}

/** Performs a webhook call an action or journey step asked for; resolves when the target accepted it. */
export type WebhookCaller = (call: Record<string, unknown>) => Promise<void>;

/**
 * Scores the customer of a `model_request` outbox entry with a remote model and hands the answer
 * back to the engine; `key` is the entry's idempotency key (reused for the answer).
 */
export type RemoteScorer = (key: string, request: Record<string, unknown>) => Promise<void>;

/** Delay before a failed outbox entry is tried again, by attempt number (1-based). */
function retryDelayMs(attempt: number): number {
  return Math.min(60_000 * 2 ** (attempt - 1), 3_600_000);
}

/** The cursor name under which the dispatcher's sinks read the journey event log. */
const SINK_CONSUMER = 'sinks';

/** Attempts before an outbox entry is given up on. */
const MAX_ATTEMPTS = 5;

/**
 * Executes committed effects from the outbox other than messages (which `MessageDispatcher` sends,
 * by channel lane), after the transaction that created them. Every effect
 * carries an idempotency key, so an entry handed over twice (a crash between sending and marking it
 * done) is not sent twice by a sender that honours the key.
 */
export class OutboxDispatcher {
  readonly #store: Store;
  readonly #messages: ((now: Instant) => Promise<number>) | null;
  readonly #sinks: JourneyEventSink[];
  readonly #publishers: readonly JourneyEventPublisher[];
  readonly #callWebhook: WebhookCaller;
  readonly #scoreRemotely: RemoteScorer;
  readonly #log: Logger;
  readonly #batchSize: number;
  readonly #publishes: (now: Instant) => Promise<boolean>;

  constructor(deps: {
    store: Store;
    /**
     * Sends due messages as part of every drain (simulation, tests); null when message lanes run
     * on their own loops (server mode).
     */
    messages?: ((now: Instant) => Promise<number>) | null;
    sinks?: JourneyEventSink[];
    /** Publishers with cursors of their own, run on every drain. */
    publishers?: readonly JourneyEventPublisher[];
    callWebhook: WebhookCaller;
    /** Scores a `model_request` with a model behind an endpoint; default: refuse (none configured). */
    scoreRemotely?: RemoteScorer;
    log: Logger;
    batchSize?: number;
    /**
     * Whether this process publishes the journey event log (sinks and publishers) at `now`. Among
     * processes sharing a store one at a time does (the scheduler role), so events go out once per
     * cursor and in order. Default: always.
     */
    publishes?: (now: Instant) => Promise<boolean>;
  }) {
    this.#publishes = deps.publishes ?? (() => Promise.resolve(true));
    this.#store = deps.store;
    this.#messages = deps.messages ?? null;
    this.#sinks = deps.sinks ?? [];
    this.#publishers = deps.publishers ?? [];
    this.#callWebhook = deps.callWebhook;
    this.#scoreRemotely =
      deps.scoreRemotely ??
      (() => Promise.reject(new Error('no remote models are configured in this process')));
    this.#log = deps.log;
    this.#batchSize = deps.batchSize ?? 500;
  }

  /** Adds a receiver of journey events (e.g. simulation output). */
  addSink(sink: JourneyEventSink): void {
    this.#sinks.push(sink);
  }

  /** Drains one batch of due outbox entries; returns how many were handled. */
  async drain(now: Instant): Promise<number> {
    const entries = await this.#store.claimOutbox({
      now,
      limit: this.#batchSize,
      kinds: ['journey_event', 'webhook', 'task', 'alert', 'model_request'],
    });
    const journeyEvents: OutboxEntry[] = [];
    const others: OutboxEntry[] = [];
    for (const entry of entries) {
      if (entry.kind === 'journey_event') journeyEvents.push(entry);
      else others.push(entry);
    }
    const sent = this.#messages === null ? 0 : await this.#messages(now);
    await this.#publishJourneyEvents(journeyEvents, now);
    for (const entry of others) await this.#runOther(entry, now);
    // The log is read even when the outbox is empty: the processor writes journey events without
    // outbox rows, so an empty outbox says nothing about unpublished events.
    if (!(await this.#publishes(now))) return sent + entries.length;
    return sent + entries.length + (await this.#publishFromLog()) + (await this.#publishOwn());
  }

  /** Runs the publishers that keep their own cursors; one failing never stops the others. */
  async #publishOwn(): Promise<number> {
    let published = 0;
    for (const publisher of this.#publishers) {
      try {
        published += await publisher.publish();
      } catch (error) {
        this.#log.warn('journey event publisher failed; will retry', { error: String(error) });
      }
    }
    return published;
  }

  /**
   * Hands the sinks every committed journey event they have not seen, in `seq` order, and moves
   * the cursor past them only when every sink accepted them (at least once: a sink that failed
   * sees the same events again on the next pass).
   */
  async #publishFromLog(): Promise<number> {
    if (this.#sinks.length === 0) return 0;
    const events = await this.#store.readJourneyEventsFor(SINK_CONSUMER, this.#batchSize);
    const last = events.at(-1)?.seq;
    if (last === undefined) return 0;
    try {
      for (const sink of this.#sinks) await sink(events);
    } catch (error) {
      this.#log.warn('journey event publishing failed; will retry', { error: String(error) });
      return 0;
    }
    await this.#store.advanceCursor(SINK_CONSUMER, last);
    return events.length;
  }

  async #publishJourneyEvents(entries: OutboxEntry[], now: Instant): Promise<void> {
    if (entries.length === 0) return;
    const events = entries.map((e) => e.payload as unknown as JourneyEventRecord);
    try {
      for (const sink of this.#sinks) await sink(events);
      await this.#store.completeOutbox(
        entries.flatMap((e) => (e.seq === undefined ? [] : [e.seq])),
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#log.warn('journey event publishing failed; will retry', { error: reason });
      for (const entry of entries) {
        const attempt = entry.attempts + 1;
        await this.#store.failOutbox(
          entry.seq ?? 0,
          reason,
          attempt < MAX_ATTEMPTS ? now + retryDelayMs(attempt) : null,
        );
      }
    }
  }

  async #runOther(entry: OutboxEntry, now: Instant): Promise<void> {
    try {
      if (entry.kind === 'webhook') await this.#callWebhook(entry.payload);
      if (entry.kind === 'model_request') await this.#scoreRemotely(entry.key, entry.payload);
      await this.#store.completeOutbox(entry.seq === undefined ? [] : [entry.seq]);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const attempt = entry.attempts + 1;
      this.#log.warn('outbox effect failed', { kind: entry.kind, key: entry.key, error: reason });
      await this.#store.failOutbox(
        entry.seq ?? 0,
        reason,
        attempt < MAX_ATTEMPTS ? now + retryDelayMs(attempt) : null,
      );
    }
  }
}

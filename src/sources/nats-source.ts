import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type JsMsg,
  type StreamInfo,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { NatsSourceSettings } from '../config/index.js';
import {
  InvalidInputError,
  WaymarkError,
  silentLogger,
  type AppendResult,
  type Logger,
  type NewEvent,
} from '../core/index.js';
import {
  decodeMessage,
  rejectionOf,
  type MessageRejection,
  type StreamMessage,
} from './message-events.js';
import {
  SourceError,
  type EventSource,
  type IngestEvents,
  type SourceHealth,
  type SourceMetrics,
  type SourceState,
} from './source.js';

/** Most events appended in one store transaction; a fetched batch holding more is split. */
export const MAX_EVENTS_PER_COMMIT = 10_000;

/**
 * How long one pull request waits for messages (JetStream's floor is 1 s). A pull is never cut
 * short — the server would go on delivering into it, and those messages would wait for ack_wait —
 * so this is also the longest a graceful stop waits for an idle pull to end.
 */
const DEFAULT_FETCH_EXPIRES_MS = 2_000;

/** Slack between the end of a pull and the redelivery of what it handed back. */
const FETCH_MARGIN_MS = 100;

/** Timeout of JetStream API calls (stream and consumer info, creation). */
const API_TIMEOUT_MS = 5_000;

/** How long `/healthz` waits for the consumer's backlog before reporting it as unknown. */
const HEALTH_INFO_TIMEOUT_MS = 1_000;

/** Most problems of one rejected message copied into its log line. */
const LOGGED_PROBLEMS = 10;

/** Credentials for the NATS connection, already looked up (see `natsCredentials`). */
export type NatsCredentials = { token: string } | { user: string; pass: string };

/** What a NATS source is built from. */
export interface NatsSourceOptions {
  /** The loaded `server.sources` entry (URL already overridden by the environment, if at all). */
  settings: NatsSourceSettings;
  /** Appends a batch of events in one transaction: `engine.ingest`. */
  ingest: IngestEvents;
  log?: Logger;
  metrics?: SourceMetrics;
  credentials?: NatsCredentials;
  /**
   * Pause after a failure (connection, set-up, store), doubling on each failure in a row, and the
   * longest pause; ms. Default 1,000 and 30,000. A message handed back after a store failure is
   * redelivered after the same pause.
   */
  backoff?: { initialMs: number; maxMs: number };
  /** How long one pull request waits for messages, ms (at least 1,000). Default 5,000. */
  fetchExpiresMs?: number;
}

/**
 * Consumes events from a NATS JetStream stream through a durable pull consumer.
 *
 * Messages are fetched in batches of up to `batch`. The messages that have arrived are validated
 * exactly as `POST /v1/events` validates a body, and their events are appended through the engine
 * in one store transaction; each message is acknowledged only after that commit, so a crash at any
 * point leaves it unacknowledged and JetStream redelivers it. Redeliveries are harmless: every
 * event carries an idempotency key (its own, or one derived from the message), so the store reports
 * it as a duplicate instead of storing it twice.
 *
 * - A message that is not valid JSON or whose events are invalid is logged with its located
 *   problems, counted, and terminated (`term`): never redelivered, never blocking later messages.
 * - When the store fails, the batch is handed back (`nak` with a delay) and the source waits as
 *   long before fetching again, doubling the pause while the failures last.
 * - Connection loss is the client's to repair (it reconnects for ever); set-up failures (no stream,
 *   a consumer of the wrong kind) are retried with the same backoff and shown in `health()`.
 *
 * Pauses, pull deadlines and redelivery delays are wall-clock time on purpose (`Date.now`,
 * `setTimeout`): they pace talk with a NATS server whose timers run on the wall clock, and decide
 * nothing about journeys. Event time comes from the message (the instant the stream stored it).
 */
export class NatsEventSource implements EventSource {
  readonly name: string;
  readonly #settings: NatsSourceSettings;
  readonly #ingest: IngestEvents;
  readonly #log: Logger;
  readonly #metrics: SourceMetrics | null;
  readonly #credentials: NatsCredentials | undefined;
  readonly #backoff: { initialMs: number; maxMs: number };
  readonly #fetchExpiresMs: number;
  #state: SourceState = 'stopped';
  #lastError: string | null = null;
  #stopping = false;
  #running: Promise<void> | null = null;
  #consumer: Consumer | null = null;
  /**
   * Wall-clock instant before which handed-back messages are not redelivered: the loop does not
   * pull again before it, so the redeliveries come first, in their order.
   */
  #resumeAt = 0;
  /** Ends the current pause early (on close). */
  #wake: (() => void) | null = null;
  /** Creation time of the stream, part of derived idempotency keys (see `StreamMessage`). */
  #streamEpoch = '';

  constructor(options: NatsSourceOptions) {
    this.#settings = options.settings;
    this.name = options.settings.name;
    this.#ingest = options.ingest;
    this.#log = options.log ?? silentLogger;
    this.#metrics = options.metrics ?? null;
    this.#credentials = options.credentials;
    this.#backoff = options.backoff ?? { initialMs: 1_000, maxMs: 30_000 };
    this.#fetchExpiresMs = Math.max(1_000, options.fetchExpiresMs ?? DEFAULT_FETCH_EXPIRES_MS);
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  start(): void {
    if (this.#running !== null || this.#stopping) return;
    this.#state = 'starting';
    this.#running = this.#run();
  }

  async close(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      // The pull under way runs to its end (at most the fetch expiry) and what it brings is
      // committed and acknowledged: cutting it short would strand messages until ack_wait.
      this.#wake?.();
    }
    await this.#running;
    this.#state = 'stopped';
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async health(): Promise<SourceHealth> {
    let pending: number | null = null;
    let ackPending: number | null = null;
    const consumer = this.#consumer;
    if (consumer !== null && this.#state !== 'stopped') {
      try {
        const info = await withTimeout(consumer.info(), HEALTH_INFO_TIMEOUT_MS);
        pending = info.num_pending;
        ackPending = info.num_ack_pending;
      } catch {
        // Unknown right now (disconnected, slow server): reported as null, not as an error, since
        // the state and last_error already say what is wrong.
      }
    }
    return {
      name: this.name,
      type: 'nats',
      state: this.#state,
      stream: this.#settings.stream,
      durable: this.#settings.durable,
      pending,
      ack_pending: ackPending,
      last_error: this.#lastError,
    };
  }

  // ---- the loop ----------------------------------------------------------------------------

  /** Connects, sets up and consumes until closed; every failure is logged and retried. */
  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      let connection: NatsConnection | null = null;
      try {
        connection = await this.#connect();
        const consumer = await this.#prepare(connection);
        this.#consumer = consumer;
        this.#resumed();
        failures = 0;
        await this.#consume(connection, consumer);
      } catch (error) {
        if (this.#stopRequested()) break;
        failures += 1;
        const pauseMs = this.#delay(failures);
        this.#failed(error, 'NATS source failed; trying again', pauseMs);
        await this.#pause(pauseMs);
      } finally {
        this.#consumer = null;
        // Drain flushes the acknowledgements still buffered before the socket closes.
        if (connection !== null) await closeQuietly(connection);
      }
    }
    this.#state = 'stopped';
  }

  async #connect(): Promise<NatsConnection> {
    try {
      const connection = await connect({
        servers: this.#settings.url.split(',').map((url) => url.trim()),
        name: `waymark:${this.name}`,
        // Once connected, the client reconnects for ever; a first connection that fails is
        // retried by the source's own loop, so `close()` is never stuck behind it.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
        timeout: API_TIMEOUT_MS,
        ...(this.#credentials ?? {}),
      });
      this.#watch(connection);
      return connection;
    } catch (error) {
      throw new SourceError(
        'SOURCE_UNREACHABLE',
        `cannot connect to NATS at ${redactUrl(this.#settings.url)}: ${describe(error)}`,
        { cause: error },
      );
    }
  }

  /** Mirrors the connection's state into `health()`: a drop is `reconnecting`, not an error. */
  #watch(connection: NatsConnection): void {
    void (async () => {
      for await (const status of connection.status()) {
        if (status.type === 'disconnect' && this.#state === 'running') {
          this.#state = 'reconnecting';
          this.#log.warn('NATS source disconnected; reconnecting', { source: this.name });
        } else if (status.type === 'reconnect' && this.#state === 'reconnecting') {
          this.#state = 'running';
          this.#log.info('NATS source reconnected', { source: this.name });
        }
      }
    })().catch(() => {
      // The status iterator ends when the connection closes; nothing to report.
    });
  }

  /** Makes sure the stream and the durable pull consumer exist, as configured. */
  async #prepare(connection: NatsConnection): Promise<Consumer> {
    const { stream, durable, subjects } = this.#settings;
    const manager = await jetstreamManager(connection, { timeout: API_TIMEOUT_MS });
    const info = await this.#ensureStream(manager);
    this.#streamEpoch = streamEpoch(info);
    const streamSubjects = info.config.subjects;
    const filters = sameSet(subjects, streamSubjects) ? [] : subjects;
    const wanted: Partial<ConsumerConfig> = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.#settings.ack_wait.ms),
      // Never give up on a message: poison messages are terminated by the source itself, and a
      // store outage must not turn into lost events.
      max_deliver: -1,
      ...filterConfig(filters),
    };
    let existing: ConsumerInfo | null = null;
    try {
      existing = await manager.consumers.info(stream, durable);
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw setupError(error);
    }
    try {
      if (existing === null) {
        await manager.consumers.add(stream, wanted);
        this.#log.info('NATS source: created durable consumer', {
          source: this.name,
          stream,
          durable,
          subjects: filters.length === 0 ? streamSubjects : filters,
        });
      } else {
        this.#checkConsumer(existing);
        const current = existing.config.filter_subjects ?? nonEmpty(existing.config.filter_subject);
        const effective = (list: readonly string[]) => (list.length === 0 ? streamSubjects : list);
        if (
          !sameSet(effective(current), effective(filters)) ||
          existing.config.ack_wait !== wanted.ack_wait
        ) {
          await manager.consumers.update(stream, durable, {
            ack_wait: wanted.ack_wait,
            ...filterConfig(filters),
          });
          this.#log.info('NATS source: updated durable consumer to the configured subjects', {
            source: this.name,
            stream,
            durable,
          });
        }
      }
      const client = jetstream(connection, { timeout: API_TIMEOUT_MS });
      return await client.consumers.get(stream, durable);
    } catch (error) {
      if (error instanceof SourceError) throw error;
      throw setupError(error);
    }
  }

  async #ensureStream(manager: JetStreamManager): Promise<StreamInfo> {
    const { stream, subjects } = this.#settings;
    try {
      return await manager.streams.info(stream);
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw setupError(error);
    }
    if (!this.#settings.create_stream) {
      throw new SourceError(
        'SOURCE_STREAM_NOT_FOUND',
        `JetStream stream '${stream}' does not exist and create_stream is false; create it, or set create_stream: true`,
      );
    }
    try {
      const info = await manager.streams.add({
        name: stream,
        subjects: [...subjects],
        storage: StorageType.File,
      });
      this.#log.info('NATS source: created JetStream stream (file storage, no limits)', {
        source: this.name,
        stream,
        subjects,
      });
      return info;
    } catch (error) {
      throw setupError(error);
    }
  }

  #checkConsumer(info: ConsumerInfo): void {
    const { stream, durable } = this.#settings;
    if (info.config.deliver_subject !== undefined && info.config.deliver_subject !== '') {
      throw new SourceError(
        'SOURCE_CONSUMER_INVALID',
        `consumer '${durable}' of stream '${stream}' is a push consumer; Waymark needs a pull consumer: delete it or configure another durable`,
      );
    }
    if (info.config.ack_policy !== AckPolicy.Explicit) {
      throw new SourceError(
        'SOURCE_CONSUMER_INVALID',
        `consumer '${durable}' of stream '${stream}' has ack_policy '${info.config.ack_policy}'; Waymark needs 'explicit' (acknowledged after commit): delete it or configure another durable`,
      );
    }
  }

  /**
   * Pulls batches until closed. Messages that have arrived are committed together; while a batch
   * commits, the next messages gather in the client's buffer and make the next batch.
   */
  async #consume(connection: NatsConnection, consumer: Consumer): Promise<void> {
    const batch = this.#settings.batch;
    let storeFailures = 0;
    while (!this.#stopRequested()) {
      if (connection.isClosed()) {
        throw new SourceError('SOURCE_UNREACHABLE', 'the NATS connection was closed');
      }
      const messages = await consumer.fetch({
        max_messages: batch,
        expires: this.#fetchExpiresMs,
      });
      // Handed-back messages must not come back into this pull: it may run until then.
      const pullEndsAt = Date.now() + this.#fetchExpiresMs;
      const retryDelay = () =>
        Math.max(this.#delay(storeFailures + 1), pullEndsAt - Date.now() + FETCH_MARGIN_MS);
      // Set when the store failed: the rest of this pull is handed back unprocessed, so the
      // messages come back in their order once the store answers again.
      let handingBack = false;
      let held: JsMsg[] = [];
      let pullError: unknown = null;
      try {
        for await (const message of messages) {
          if (handingBack) {
            this.#handBack([message], retryDelay(), null);
            continue;
          }
          held.push(message);
          // More messages already here: take them into the same transaction.
          if (held.length < batch && messages.getPending() > 0) continue;
          handingBack = !(await this.#commit(held, retryDelay()));
          held = [];
          if (!handingBack && storeFailures > 0) {
            storeFailures = 0;
            this.#resumed();
          }
        }
      } catch (error) {
        // The pull failed (connection lost, consumer deleted); what arrived is still ours.
        pullError = error;
      }
      if (held.length > 0 && !(await this.#commit(held, retryDelay()))) handingBack = true;
      if (handingBack) {
        storeFailures += 1;
        await this.#pause(Math.max(0, this.#resumeAt - Date.now()));
        continue;
      }
      if (pullError !== null) {
        if (connection.isClosed() || this.#stopRequested()) continue;
        if (isConsumerGone(pullError)) throw setupError(pullError);
        // The client is reconnecting: wait a moment and pull again on the same connection.
        await this.#pause(this.#delay(1));
      }
    }
  }

  // ---- one batch ---------------------------------------------------------------------------

  /**
   * Validates the held messages, commits the events of the valid ones (one transaction per up to
   * `MAX_EVENTS_PER_COMMIT` events) and acknowledges each message after its commit. Returns false
   * when the store failed; those messages (and any after them) have been handed back.
   */
  async #commit(held: readonly JsMsg[], retryDelayMs: number): Promise<boolean> {
    if (held.length === 0) return true;
    const valid: { message: JsMsg; events: NewEvent[] }[] = [];
    for (const message of held) {
      const decoded = decodeMessage(this.#streamMessage(message));
      if (decoded.ok) valid.push({ message, events: decoded.events });
      else this.#reject(message, decoded.rejection);
    }
    const chunks = byEventCount(valid, MAX_EVENTS_PER_COMMIT);
    for (const [index, chunk] of chunks.entries()) {
      const failure = await this.#append(chunk);
      if (failure !== null) {
        // Everything from the failed message on goes back, in order.
        const unfinished = [...chunk.slice(failure.from), ...chunks.slice(index + 1).flat()];
        this.#handBack(
          unfinished.map((entry) => entry.message),
          retryDelayMs,
          failure.error,
        );
        return false;
      }
    }
    return true;
  }

  /**
   * Appends a chunk in one transaction and acknowledges its messages. When the engine refuses the
   * input itself (an event type reserved for the engine, say), the chunk is appended message by
   * message so that only the offending message is rejected. Returns null when every message is
   * settled, or where the store failed.
   */
  async #append(
    chunk: readonly { message: JsMsg; events: NewEvent[] }[],
  ): Promise<{ from: number; error: unknown } | null> {
    try {
      this.#acknowledge(
        chunk.map((entry) => entry.message),
        await this.#ingest(chunk.flatMap((entry) => entry.events)),
      );
      return null;
    } catch (error) {
      if (!(error instanceof InvalidInputError)) return { from: 0, error };
    }
    for (const [index, entry] of chunk.entries()) {
      try {
        this.#acknowledge([entry.message], await this.#ingest(entry.events));
      } catch (error) {
        if (!(error instanceof InvalidInputError)) return { from: index, error };
        this.#reject(entry.message, rejectionOf(error));
      }
    }
    return null;
  }

  #acknowledge(messages: readonly JsMsg[], results: readonly AppendResult[]): void {
    for (const message of messages) message.ack();
    const accepted = results.filter((result) => result.status === 'accepted').length;
    this.#metrics?.countSourceMessages(this.name, 'committed', messages.length);
    this.#metrics?.countIngested('accepted', accepted);
    this.#metrics?.countIngested('duplicate', results.length - accepted);
  }

  #reject(message: JsMsg, rejection: MessageRejection): void {
    // `term` without a reason: NATS servers before 2.10 do not understand `+TERM <reason>` and
    // would redeliver the message for ever.
    message.term();
    this.#metrics?.countSourceMessages(this.name, 'rejected', 1);
    const first = rejection.problems[0];
    this.#log.warn('NATS source: message rejected and terminated (not redelivered)', {
      source: this.name,
      stream: message.info.stream,
      seq: message.info.streamSequence,
      subject: message.subject,
      code: rejection.code,
      error: first === undefined ? rejection.message : `${first.path}: ${first.message}`,
      problems: rejection.problems.slice(0, LOGGED_PROBLEMS),
    });
  }

  /**
   * Gives messages back to JetStream for redelivery after `delayMs`; `error` is the store failure
   * that caused it (logged), or null for the rest of a pull after one.
   */
  #handBack(messages: readonly JsMsg[], delayMs: number, error: unknown): void {
    for (const message of messages) message.nak(delayMs);
    this.#resumeAt = Math.max(this.#resumeAt, Date.now() + delayMs);
    this.#metrics?.countSourceMessages(this.name, 'retried', messages.length);
    if (error === null) return;
    this.#failed(
      error,
      'NATS source: the store failed; messages handed back for redelivery',
      delayMs,
      {
        messages: messages.length,
      },
    );
  }

  #streamMessage(message: JsMsg): StreamMessage {
    const msgId = message.headers?.get('Nats-Msg-Id');
    return {
      data: message.data,
      subject: message.subject,
      stream: message.info.stream,
      streamEpoch: this.#streamEpoch,
      sequence: message.info.streamSequence,
      msgId: msgId === undefined || msgId === '' ? undefined : msgId,
      storedAt: Math.floor(message.info.timestampNanos / 1_000_000),
    };
  }

  // ---- state -------------------------------------------------------------------------------

  /** Read through a method: `close()` sets the flag while the loop awaits. */
  #stopRequested(): boolean {
    return this.#stopping;
  }

  #resumed(): void {
    if (this.#state !== 'running') {
      this.#log.info(
        this.#lastError === null ? 'NATS source consuming' : 'NATS source consuming again',
        {
          source: this.name,
          stream: this.#settings.stream,
          durable: this.#settings.durable,
          url: redactUrl(this.#settings.url),
        },
      );
    }
    this.#state = 'running';
    this.#lastError = null;
  }

  #failed(
    error: unknown,
    message: string,
    retryInMs: number,
    fields: Record<string, unknown> = {},
  ): void {
    this.#state = 'retrying';
    this.#lastError = describe(error);
    this.#log.warn(message, {
      source: this.name,
      stream: this.#settings.stream,
      code: error instanceof WaymarkError ? error.code : undefined,
      error: this.#lastError,
      retry_in_ms: retryInMs,
      ...fields,
    });
  }

  #delay(failures: number): number {
    const { initialMs, maxMs } = this.#backoff;
    return Math.min(maxMs, initialMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  }

  /** Waits `ms` of wall time (an operational pause, not journey time), or until closed. */
  #pause(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}

/** Splits entries into runs of at most `limit` events (an entry larger than that is a run alone). */
function byEventCount<T extends { events: readonly unknown[] }>(
  entries: readonly T[],
  limit: number,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let count = 0;
  for (const entry of entries) {
    if (current.length > 0 && count + entry.events.length > limit) {
      chunks.push(current);
      current = [];
      count = 0;
    }
    current.push(entry);
    count += entry.events.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function filterConfig(filters: readonly string[]): Partial<ConsumerConfig> {
  if (filters.length === 0) return {};
  if (filters.length === 1) return { filter_subject: filters[0] };
  // Several filters need NATS 2.10; older servers refuse the consumer with their own message.
  return { filter_subjects: [...filters] };
}

function nonEmpty(value: string | undefined): string[] {
  return value === undefined || value === '' ? [] : [value];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((item) => right.has(item));
}

/** The stream's creation instant in base 36: a new incarnation of a same-named stream differs. */
function streamEpoch(info: StreamInfo): string {
  const created = Date.parse(info.created);
  return Number.isFinite(created) ? created.toString(36) : info.created.replace(/\W/gu, '');
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

function isConsumerGone(error: unknown): boolean {
  return (
    isApiError(error, JetStreamApiCodes.ConsumerNotFound) ||
    isApiError(error, JetStreamApiCodes.StreamNotFound) ||
    (error instanceof Error && /consumer (was )?deleted|consumer not found/iu.test(error.message))
  );
}

function setupError(error: unknown): SourceError {
  return new SourceError('SOURCE_SETUP_FAILED', `JetStream set-up failed: ${describe(error)}`, {
    cause: error,
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The URL without credentials, for logs and errors. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/,]*@/gu, '//***@');
}

async function closeQuietly(connection: NatsConnection): Promise<void> {
  try {
    if (!connection.isClosed()) await connection.drain();
  } catch {
    await connection.close().catch(() => undefined);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

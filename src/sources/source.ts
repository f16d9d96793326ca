import { WaymarkError, type AppendResult, type NewEvent } from '../core/index.js';
import type { IngestResult, SourceMessageOutcome } from '../observability/index.js';

/**
 * Event sources: streams the server consumes events from besides HTTP.
 *
 * Glossary:
 * - **source**: one configured stream subscription (`server.sources[i]`), with a lifecycle of its own.
 * - **message**: one unit the stream delivers and wants acknowledged; it carries one event or
 *   `{"events": [...]}`, the same bodies `POST /v1/events` takes.
 * - **commit**: the events of a batch of messages appended to the event log in one store
 *   transaction. A message is acknowledged only after its events are committed.
 * - **derived idempotency key**: the key an event without its own `idempotency_key` gets from its
 *   message, so a redelivered message is a duplicate, never a second event.
 */

/** Appends events durably (one transaction), like `Engine.ingest`. */
export type IngestEvents = (events: readonly NewEvent[]) => Promise<readonly AppendResult[]>;

/** The counters a source moves; `Metrics` from the observability component has both. */
export interface SourceMetrics {
  countSourceMessages(source: string, outcome: SourceMessageOutcome, count: number): void;
  countIngested(result: IngestResult, count: number): void;
}

/**
 * Where a source is in its life:
 * - `starting`: connecting and checking the stream and consumer;
 * - `running`: consuming;
 * - `reconnecting`: the connection dropped; the client is reconnecting, nothing is lost;
 * - `retrying`: set-up or the store failed; waiting before the next attempt (see `last_error`);
 * - `stopped`: closed.
 */
export type SourceState = 'starting' | 'running' | 'reconnecting' | 'retrying' | 'stopped';

/** What `/healthz` reports for one source. */
export interface SourceHealth {
  name: string;
  type: 'nats';
  state: SourceState;
  stream: string;
  durable: string;
  /** Messages in the stream not yet delivered to the consumer; null when unknown right now. */
  pending: number | null;
  /** Messages delivered but not yet acknowledged; null when unknown right now. */
  ack_pending: number | null;
  /** The last failure (connection, set-up, store), cleared when consuming resumes. */
  last_error: string | null;
}

/** A running stream subscription the server starts and stops. */
export interface EventSource {
  readonly name: string;
  /** Begins consuming in the background; failures are retried, never thrown. */
  start(): void;
  /**
   * Stops fetching, lets the batch in flight commit and be acknowledged, then closes the
   * connection. Idempotent.
   */
  close(): Promise<void>;
  /** Current state, with the consumer's backlog when cheaply available. */
  health(): Promise<SourceHealth>;
}

/** Codes of {@link SourceError}. */
export type SourceErrorCode =
  | 'SOURCE_UNREACHABLE'
  | 'SOURCE_STREAM_NOT_FOUND'
  | 'SOURCE_CONSUMER_INVALID'
  | 'SOURCE_SETUP_FAILED'
  | 'SOURCE_CREDENTIALS_MISSING';

/**
 * A source could not reach or set up its stream. Retryable unless said otherwise: the source keeps
 * trying (a server coming up, a stream created by operations later) and reports the error in
 * `/healthz`. Missing credentials are not retryable: the server refuses to start.
 */
export class SourceError extends WaymarkError {
  declare readonly code: SourceErrorCode;

  constructor(
    code: SourceErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(code, message, { retryable: true, ...options });
  }
}

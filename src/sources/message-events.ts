import { createHash } from 'node:crypto';
import { InvalidInputError, type NewEvent } from '../core/index.js';
import { MAX_IDENTIFIER_LENGTH, parseEventBatch, type EventProblem } from '../ingest/index.js';

/** What a source knows about one message, independent of the client library. */
export interface StreamMessage {
  /** The body: UTF-8 JSON, one event or `{"events": [...]}`. */
  readonly data: Uint8Array;
  readonly subject: string;
  /** The stream's name. */
  readonly stream: string;
  /**
   * Tells this incarnation of the stream apart from an earlier one of the same name (its creation
   * time), since a deleted and recreated stream numbers its messages from 1 again.
   */
  readonly streamEpoch: string;
  /** The message's sequence number in its stream. */
  readonly sequence: number;
  /** The publisher's `Nats-Msg-Id` header, when set. */
  readonly msgId: string | undefined;
  /** When the stream stored the message, epoch ms: the default `timestamp` of its events. */
  readonly storedAt: number;
}

/** Why a message was refused; it is never retried. */
export type MessageRejection = {
  /** `INVALID_ENCODING` (not UTF-8), `INVALID_JSON`, or the ingestion code (`INVALID_INPUT`, `BATCH_TOO_LARGE`). */
  code: string;
  message: string;
  /** Located problems, by JSON path inside the message (`events[2].customer_id`). */
  problems: EventProblem[];
};

/** The events of one message, or why it was refused. */
export type DecodedMessage =
  { ok: true; events: NewEvent[] } | { ok: false; rejection: MessageRejection };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns a message into events exactly as `POST /v1/events` does (`parseEventBatch`: one event or
 * `{"events": [...]}`, all-or-nothing), then gives every event without an `idempotency_key` one
 * derived from the message, so a redelivery of the same message is a duplicate:
 *
 * - with a `Nats-Msg-Id` header: the header itself for a single event (as the HTTP
 *   `Idempotency-Key` header), `<msg-id>:<index>` for each event of a batch;
 * - without: `nats:<stream>:<epoch>:<sequence>`, and `...:<index>` for each event of a batch.
 *
 * A derived key longer than the 256 characters an idempotency key may have becomes
 * `sha256:<hex>` of it: still stable, still unique.
 */
export function decodeMessage(message: StreamMessage): DecodedMessage {
  let text: string;
  try {
    text = utf8.decode(message.data);
  } catch {
    return reject('INVALID_ENCODING', 'the message body is not UTF-8 text', '$');
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return reject('INVALID_JSON', `the message body is not JSON: ${reason}`, '$');
  }
  let events: NewEvent[];
  try {
    events = parseEventBatch(body, message.storedAt);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return { ok: false, rejection: rejectionOf(error) };
  }
  const single = events.length === 1 && !isBatch(body);
  const base =
    message.msgId !== undefined && message.msgId !== ''
      ? message.msgId
      : `nats:${message.stream}:${message.streamEpoch}:${message.sequence}`;
  return {
    ok: true,
    events: events.map((event, index) =>
      event.idempotencyKey !== undefined
        ? event
        : { ...event, idempotencyKey: boundedKey(single ? base : `${base}:${index}`) },
    ),
  };
}

/** The rejection of a message whose events the engine refused (a reserved type, say). */
export function rejectionOf(error: InvalidInputError): MessageRejection {
  return { code: error.code, message: error.message, problems: problemsOf(error.details) };
}

function reject(code: string, message: string, path: string): DecodedMessage {
  return { ok: false, rejection: { code, message, problems: [{ path, message }] } };
}

function isBatch(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body;
}

function boundedKey(key: string): string {
  if (key.length <= MAX_IDENTIFIER_LENGTH) return key;
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

function problemsOf(details: unknown): EventProblem[] {
  if (typeof details !== 'object' || details === null || !('problems' in details)) return [];
  const problems = details.problems;
  if (!Array.isArray(problems)) return [];
  return problems.flatMap((p: unknown) =>
    typeof p === 'object' &&
    p !== null &&
    'path' in p &&
    'message' in p &&
    typeof p.path === 'string' &&
    typeof p.message === 'string'
      ? [{ path: p.path, message: p.message }]
      : [],
  );
}

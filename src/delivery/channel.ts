import type { MessageRecord } from '../core/index.js';

/** What a channel provider answered for one message. */
export type SendOutcome =
  | { status: 'sent'; providerMessageId?: string | undefined }
  | { status: 'delivered'; providerMessageId?: string | undefined }
  | { status: 'failed'; error: string; retryable: boolean };

/**
 * Sends messages of one channel. Implementations must be idempotent on
 * `message.idempotencyKey`: the outbox may hand the same message over again after a crash.
 */
export interface ChannelSender {
  send(message: MessageRecord): Promise<SendOutcome>;
}

/**
 * Keeps every message instead of sending it: the channel of `waymark simulate`, of
 * `POST /journeys/{id}/test`, and of a development server with no providers configured.
 * Deduplicates by idempotency key exactly as a real provider integration must.
 */
export class RecordingChannel implements ChannelSender {
  readonly #byKey = new Map<string, MessageRecord>();

  send(message: MessageRecord): Promise<SendOutcome> {
    if (!this.#byKey.has(message.idempotencyKey)) this.#byKey.set(message.idempotencyKey, message);
    return Promise.resolve({ status: 'sent', providerMessageId: message.id });
  }

  /** Messages recorded so far, in the order first sent. */
  get messages(): MessageRecord[] {
    return [...this.#byKey.values()];
  }
}

/**
 * The internal in-app inbox: the message row in the store IS the inbox entry, so handing it over
 * means it is delivered.
 */
export class InAppInbox implements ChannelSender {
  send(message: MessageRecord): Promise<SendOutcome> {
    return Promise.resolve({ status: 'delivered', providerMessageId: message.id });
  }
}

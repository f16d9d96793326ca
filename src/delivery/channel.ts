import type { DeliveryProvider, OutgoingMessage, ProviderResult } from './provider.js';

/**
 * Keeps every message instead of sending it: the provider of `waymark simulate`, of
 * `POST /journeys/{id}/test`, and of an engine opened without configured providers (development,
 * tests). Deduplicates by idempotency key exactly as a real provider integration must.
 */
export class RecordingProvider implements DeliveryProvider {
  readonly kind = 'recording';
  readonly #byKey = new Map<string, OutgoingMessage>();

  send(message: OutgoingMessage): Promise<ProviderResult> {
    if (!this.#byKey.has(message.idempotencyKey)) this.#byKey.set(message.idempotencyKey, message);
    return Promise.resolve({ status: 'accepted', providerMessageId: message.id });
  }

  /** Messages recorded so far, in the order first sent. */
  get messages(): OutgoingMessage[] {
    return [...this.#byKey.values()];
  }
}

/**
 * The internal in-app inbox: the message row in the store IS the inbox entry, so handing it over
 * means it is delivered.
 */
export class InAppInbox implements DeliveryProvider {
  readonly kind = 'internal';

  send(message: OutgoingMessage): Promise<ProviderResult> {
    return Promise.resolve({ status: 'accepted', providerMessageId: message.id, delivered: true });
  }
}

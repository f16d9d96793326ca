/**
 * Who a message goes to and whether it may go at all, decided from the customer profile when the
 * message is queued (pure; the processor calls it in the customer's own order).
 *
 * Profile conventions (documented in docs/delivery.md):
 * - Addresses: `email` for e-mail, `phone` (E.164) for SMS, `push_tokens` (a token, a list of
 *   tokens, or a list of `{token}` objects) for push; a channel's `recipient` names another field.
 * - Consent: `consents.<channel>: false` (by channel name or type) opts the customer out of that
 *   channel; `unsubscribed: true` opts out of every channel that checks opt-outs. Delivery feedback
 *   (an unsubscribe, a Twilio STOP) writes the former.
 */
import type { ChannelType } from '../config/index.js';
import { readField } from '../journeys/index.js';

/** The profile field holding a channel type's address when the channel names none. */
export const DEFAULT_RECIPIENT_FIELDS: Readonly<Partial<Record<ChannelType, string>>> = {
  email: 'email',
  sms: 'phone',
  push: 'push_tokens',
  // A message on a tasks channel becomes a task for the customer's success manager.
  tasks: 'csm_id',
};

/** Channel types that cannot send without an address (in-app, tasks and webhooks use the id). */
export function needsAddress(type: ChannelType): boolean {
  return type === 'email' || type === 'sms' || type === 'push';
}

/**
 * The addresses in a profile field (a `customer.` prefix is optional): a string, a list of strings,
 * or a list of objects with a `token` or `address`; blanks and duplicates are dropped.
 */
export function recipientsOf(
  attributes: Readonly<Record<string, unknown>>,
  field: string,
): string[] {
  const value = readField(attributes, field);
  const found: string[] = [];
  const add = (item: unknown): void => {
    if (typeof item === 'string') {
      const trimmed = item.trim();
      if (trimmed !== '' && !found.includes(trimmed)) found.push(trimmed);
    } else if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const record = item as Record<string, unknown>;
      add(record['token'] ?? record['address']);
    }
  };
  if (Array.isArray(value)) value.forEach(add);
  else add(value);
  return found;
}

/** True when the profile opts out of the channel (see the module comment). */
export function hasOptedOut(
  attributes: Readonly<Record<string, unknown>>,
  channel: string,
  type: ChannelType,
): boolean {
  if (attributes['unsubscribed'] === true) return true;
  const consents = attributes['consents'];
  if (consents === null || typeof consents !== 'object' || Array.isArray(consents)) return false;
  const byName = (consents as Record<string, unknown>)[channel];
  const byType = (consents as Record<string, unknown>)[type];
  return byName === false || byType === false;
}

/**
 * Fits a text into `limit` characters (code points, so an emoji is not cut in half): unchanged
 * when it fits; otherwise cut at the last space within the final fifth of the limit (else mid-word)
 * and ended with `…`. The documented SMS policy: a message is never split into several SMS and
 * never refused for length; the journey event says it was shortened.
 */
export function fitToLimit(text: string, limit: number): { text: string; truncated: boolean } {
  const chars = Array.from(text);
  if (chars.length <= limit) return { text, truncated: false };
  if (limit <= 1) return { text: chars.slice(0, limit).join(''), truncated: true };
  let cut = limit - 1;
  const head = chars.slice(0, cut).join('');
  const space = head.lastIndexOf(' ');
  if (space > 0 && Array.from(head.slice(0, space)).length >= Math.floor(limit * 0.8)) {
    cut = Array.from(head.slice(0, space)).length;
  }
  return { text: `${chars.slice(0, cut).join('').trimEnd()}…`, truncated: true };
}

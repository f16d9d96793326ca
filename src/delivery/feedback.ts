/**
 * Delivery feedback: what providers and customers say about a message after it was sent
 * (delivered, bounced, complaint, unsubscribed, opened, clicked, read).
 *
 * Feedback is not applied where it arrives (an HTTP callback, the inbox API). It becomes a command
 * event in the customer's own log, so the processor applies it in the customer's order: the message
 * status, consent and fatigue state on the profile, the `message.*` journey event (the spec's
 * `message.engaged` for opens, clicks and reads), and a fallback after a bounce.
 */
import type {
  FeedbackKind,
  Instant,
  JsonObject,
  MessageRecord,
  NewEvent,
  Store,
} from '../core/index.js';

/** The command a piece of feedback becomes in the customer's log. */
export const FEEDBACK_COMMAND = 'waymark.delivery_feedback';

/** Feedback kinds, for input validation. */
export const FEEDBACK_KINDS: readonly FeedbackKind[] = [
  'delivered',
  'failed',
  'bounced',
  'complained',
  'unsubscribed',
  'opened',
  'clicked',
  'read',
];

/** One piece of feedback about one message. */
export interface DeliveryFeedback {
  messageId: string;
  kind: FeedbackKind;
  /** When it happened (the provider's timestamp), else when it arrived. */
  at: Instant;
  /** The provider's words (bounce reason, error code). */
  reason?: string | undefined;
  /** The link clicked. */
  url?: string | undefined;
  /**
   * The provider's id of this feedback event, when it has one (SendGrid `sg_event_id`): a
   * redelivered callback is then recorded once.
   */
  eventId?: string | undefined;
}

/** What recording feedback did. */
export interface FeedbackResult {
  accepted: number;
  duplicates: number;
  /** Message ids no stored message has; nothing is recorded for them. */
  unknown: string[];
}

/**
 * Turns feedback into command events in the customers' logs, in one append. Feedback for unknown
 * messages is reported back, not stored.
 */
export async function recordFeedback(
  store: Store,
  feedback: readonly DeliveryFeedback[],
  receivedAt: Instant,
): Promise<FeedbackResult> {
  const commands: NewEvent[] = [];
  const unknown: string[] = [];
  const seen = new Map<string, MessageRecord | null>();
  for (const item of feedback) {
    if (!seen.has(item.messageId)) seen.set(item.messageId, await store.getMessage(item.messageId));
    const message = seen.get(item.messageId) ?? null;
    if (message === null) {
      if (!unknown.includes(item.messageId)) unknown.push(item.messageId);
      continue;
    }
    commands.push({
      type: FEEDBACK_COMMAND,
      customerId: message.customerId,
      occurredAt: item.at,
      idempotencyKey: `feedback:${message.id}:${item.kind}:${item.eventId ?? String(item.at)}`,
      payload: {
        kind: item.kind,
        message_id: message.id,
        message: message as unknown as JsonObject,
        ...(item.reason === undefined ? {} : { reason: item.reason }),
        ...(item.url === undefined ? {} : { url: item.url }),
      },
    });
  }
  if (commands.length === 0) return { accepted: 0, duplicates: 0, unknown };
  const results = await store.appendEvents(commands, receivedAt);
  const duplicates = results.filter((r) => r.status === 'duplicate').length;
  return { accepted: results.length - duplicates, duplicates, unknown };
}

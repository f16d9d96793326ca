/**
 * Working the dead-letter queue (the guide's "Dead Letter Handling"): what the API and the CLI do
 * with a `DeadLetterItem`.
 *
 * - retry: allowed from `pending_review` or `abandoned`. The item becomes `retrying`, a new message
 *   id is chosen, and a command goes into the customer's event log in the same write; the processor
 *   then queues the message again on its channel, reading the customer's addresses afresh — which
 *   is how "fix the data, then retry" works. The new message's id is kept on the item.
 *   A dead letter whose customer was deleted since is not retried (`DEAD_LETTER_CUSTOMER_DELETED`).
 * - abandon: allowed from `pending_review` only (a retried message is already on its way).
 */
import {
  NotFoundError,
  WaymarkError,
  type DeadLetterRecord,
  type IdSource,
  type Instant,
  type Store,
} from '../core/index.js';

/** The command a dead-letter retry writes into the customer's log. */
export const DEAD_LETTER_RETRY_COMMAND = 'waymark.dead_letter_retry';

/** The dead letter is not in a state the operation starts from. */
export class DeadLetterStateError extends WaymarkError {
  constructor(id: string, status: string, operation: string) {
    super('DEAD_LETTER_STATE', `dead letter '${id}' is ${status}; it cannot be ${operation}`, {
      details: { id, status },
    });
  }
}

/** The dead letter's customer was deleted since: there is nobody to send its message to. */
export class DeadLetterCustomerDeletedError extends WaymarkError {
  constructor(id: string, customerId: string) {
    super(
      'DEAD_LETTER_CUSTOMER_DELETED',
      `dead letter '${id}' cannot be retried: customer '${customerId}' was deleted; abandon it instead`,
      { details: { id, customer_id: customerId } },
    );
  }
}

/** Queues a dead letter's message again; see the module comment. */
export async function retryDeadLetter(
  store: Store,
  id: string,
  options: { now: Instant; ids: IdSource },
): Promise<{ deadLetter: DeadLetterRecord; retryMessageId: string }> {
  const current = await store.getDeadLetter(id);
  if (current === null) throw new NotFoundError('dead letter', id);
  // Refused here rather than left to the processor, which has no customer to queue the message
  // for: the item would stay `retrying` with a message id that never exists.
  if ((await store.getCustomer(current.customerId)) === null) {
    throw new DeadLetterCustomerDeletedError(id, current.customerId);
  }
  const messageId = options.ids.next('msg');
  const updated = await store.transitionDeadLetter(id, {
    from: ['pending_review', 'abandoned'],
    to: 'retrying',
    at: options.now,
    retryMessageId: messageId,
    command: {
      type: DEAD_LETTER_RETRY_COMMAND,
      customerId: current.customerId,
      occurredAt: options.now,
      idempotencyKey: `dead_letter_retry:${id}:${messageId}`,
      payload: { dead_letter_id: id, message_id: messageId, original: current.originalMessage },
    },
  });
  if (updated === null) throw new DeadLetterStateError(id, current.status, 'retried');
  return { deadLetter: updated, retryMessageId: messageId };
}

/** Marks a dead letter abandoned; see the module comment. */
export async function abandonDeadLetter(
  store: Store,
  id: string,
  now: Instant,
): Promise<DeadLetterRecord> {
  const current = await store.getDeadLetter(id);
  if (current === null) throw new NotFoundError('dead letter', id);
  const updated = await store.transitionDeadLetter(id, {
    from: ['pending_review'],
    to: 'abandoned',
    at: now,
  });
  if (updated === null) throw new DeadLetterStateError(id, current.status, 'abandoned');
  return updated;
}

/** The guide's `DeadLetterItem` on the wire (snake_case, ISO timestamps), plus Waymark's fields. */
export function deadLetterJson(d: DeadLetterRecord): Record<string, unknown> {
  return {
    id: d.id,
    message_id: d.messageId,
    customer_id: d.customerId,
    channel: d.channel,
    original_message: d.originalMessage['message'] ?? d.originalMessage,
    failure_reason: d.failureReason,
    category: d.category,
    attempt_count: d.attemptCount,
    timestamps: {
      first_attempt: new Date(d.firstAttemptAt).toISOString(),
      last_attempt: new Date(d.lastAttemptAt).toISOString(),
    },
    status: d.status,
    tried_channels: Array.isArray(d.originalMessage['tried']) ? d.originalMessage['tried'] : [],
    retry_message_id: d.retryMessageId,
    created_at: new Date(d.createdAt).toISOString(),
    updated_at: new Date(d.updatedAt).toISOString(),
  };
}

/**
 * What the HTTP provider integrations share: turning a fetch that got no answer into a failure,
 * folding per-recipient answers into one result, and reading a body that may not be JSON.
 */
import { categoryOfNetworkError, networkErrorCode, type ProviderResult } from '../provider.js';

/** A provider's failed answer. */
export type Failure = Extract<ProviderResult, { status: 'failed' }>;

/** A provider's accepted answer. */
export type Accepted = Extract<ProviderResult, { status: 'accepted' }>;

/**
 * A fetch to `what` that got no answer: our own abort is transient by contract, the rest is
 * categorised by its errno (a refused connection means the service is not there).
 */
export function networkFailure(what: string, error: unknown, signal: AbortSignal): Failure {
  if (signal.aborted) {
    return {
      status: 'failed',
      category: 'transient',
      error: `${what}: request aborted before an answer`,
      code: 'ABORTED',
    };
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const text = error instanceof Error ? error.message : String(error);
  return {
    status: 'failed',
    category: categoryOfNetworkError(error),
    error: `${what} unreachable: ${cause === undefined ? text : `${text}: ${cause.message}`}`,
    code: networkErrorCode(error),
  };
}

/**
 * One result for a message sent to several recipients (phone numbers, device tokens) one request
 * each: the single answer when there was one; `accepted` when all were; a `failed` when none was
 * and all failed in the same category and reason (the pipeline then treats the message as a
 * whole, waiting the longest `Retry-After`); otherwise `partial`, so recipients who got it never
 * get it twice.
 */
export function combineRecipientOutcomes(
  outcomes: readonly { to: string; result: Accepted | Failure }[],
): ProviderResult {
  const [first] = outcomes;
  if (outcomes.length === 1 && first !== undefined) return first.result;
  const accepted: string[] = [];
  const failures: { to: string; failure: Failure }[] = [];
  let providerMessageId: string | undefined;
  for (const { to, result } of outcomes) {
    if (result.status === 'accepted') {
      accepted.push(to);
      providerMessageId ??= result.providerMessageId;
    } else {
      failures.push({ to, failure: result });
    }
  }
  const [firstFailure] = failures;
  if (firstFailure === undefined) return { status: 'accepted', providerMessageId };
  const alike = failures.every(
    ({ failure }) =>
      failure.category === firstFailure.failure.category &&
      failure.reason === firstFailure.failure.reason,
  );
  if (accepted.length === 0 && alike) {
    const waits = failures.map(({ failure }) => failure.retryAfterMs ?? 0);
    const retryAfterMs = Math.max(...waits);
    return { ...firstFailure.failure, retryAfterMs: retryAfterMs > 0 ? retryAfterMs : undefined };
  }
  return {
    status: 'partial',
    providerMessageId,
    accepted,
    failed: failures.map(({ to, failure }) => ({
      to,
      category: failure.category,
      error: failure.error,
      reason: failure.reason,
    })),
  };
}

/**
 * Sends to every recipient at once, one request each (Twilio and FCM have no multicast), and
 * folds the answers with {@link combineRecipientOutcomes}. No recipient is a permanent failure.
 */
export async function sendToEach(
  recipients: readonly string[],
  sendOne: (to: string) => Promise<Accepted | Failure>,
): Promise<ProviderResult> {
  if (recipients.length === 0) {
    return { status: 'failed', category: 'permanent', reason: 'rejected', error: 'no recipient' };
  }
  const outcomes = await Promise.all(
    recipients.map(async (to) => ({ to, result: await sendOne(to) })),
  );
  return combineRecipientOutcomes(outcomes);
}

/** A body as JSON, or undefined for anything else (a proxy's HTML error page: the status decides). */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

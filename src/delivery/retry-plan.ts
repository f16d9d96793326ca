/**
 * What happens after a failed send: retry later, or give up and how. Pure: the dispatcher asks,
 * the store records the answer.
 *
 * Policy resolution (first that applies):
 * 1. the channel's `retry_policy` (a `retry_policies` name or an inline policy);
 * 2. by message priority: `critical` → the policy named `critical`, `low` → `low_priority`, when
 *    the project defines them (the specification's own example names);
 * 3. the policy named `default`;
 * 4. {@link BUILT_IN_RETRY_POLICY}.
 */
import {
  defaultBackoff,
  type Backoff,
  type RetryPolicy,
  type RetryReference,
} from '../config/index.js';
import type { FailureCategory } from './provider.js';

/** Used when the project defines no applicable policy: the specification's `default` example. */
export const BUILT_IN_RETRY_POLICY: RetryPolicy = {
  max_attempts: 3,
  backoff: defaultBackoff('exponential'),
  alert_on_failure: false,
  drop_after_failure: false,
};

/** Upper bound on a provider's `Retry-After` that is obeyed (1 h); a longer one is cut to this. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** Lower bound on any retry delay (1 s), so `Retry-After: 0` cannot spin. */
const MIN_RETRY_DELAY_MS = 1_000;

/** Finds the policy for a message; see the module comment for the order. */
export function resolveRetryPolicy(
  channelPolicy: RetryReference | undefined,
  priority: 'critical' | 'high' | 'normal' | 'low',
  policies: Readonly<Record<string, RetryPolicy>>,
): RetryPolicy {
  if (typeof channelPolicy === 'object') return channelPolicy;
  if (typeof channelPolicy === 'string' && policies[channelPolicy]) return policies[channelPolicy];
  const byPriority =
    priority === 'critical'
      ? policies['critical']
      : priority === 'low'
        ? policies['low_priority']
        : undefined;
  return byPriority ?? policies['default'] ?? BUILT_IN_RETRY_POLICY;
}

/**
 * The delay after the `failedAttempts`-th failed attempt (1-based) under a backoff:
 * exponential `initial × multiplier^(n−1)`, linear `initial + increment × (n−1)`, both capped by
 * `max_delay`; fixed `delay`.
 */
export function backoffDelayMs(backoff: Backoff, failedAttempts: number): number {
  const n = Math.max(1, failedAttempts);
  switch (backoff.type) {
    case 'exponential': {
      const delay = backoff.initial_delay.ms * backoff.multiplier ** (n - 1);
      return Math.min(delay, backoff.max_delay?.ms ?? Number.POSITIVE_INFINITY);
    }
    case 'linear': {
      const delay = backoff.initial_delay.ms + backoff.increment.ms * (n - 1);
      return Math.min(delay, backoff.max_delay?.ms ?? Number.POSITIVE_INFINITY);
    }
    case 'fixed':
      return backoff.delay.ms;
  }
}

/** The failure of one attempt, as far as the retry decision needs it. */
export interface AttemptFailure {
  readonly category: Exclude<FailureCategory, 'partial'>;
  /** From the provider's `Retry-After`, ms from now. */
  readonly retryAfterMs?: number | undefined;
}

/** The decision after a failed attempt. */
export type RetryDecision =
  | { readonly kind: 'retry'; readonly at: number }
  /**
   * No more attempts on this channel. `disposal` is what becomes of the message when no fallback
   * channel takes it: `dead_letter` (kept for review and manual retry) or `drop`
   * (`drop_after_failure`). `alert` is the policy's `alert_on_failure`.
   */
  | {
      readonly kind: 'give_up';
      readonly disposal: 'dead_letter' | 'drop';
      readonly alert: boolean;
      readonly reason: 'permanent' | 'attempts_exhausted';
    };

/**
 * Decides after the `attempts`-th attempt (1-based, counting this one) failed at `now`.
 * A permanent failure is never retried on the same channel. Transient and system failures retry
 * until `max_attempts`, after the backoff delay, or after the provider's `Retry-After` when it gave
 * one (a provider's own answer beats our guess; bounded by {@link MAX_RETRY_AFTER_MS}).
 */
export function decideRetry(
  policy: RetryPolicy,
  attempts: number,
  failure: AttemptFailure,
  now: number,
): RetryDecision {
  const giveUp = (reason: 'permanent' | 'attempts_exhausted'): RetryDecision => ({
    kind: 'give_up',
    disposal: policy.drop_after_failure ? 'drop' : 'dead_letter',
    alert: policy.alert_on_failure,
    reason,
  });
  if (failure.category === 'permanent') return giveUp('permanent');
  if (attempts >= policy.max_attempts) return giveUp('attempts_exhausted');
  const delay =
    failure.retryAfterMs === undefined
      ? backoffDelayMs(policy.backoff, attempts)
      : Math.min(failure.retryAfterMs, MAX_RETRY_AFTER_MS);
  return { kind: 'retry', at: now + Math.max(MIN_RETRY_DELAY_MS, delay) };
}

import { describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import {
  BUILT_IN_RETRY_POLICY,
  backoffDelayMs,
  decideRetry,
  resolveRetryPolicy,
} from './retry-plan.js';

// The specification's retry_policies example, verbatim.
const SPEC_POLICIES = `
retry_policies:
  default:
    max_attempts: 3
    backoff:
      type: exponential
      initial_delay: 1m
      max_delay: 1h
      multiplier: 2

  critical:
    max_attempts: 5
    backoff:
      type: linear
      initial_delay: 30s
      increment: 1m
    alert_on_failure: true

  low_priority:
    max_attempts: 2
    backoff:
      type: fixed
      delay: 5m
    drop_after_failure: true
`;

function policies() {
  return loadConfigFromString(SPEC_POLICIES, 'spec.yaml').config.retry_policies;
}

const MIN = 60_000;

describe('backoff delays', () => {
  it('follow the specification policies attempt by attempt', () => {
    const p = policies();
    const delays = (name: string, n: number) =>
      Array.from({ length: n }, (_, i) => backoffDelayMs(p[name]!.backoff, i + 1));
    expect(delays('default', 8)).toEqual([1, 2, 4, 8, 16, 32, 60, 60].map((m) => m * MIN));
    expect(delays('critical', 4)).toEqual([30_000, 90_000, 150_000, 210_000]);
    expect(delays('low_priority', 3)).toEqual([5 * MIN, 5 * MIN, 5 * MIN]);
  });
});

describe('policy resolution', () => {
  it('prefers the channel policy, then the priority name, then default, then the built-in', () => {
    const p = policies();
    expect(resolveRetryPolicy('low_priority', 'critical', p)).toBe(p['low_priority']);
    expect(resolveRetryPolicy(undefined, 'critical', p)).toBe(p['critical']);
    expect(resolveRetryPolicy(undefined, 'low', p)).toBe(p['low_priority']);
    expect(resolveRetryPolicy(undefined, 'normal', p)).toBe(p['default']);
    expect(resolveRetryPolicy(undefined, 'normal', {})).toBe(BUILT_IN_RETRY_POLICY);
    expect(resolveRetryPolicy('missing', 'high', {})).toBe(BUILT_IN_RETRY_POLICY);
  });
});

describe('decideRetry', () => {
  const now = 1_700_000_000_000;

  it('retries transient and system failures after the backoff until max_attempts', () => {
    const p = policies()['default']!;
    expect(decideRetry(p, 1, { category: 'transient' }, now)).toEqual({
      kind: 'retry',
      at: now + MIN,
    });
    expect(decideRetry(p, 2, { category: 'system' }, now)).toEqual({
      kind: 'retry',
      at: now + 2 * MIN,
    });
    expect(decideRetry(p, 3, { category: 'transient' }, now)).toEqual({
      kind: 'give_up',
      disposal: 'dead_letter',
      alert: false,
      reason: 'attempts_exhausted',
    });
  });

  it('obeys Retry-After instead of the backoff, within bounds', () => {
    const p = policies()['default']!;
    expect(decideRetry(p, 1, { category: 'transient', retryAfterMs: 5_000 }, now)).toEqual({
      kind: 'retry',
      at: now + 5_000,
    });
    expect(decideRetry(p, 1, { category: 'transient', retryAfterMs: 0 }, now)).toEqual({
      kind: 'retry',
      at: now + 1_000,
    });
    expect(decideRetry(p, 1, { category: 'transient', retryAfterMs: 9e9 }, now)).toEqual({
      kind: 'retry',
      at: now + 3_600_000,
    });
  });

  it('never retries a permanent failure', () => {
    const p = policies()['critical']!;
    expect(decideRetry(p, 1, { category: 'permanent' }, now)).toEqual({
      kind: 'give_up',
      disposal: 'dead_letter',
      alert: true,
      reason: 'permanent',
    });
  });

  it('drops instead of dead-lettering under drop_after_failure', () => {
    const p = policies()['low_priority']!;
    expect(decideRetry(p, 2, { category: 'transient' }, now)).toMatchObject({
      kind: 'give_up',
      disposal: 'drop',
    });
  });
});

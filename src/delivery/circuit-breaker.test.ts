import { describe, expect, it } from 'vitest';

import { CircuitBreaker, type CircuitTransition } from './circuit-breaker.js';

const settings = {
  consecutiveFailures: 3,
  failureRate: 0.5,
  windowMs: 10_000,
  minimumRequests: 6,
  halfOpenAfterMs: 5_000,
};

function breaker(): { breaker: CircuitBreaker; clock: { now: number }; log: CircuitTransition[] } {
  const clock = { now: 1_000_000 };
  const log: CircuitTransition[] = [];
  return {
    breaker: new CircuitBreaker(
      settings,
      () => clock.now,
      (t) => log.push(t),
    ),
    clock,
    log,
  };
}

function fail(b: CircuitBreaker, times = 1): void {
  for (let i = 0; i < times; i++) b.tryAcquire()?.failure();
}

function succeed(b: CircuitBreaker, times = 1): void {
  for (let i = 0; i < times; i++) b.tryAcquire()?.success();
}

describe('CircuitBreaker', () => {
  it('opens after the configured consecutive failures and refuses permits while open', () => {
    const { breaker: b, log } = breaker();
    fail(b, 2);
    expect(b.state).toBe('closed');
    fail(b);
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBeNull();
    expect(log.map((t) => t.to)).toEqual(['open']);
  });

  it('a success resets the consecutive count', () => {
    const { breaker: b } = breaker();
    fail(b, 2);
    succeed(b);
    fail(b, 2);
    expect(b.state).toBe('closed');
  });

  it('opens on the failure rate over the window once enough requests were seen', () => {
    const { breaker: b } = breaker();
    // Alternating: never 3 in a row, but 3 of 6 failed.
    for (let i = 0; i < 3; i++) {
      fail(b);
      succeed(b);
    }
    expect(b.state).toBe('open');
  });

  it('forgets outcomes older than the window', () => {
    const { breaker: b, clock } = breaker();
    fail(b, 2);
    succeed(b);
    fail(b, 2);
    clock.now += 10_001;
    // Old failures dropped out: 1 failure of 1 seen, below the minimum.
    succeed(b);
    fail(b);
    succeed(b);
    expect(b.state).toBe('closed');
  });

  it('lets exactly one probe through after the open period; its success closes the circuit', () => {
    const { breaker: b, clock, log } = breaker();
    fail(b, 3);
    expect(b.availableAt).toBe(clock.now + 5_000);
    clock.now += 5_000;
    expect(b.state).toBe('half_open');
    const probe = b.tryAcquire();
    expect(probe).not.toBeNull();
    expect(b.tryAcquire()).toBeNull();
    probe?.success();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).not.toBeNull();
    expect(log.map((t) => t.to)).toEqual(['open', 'half_open', 'closed']);
  });

  it('a failed probe re-opens the circuit for another period', () => {
    const { breaker: b, clock } = breaker();
    fail(b, 3);
    clock.now += 5_000;
    b.tryAcquire()?.failure();
    expect(b.state).toBe('open');
    expect(b.availableAt).toBe(clock.now + 5_000);
  });

  it('ignores late answers of requests started before the circuit opened', () => {
    const { breaker: b, clock } = breaker();
    const slow = b.tryAcquire();
    fail(b, 3);
    clock.now += 5_000;
    const probe = b.tryAcquire();
    slow?.failure();
    expect(b.state).toBe('half_open');
    probe?.success();
    expect(b.state).toBe('closed');
  });

  it('counts each permit once', () => {
    const { breaker: b } = breaker();
    const permit = b.tryAcquire();
    permit?.failure();
    permit?.failure();
    permit?.failure();
    expect(b.state).toBe('closed');
  });
});

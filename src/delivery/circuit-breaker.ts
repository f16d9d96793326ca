/**
 * A circuit breaker per provider: after enough failures the provider is skipped (open) so messages
 * fail over to the channel's next provider at once instead of each waiting for a timeout; after
 * `halfOpenAfterMs` one probe request is let through, and its result closes or re-opens the circuit.
 *
 * Written here rather than taken from cockatiel because every decision must read the injected
 * clock: simulation and tests move time by hand, and cockatiel's breakers read `Date.now()`.
 *
 * States
 * - closed: requests flow; failures are counted (consecutive, and as a rate over a sliding window).
 * - open: no requests until `openUntil`.
 * - half_open: exactly one probe in flight; others see the circuit as open.
 */

/** When a breaker opens and how long it stays open. */
export interface CircuitBreakerSettings {
  /** Consecutive failures that open the circuit. */
  readonly consecutiveFailures: number;
  /** Failure rate (0–1) over the window that opens the circuit, once `minimumRequests` were seen. */
  readonly failureRate: number;
  /** The sliding window for the failure rate, in ms. */
  readonly windowMs: number;
  /** Requests in the window before the rate counts. */
  readonly minimumRequests: number;
  /** How long an open circuit stays open before a probe, in ms. */
  readonly halfOpenAfterMs: number;
}

/** Defaults: 5 consecutive failures, or half of at least 20 requests in 60 s; probe after 30 s. */
export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerSettings = {
  consecutiveFailures: 5,
  failureRate: 0.5,
  windowMs: 60_000,
  minimumRequests: 20,
  halfOpenAfterMs: 30_000,
};

/** A breaker's state as reported to metrics and the health endpoint. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** A permit to send: report its outcome exactly once. */
export interface CircuitPermit {
  success(): void;
  failure(): void;
}

/** Whether and when a state change happened, for logs, alerts and metrics. */
export type CircuitTransition = { from: CircuitState; to: CircuitState; at: number };

/** The breaker of one provider. */
export class CircuitBreaker {
  readonly #settings: CircuitBreakerSettings;
  readonly #now: () => number;
  readonly #onTransition: (transition: CircuitTransition) => void;
  #state: CircuitState = 'closed';
  #openUntil = 0;
  #consecutive = 0;
  #probeInFlight = false;
  /** Outcomes in the window, oldest first: [time, failed]. */
  readonly #window: [number, boolean][] = [];
  #windowFailures = 0;

  constructor(
    settings: CircuitBreakerSettings,
    now: () => number,
    onTransition: (transition: CircuitTransition) => void = () => {},
  ) {
    this.#settings = settings;
    this.#now = now;
    this.#onTransition = onTransition;
  }

  /** The current state (an open circuit whose time is up reads as half_open). */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() >= this.#openUntil) return 'half_open';
    return this.#state;
  }

  /** When an open circuit lets its next probe through (epoch ms); `now` when not open. */
  get availableAt(): number {
    return this.#state === 'open' ? this.#openUntil : this.#now();
  }

  /**
   * A permit to send now, or null while the circuit is open (or its one probe is in flight).
   */
  tryAcquire(): CircuitPermit | null {
    const now = this.#now();
    if (this.#state === 'open') {
      if (now < this.#openUntil) return null;
      this.#move('half_open', now);
    }
    if (this.#state === 'half_open') {
      if (this.#probeInFlight) return null;
      this.#probeInFlight = true;
      return this.#permit(true);
    }
    return this.#permit(false);
  }

  #permit(probe: boolean): CircuitPermit {
    let reported = false;
    return {
      success: () => {
        if (reported) return;
        reported = true;
        this.#record(false, probe);
      },
      failure: () => {
        if (reported) return;
        reported = true;
        this.#record(true, probe);
      },
    };
  }

  #record(failed: boolean, probe: boolean): void {
    const now = this.#now();
    if (probe) {
      this.#probeInFlight = false;
      if (failed) this.#open(now);
      else this.#close(now);
      return;
    }
    // A late answer from before the circuit opened says nothing about the provider now.
    if (this.#state !== 'closed') return;
    this.#consecutive = failed ? this.#consecutive + 1 : 0;
    this.#window.push([now, failed]);
    if (failed) this.#windowFailures++;
    this.#trim(now);
    const seen = this.#window.length;
    const rateTripped =
      seen >= this.#settings.minimumRequests &&
      this.#windowFailures / seen >= this.#settings.failureRate;
    if (this.#consecutive >= this.#settings.consecutiveFailures || rateTripped) this.#open(now);
  }

  #trim(now: number): void {
    const oldest = now - this.#settings.windowMs;
    while (this.#window.length > 0 && (this.#window[0]?.[0] ?? now) <= oldest) {
      const [, failed] = this.#window.shift() ?? [0, false];
      if (failed) this.#windowFailures--;
    }
  }

  #open(now: number): void {
    this.#openUntil = now + this.#settings.halfOpenAfterMs;
    this.#move('open', now);
  }

  #close(now: number): void {
    this.#consecutive = 0;
    this.#window.length = 0;
    this.#windowFailures = 0;
    this.#move('closed', now);
  }

  #move(to: CircuitState, at: number): void {
    const from = this.#state;
    this.#state = to;
    if (from !== to) this.#onTransition({ from, to, at });
  }
}

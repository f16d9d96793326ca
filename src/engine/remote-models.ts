/**
 * "Bring your own model": predictions whose model is served by your HTTP endpoint
 * (`models.<name>.endpoint`).
 *
 * The processor cannot wait for a network call inside a customer's batch, so a profile change
 * leaves a `model_request` in the outbox, committed with the change. The outbox dispatcher hands
 * it here: the customer's current profile is POSTed as `{model, customer_id, attributes}`, the
 * answer (`{probability}` 0–1 or `{score}` 0–100, optional `factors`) goes back into the
 * customer's event log as a `waymark.prediction` command keyed by the request, and the processor
 * applies it in the customer's order — so a crash anywhere repeats the request, never the effect.
 *
 * Each endpoint has a timeout and a circuit breaker (clock-driven, like the delivery providers').
 * When the call fails or the circuit is open, the newest registered version of the same name
 * scores the profile instead, and the prediction says so; with no registered version the request
 * fails and the outbox retries it with backoff.
 */
import type { WaymarkConfig } from '../config/index.js';
import type { Clock, Logger, NewEvent, Store } from '../core/index.js';
import { CircuitBreaker, type SecretSource } from '../delivery/index.js';
import type { PredictionModel } from './project.js';

/** What a remote model answered (or its fallback scored). */
interface RemoteAnswer {
  probability: number;
  factors: string[];
  notes: string[];
  source: string;
}

/** What `RemoteModels` needs. */
export interface RemoteModelDeps {
  readonly config: () => WaymarkConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly fetch: typeof fetch;
  readonly secrets: SecretSource;
  /** The newest registered version of a model name, for the fallback. */
  readonly builtIn: (name: string) => PredictionModel | undefined;
  /** Appends engine commands to the event log (bypassing the reserved-type check of `ingest`). */
  readonly append: (events: readonly NewEvent[]) => Promise<void>;
}

/** Scores customers with models behind HTTP endpoints. */
export class RemoteModels {
  readonly #deps: RemoteModelDeps;
  readonly #breakers = new Map<string, CircuitBreaker>();

  constructor(deps: RemoteModelDeps) {
    this.#deps = deps;
  }

  /** Handles one `model_request` outbox entry (see the module comment). */
  async score(key: string, request: Record<string, unknown>): Promise<void> {
    const model = typeof request['model'] === 'string' ? request['model'] : '';
    const customerId = typeof request['customer_id'] === 'string' ? request['customer_id'] : '';
    const customer = await this.#deps.store.getCustomer(customerId);
    // Deleted since: nothing to score, and the request is done.
    if (customer === null) return;
    const answer = await this.#answer(model, customerId, customer.attributes);
    await this.#deps.append([
      {
        type: 'waymark.prediction',
        customerId,
        occurredAt: this.#deps.clock.now(),
        idempotencyKey: `prediction:${key}`,
        payload: {
          model,
          probability: answer.probability,
          factors: answer.factors,
          notes: answer.notes,
          source: answer.source,
        },
      },
    ]);
  }

  /** The state of each endpoint's circuit, for `/healthz`. */
  circuits(): Record<string, string> {
    return Object.fromEntries([...this.#breakers].map(([name, b]) => [name, b.state]));
  }

  async #answer(
    model: string,
    customerId: string,
    attributes: Readonly<Record<string, unknown>>,
  ): Promise<RemoteAnswer> {
    const endpoint = this.#deps.config().models[model]?.endpoint;
    let failure: string;
    if (endpoint === undefined) {
      failure = `model '${model}' has no endpoint in this config`;
    } else {
      const breaker = this.#breaker(model, endpoint.failure_threshold, endpoint.reset_after.ms);
      const permit = breaker.tryAcquire();
      if (permit === null) {
        failure = 'circuit open';
      } else {
        try {
          const answer = await this.#call(endpoint, model, customerId, attributes);
          permit.success();
          return answer;
        } catch (error) {
          permit.failure();
          failure = (error as Error).message;
        }
      }
    }
    const fallback = this.#deps.builtIn(model);
    if (fallback === undefined) {
      throw new Error(
        `model '${model}' endpoint failed (${failure}) and no registered version to fall back to`,
      );
    }
    this.#deps.log.warn('model endpoint failed; scored with the registered model', {
      model,
      customer: customerId,
      error: failure,
    });
    const score = fallback.score(attributes, this.#deps.clock.now());
    return {
      probability: score.probability,
      factors: [...score.factors],
      notes: [...score.notes, `endpoint failed (${failure}); built-in model used`],
      source: `${fallback.name}@${fallback.version} (fallback)`,
    };
  }

  async #call(
    endpoint: NonNullable<WaymarkConfig['models'][string]['endpoint']>,
    model: string,
    customerId: string,
    attributes: Readonly<Record<string, unknown>>,
  ): Promise<RemoteAnswer> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (endpoint.token_env !== undefined) {
      const token = this.#deps.secrets[endpoint.token_env];
      if (token === undefined || token === '') {
        throw new Error(`environment variable ${endpoint.token_env} is not set`);
      }
      headers['authorization'] = `Bearer ${token}`;
    }
    // A wall-clock bound on a network call (operational, not journey time).
    const response = await this.#deps.fetch(endpoint.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model, customer_id: customerId, attributes }),
      signal: AbortSignal.timeout(endpoint.timeout.ms),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body: unknown = await response.json().catch(() => null);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new Error('the answer is not a JSON object');
    }
    const record = body as Record<string, unknown>;
    const probability =
      typeof record['probability'] === 'number'
        ? record['probability']
        : typeof record['score'] === 'number'
          ? record['score'] / 100
          : Number.NaN;
    if (!(probability >= 0 && probability <= 1)) {
      throw new Error("the answer needs 'probability' (0-1) or 'score' (0-100)");
    }
    const factors = Array.isArray(record['factors'])
      ? record['factors'].filter((f): f is string => typeof f === 'string').slice(0, 20)
      : [];
    return { probability, factors, notes: [], source: `${model} (endpoint)` };
  }

  #breaker(model: string, threshold: number, resetMs: number): CircuitBreaker {
    let breaker = this.#breakers.get(model);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(
        {
          consecutiveFailures: threshold,
          failureRate: 1,
          windowMs: 60_000,
          minimumRequests: Number.MAX_SAFE_INTEGER,
          halfOpenAfterMs: resetMs,
        },
        () => this.#deps.clock.now(),
        (t) => {
          this.#deps.log.warn('model endpoint circuit', { model, from: t.from, to: t.to });
        },
      );
      this.#breakers.set(model, breaker);
    }
    return breaker;
  }
}

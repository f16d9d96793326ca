/**
 * Delivers journey events to the configured `webhooks:` (the guide's "Webhook Configuration").
 *
 * Glossary
 * - journey event log: the store's append-only `journey_events`, ordered by `seq`. Webhooks read it
 *   directly; nothing is copied into a second queue.
 * - consumer / cursor: every webhook reads the log under its own consumer name
 *   (`webhook:<name>`), and its cursor is the `seq` of the last event it has handled. Separate
 *   cursors are the bulkhead: an endpoint that is down holds back only its own events.
 * - handled: delivered (2xx), skipped by the `events` filter, or given up on (a permanent rejection,
 *   `retry: false`, or a retry policy's last attempt). Only handled events move the cursor.
 * - held batch: with `batch`, fewer than `batch.size` matching events whose oldest is younger than
 *   `batch.window`. Held events stay in the log behind the cursor (not in memory), so a restart
 *   loses nothing; they are read again on the next pass.
 *
 * Delivery is at least once: a crash between a 2xx answer and the cursor write sends the same
 * events again, with the same `Idempotency-Key`, so receivers can de-duplicate.
 */
import { createHmac } from 'node:crypto';

import {
  WaymarkError,
  toWireJourneyEvent,
  type Clock,
  type Instant,
  type JourneyEventRecord,
  type Logger,
  type Store,
} from '../core/index.js';
import {
  eventPatternMatches,
  type Backoff,
  type RetryPolicy,
  type WebhookConfig,
} from '../config/index.js';

/** Request timeout when neither the webhook's `timeout` nor `timeoutMs` says otherwise (10 s). */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/** First delay after a failure under `retry: true` (1 s); it doubles per consecutive failure. */
const RETRY_INITIAL_MS = 1_000;
/** Upper bound of the `retry: true` backoff (5 min). */
const RETRY_MAX_MS = 300_000;
/**
 * Upper bound on a `Retry-After` we obey (1 h): a buggy or hostile header must not silence a
 * webhook for days; the events stay in the log either way.
 */
const RETRY_AFTER_MAX_MS = 3_600_000;
/** Events read per page when each event is its own request. */
const SINGLE_PAGE = 100;
/**
 * Requests one webhook may make in one pass. A backlog is worked off over several passes, so a
 * caller that also delivers messages between passes is never held for the whole backlog.
 */
const MAX_REQUESTS_PER_PASS = 100;
/**
 * How far a batch may scan past its cursor looking for `batch.size` matching events. A sparse
 * filter over a dense log would otherwise read without bound; at the cap the batch is sent with
 * what it found.
 */
const MAX_BATCH_SCAN = 50_000;

/** Everything {@link JourneyEventWebhooks} needs; passed in, never read from globals. */
export interface JourneyEventWebhooksOptions {
  /** The journey event log and the per-webhook cursors. */
  store: Store;
  /** "Now" for batch windows, backoff and signature timestamps. */
  clock: Clock;
  /** The loaded config's `webhooks`. */
  webhooks: readonly WebhookConfig[];
  /** Where `auth.*_env` names are looked up, once, at construction. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Receives failures and configuration problems; never event contents. */
  log: Logger;
  /** The HTTP client. Default the global `fetch`. */
  fetch?: typeof fetch | undefined;
  /** Request timeout in ms for webhooks without their own `timeout`. Default 10 000. */
  timeoutMs?: number | undefined;
  /**
   * The loaded config's `retry_policies`, to resolve `retry: <policy name>`. Without it (or for an
   * unknown name) such a webhook retries as `retry: true` does and a warning is logged once.
   */
  retryPolicies?: Readonly<Record<string, RetryPolicy>> | undefined;
}

/** How a webhook retries, compiled once from `retry`. */
type RetryPlan =
  | { kind: 'none' }
  /** `retry: true`: 1 s doubling up to 5 min, with no attempt limit (the events are never dropped). */
  | { kind: 'forever' }
  | { kind: 'policy'; policy: RetryPolicy };

/** A webhook compiled for delivery, plus its in-memory backoff state. */
interface Target {
  readonly name: string;
  readonly consumer: string;
  readonly url: string;
  readonly events: readonly string[];
  /** Static headers: the config's `headers`, then content type and authorization on top. */
  readonly headers: Readonly<Record<string, string>>;
  readonly signing: { header: string; secret: string } | undefined;
  readonly timeoutMs: number;
  readonly retry: RetryPlan;
  readonly batch: { size: number; windowMs: number } | undefined;
  /** Why the webhook cannot be called at all (logged once); its events wait in the log. */
  readonly problem: string | undefined;
  /** Consecutive failed attempts at the events at the head of its cursor. */
  failures: number;
  /** No request before this instant (backoff, Retry-After). */
  notBefore: Instant;
  /**
   * The last seq of a batch that failed and will be retried: the retry sends exactly the same
   * events, so its `Idempotency-Key` is the same and the receiver can recognise it.
   */
  retryUpTo: number | undefined;
}

/** What one page or batch came to: events delivered, requests made, and whether to go on. */
interface Step {
  delivered: number;
  requests: number;
  more: boolean;
}

/** What one HTTP attempt came to. */
type Attempt =
  | { ok: true }
  | {
      ok: false;
      /** True when trying again later may succeed (network, timeout, 408, 429, 5xx). */
      transient: boolean;
      reason: string;
      status?: number;
      /** From `Retry-After` on a 429 or 503, in ms from now. */
      retryAfterMs?: number;
    };

/**
 * Publishes the journey event log to the configured webhooks. Each call to {@link publish} is one
 * pass: every webhook reads the events after its own cursor, sends the ones its `events` filter
 * selects (one request per event, or `{events: [...]}` batches), and moves its cursor past what it
 * handled. Webhooks are served concurrently, so a slow endpoint does not delay the others.
 *
 * Requests are `POST` with a JSON body, an `Idempotency-Key` (`<webhook>:<seq>` or
 * `<webhook>:<first seq>-<last seq>`), the configured `headers`, `auth` (bearer or basic), and,
 * with `auth.type: hmac`, a signature header `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 *
 * Failures never throw: network errors, timeouts, 3xx (redirects are not followed), 408, 429 and
 * 5xx keep the events and retry them after a backoff (in memory, by the clock) when `retry` allows,
 * otherwise they are logged and passed; other 4xx are permanent and passed at once, whatever
 * `retry` says. Only a failing store makes {@link publish} reject.
 */
export class JourneyEventWebhooks {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #fetch: typeof fetch;
  readonly #targets: Target[];
  /** The pass in progress: passes run one after another so no event is sent twice by overlap. */
  #running: Promise<unknown> = Promise.resolve();

  /** Compiles the webhooks and resolves their secrets; a webhook that cannot be called is logged here. */
  constructor(options: JourneyEventWebhooksOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.log;
    // Bound so that it is never called with this class as `this`.
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    const env = options.env ?? process.env;
    const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    this.#targets = options.webhooks.map((webhook) =>
      this.#compile(webhook, env, timeoutMs, options.retryPolicies),
    );
  }

  /**
   * One pass over every webhook: at most 100 requests each, so a backlog takes several passes.
   * Resolves to the number of events delivered (answered 2xx). Call it again while it returns more
   * than 0, and on a timer besides: 0 means nothing more can go now (the log is drained, or what is
   * left is held in a batch window or waits for a backoff), except in the rare pass whose 100
   * requests were all rejected for good, which the next pass continues from.
   *
   * @throws whatever the store throws; the failing webhook keeps its cursor, the others finish
   *   their pass first. Several store failures are thrown as one `AggregateError`.
   */
  publish(): Promise<number> {
    const pass = this.#running.then(() => this.#pass());
    // The next pass waits for this one whether it succeeds or not.
    this.#running = pass.catch(() => undefined);
    return pass;
  }

  async #pass(): Promise<number> {
    const results = await Promise.allSettled(this.#targets.map((t) => this.#publishTo(t)));
    let delivered = 0;
    const errors: unknown[] = [];
    for (const result of results) {
      if (result.status === 'fulfilled') delivered += result.value;
      else errors.push(result.reason);
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'journey event webhooks: store failed');
    return delivered;
  }

  /** Sends everything one webhook may send now; returns how many events it delivered. */
  async #publishTo(target: Target): Promise<number> {
    if (target.problem !== undefined) return 0;
    let delivered = 0;
    let requests = 0;
    while (requests < MAX_REQUESTS_PER_PASS) {
      if (this.#clock.now() < target.notBefore) return delivered;
      const step =
        target.batch === undefined
          ? await this.#singlePage(target)
          : await this.#nextBatch(target, target.batch);
      delivered += step.delivered;
      requests += step.requests;
      if (!step.more) return delivered;
    }
    return delivered;
  }

  /** One page of events, one request each, in `seq` order; stops at a failure that will be retried. */
  async #singlePage(target: Target): Promise<Step> {
    const page = await this.#store.readJourneyEventsFor(target.consumer, SINGLE_PAGE);
    let delivered = 0;
    let requests = 0;
    // Handled but not yet recorded: skipped events are recorded with the next write.
    let handled: number | undefined;
    for (const event of page) {
      const seq = seqOf(event);
      if (!matches(target, event)) {
        handled = seq;
        continue;
      }
      const body = JSON.stringify(toWireJourneyEvent(event));
      const attempt = await this.#post(target, body, `${keyPart(target.name)}:${seq}`);
      requests += 1;
      if (!attempt.ok && this.#willRetry(target, attempt, [event])) {
        if (handled !== undefined) await this.#store.advanceCursor(target.consumer, handled);
        return { delivered, requests, more: false };
      }
      if (attempt.ok) delivered += 1;
      target.failures = 0;
      handled = undefined;
      await this.#store.advanceCursor(target.consumer, seq);
    }
    if (handled !== undefined) await this.#store.advanceCursor(target.consumer, handled);
    return { delivered, requests, more: page.length === SINGLE_PAGE };
  }

  /**
   * The next batch: up to `size` matching events. A full batch (or the same batch again after a
   * failure) goes at once; a partial one waits until `window` has passed since its oldest event.
   */
  async #nextBatch(target: Target, batch: { size: number; windowMs: number }): Promise<Step> {
    const scan = await this.#scan(target, batch.size);
    const { taken, matching, reachedEnd } = scan;
    const last = taken.at(-1);
    if (last === undefined) return { delivered: 0, requests: 0, more: false };
    const first = matching[0];
    if (first === undefined) {
      // Nothing this webhook wants: pass it all.
      await this.#store.advanceCursor(target.consumer, seqOf(last));
      return { delivered: 0, requests: 0, more: !reachedEnd };
    }
    const firstSeq = seqOf(first);
    const lastMatchSeq = seqOf(matching.at(-1) ?? first);
    const due =
      matching.length >= batch.size ||
      target.retryUpTo !== undefined ||
      !reachedEnd ||
      this.#clock.now() - first.timestamp >= batch.windowMs;
    if (!due) {
      await this.#passSkippedBefore(target, taken, firstSeq);
      return { delivered: 0, requests: 0, more: false };
    }
    const body = JSON.stringify({ events: matching.map(toWireJourneyEvent) });
    const key = `${keyPart(target.name)}:${firstSeq}-${lastMatchSeq}`;
    const attempt = await this.#post(target, body, key);
    if (!attempt.ok && this.#willRetry(target, attempt, matching)) {
      target.retryUpTo = lastMatchSeq;
      await this.#passSkippedBefore(target, taken, firstSeq);
      return { delivered: 0, requests: 1, more: false };
    }
    target.failures = 0;
    target.retryUpTo = undefined;
    await this.#store.advanceCursor(target.consumer, seqOf(last));
    return { delivered: attempt.ok ? matching.length : 0, requests: 1, more: true };
  }

  /**
   * Reads from the cursor until `size` matching events are found, the log ends, or the scan cap is
   * reached. `taken` is the prefix of the log the batch covers: through its last matching event
   * when full, else everything read (trailing non-matching events go with the batch).
   */
  async #scan(
    target: Target,
    size: number,
  ): Promise<{ taken: JourneyEventRecord[]; matching: JourneyEventRecord[]; reachedEnd: boolean }> {
    const cap = Math.max(size, MAX_BATCH_SCAN);
    let limit = Math.min(Math.max(size * 2, 500), cap);
    for (;;) {
      let page = await this.#store.readJourneyEventsFor(target.consumer, limit);
      const retryUpTo = target.retryUpTo;
      const truncated = retryUpTo !== undefined && page.some((e) => seqOf(e) > retryUpTo);
      if (retryUpTo !== undefined) page = page.filter((e) => seqOf(e) <= retryUpTo);
      const matching: JourneyEventRecord[] = [];
      for (let i = 0; i < page.length; i++) {
        const event = page[i];
        if (event === undefined || !matches(target, event)) continue;
        matching.push(event);
        if (matching.length === size) {
          return { taken: page.slice(0, i + 1), matching, reachedEnd: false };
        }
      }
      const full = page.length === limit;
      if (!full || truncated || limit >= cap) {
        // At the scan cap the batch goes with what it has (`reachedEnd: false` makes it due).
        return { taken: page, matching, reachedEnd: !full || truncated };
      }
      limit = Math.min(limit * 4, cap);
    }
  }

  /**
   * Moves the cursor past the non-matching events that precede the first matching one (`taken`
   * starts at the cursor, so everything in it before `firstSeq` was skipped by the filter).
   */
  async #passSkippedBefore(
    target: Target,
    taken: readonly JourneyEventRecord[],
    firstSeq: number,
  ): Promise<void> {
    const head = taken[0];
    if (head !== undefined && seqOf(head) < firstSeq) {
      await this.#store.advanceCursor(target.consumer, firstSeq - 1);
    }
  }

  /**
   * Decides what a failed attempt means. Returns true when the events stay for a later attempt (the
   * backoff is set); false when they are to be passed (logged here).
   */
  #willRetry(
    target: Target,
    attempt: Extract<Attempt, { ok: false }>,
    events: readonly JourneyEventRecord[],
  ): boolean {
    const fields = {
      webhook: target.name,
      status: attempt.status,
      error: attempt.reason,
      first_seq: events[0]?.seq,
      last_seq: events.at(-1)?.seq,
      events: events.length,
    };
    if (!attempt.transient) {
      this.#log.error('webhook rejected journey events permanently; passing them', fields);
      return false;
    }
    const plan = target.retry;
    if (plan.kind === 'none') {
      this.#log.warn('webhook delivery failed and retry is off; passing the events', fields);
      return false;
    }
    target.failures += 1;
    if (plan.kind === 'policy' && target.failures >= plan.policy.max_attempts) {
      this.#log.error('webhook delivery failed on the last attempt; passing the events', {
        ...fields,
        attempts: target.failures,
      });
      return false;
    }
    const backoffMs =
      plan.kind === 'forever'
        ? Math.min(RETRY_INITIAL_MS * 2 ** (target.failures - 1), RETRY_MAX_MS)
        : backoffDelayMs(plan.policy.backoff, target.failures);
    const delayMs = attempt.retryAfterMs ?? backoffMs;
    target.notBefore = this.#clock.now() + delayMs;
    this.#log.warn('webhook delivery failed; will retry', {
      ...fields,
      attempts: target.failures,
      retry_in_ms: delayMs,
    });
    return true;
  }

  /** One POST. Never throws: every outcome is an {@link Attempt}. */
  async #post(target: Target, body: string, idempotencyKey: string): Promise<Attempt> {
    const headers: Record<string, string> = {
      ...target.headers,
      'idempotency-key': idempotencyKey,
    };
    if (target.signing !== undefined) {
      headers[target.signing.header.toLowerCase()] = signature(
        target.signing.secret,
        Math.floor(this.#clock.now() / 1000),
        body,
      );
    }
    let response: Response;
    try {
      response = await this.#fetch(target.url, {
        method: 'POST',
        headers,
        body,
        // A redirected POST would be replayed as a GET without its body; the URL needs fixing.
        redirect: 'manual',
        signal: AbortSignal.timeout(target.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      const reason = timedOut
        ? `no answer within ${target.timeoutMs} ms`
        : error instanceof Error
          ? describeFetchError(error)
          : String(error);
      return { ok: false, transient: true, reason };
    }
    // The body is not needed; cancelling frees the connection. A failure to cancel changes nothing.
    await response.body?.cancel().catch(() => undefined);
    const status = response.status;
    if (status >= 200 && status < 300) return { ok: true };
    // Only a client error says the request itself is wrong; a redirect or a server error may pass
    // once the endpoint (or its URL in the config) is fixed, so those events are kept.
    const transient = status < 400 || status >= 500 || status === 408 || status === 429;
    const failure: Extract<Attempt, { ok: false }> = {
      ok: false,
      transient,
      status,
      reason: `answered HTTP ${status}`,
    };
    if (status === 429 || status === 503) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.#clock.now());
      if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
    }
    return failure;
  }

  /** Compiles one webhook; configuration problems are logged here, once. */
  #compile(
    webhook: WebhookConfig,
    env: Readonly<Record<string, string | undefined>>,
    defaultTimeoutMs: number,
    retryPolicies: Readonly<Record<string, RetryPolicy>> | undefined,
  ): Target {
    const problems: string[] = [];
    const secret = (name: string): string => {
      const value = env[name];
      if (value === undefined || value === '') {
        problems.push(`environment variable ${name} (auth) is not set`);
        return '';
      }
      return value;
    };
    // Header names are lower-cased so `auth` reliably replaces a configured Authorization header.
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(webhook.headers ?? {})) {
      headers[name.toLowerCase()] = value;
    }
    headers['content-type'] = 'application/json';
    let signing: Target['signing'];
    const auth = webhook.auth;
    if (auth !== undefined) {
      switch (auth.type) {
        case 'bearer':
          headers['authorization'] = `Bearer ${secret(auth.token_env)}`;
          break;
        case 'basic': {
          const credentials = `${secret(auth.username_env)}:${secret(auth.password_env)}`;
          headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
          break;
        }
        case 'hmac':
          signing = { header: auth.header, secret: secret(auth.secret_env) };
          break;
      }
    }
    // Placeholders need a customer to render against; a journey event webhook has none (a batch
    // spans many customers), and sending the literal braces would reach the wrong URL silently.
    const texts = [webhook.url, ...Object.values(webhook.headers ?? {})];
    if (texts.some((text) => text.includes('{{'))) {
      problems.push(
        'placeholders ({{...}}) in url or headers are not supported for journey events',
      );
    }
    const retry = this.#retryPlan(webhook, retryPolicies);
    const problem = problems.length === 0 ? undefined : problems.join('; ');
    if (problem !== undefined) {
      this.#log.error('webhook cannot be called; its journey events wait in the log', {
        webhook: webhook.name,
        code: 'WEBHOOK_UNAVAILABLE',
        error: problem,
      });
    }
    const batch = webhook.batch;
    return {
      name: webhook.name,
      consumer: `webhook:${webhook.name}`,
      url: webhook.url,
      events: webhook.events,
      headers,
      signing,
      timeoutMs: webhook.timeout?.ms ?? defaultTimeoutMs,
      retry,
      batch: batch?.enabled === true ? { size: batch.size, windowMs: batch.window.ms } : undefined,
      problem,
      failures: 0,
      notBefore: Number.NEGATIVE_INFINITY,
      retryUpTo: undefined,
    };
  }

  #retryPlan(
    webhook: WebhookConfig,
    retryPolicies: Readonly<Record<string, RetryPolicy>> | undefined,
  ): RetryPlan {
    const retry = webhook.retry;
    if (retry === false) return { kind: 'none' };
    if (retry === true) return { kind: 'forever' };
    if (typeof retry !== 'string') return { kind: 'policy', policy: retry };
    const policy = retryPolicies?.[retry];
    if (policy !== undefined) return { kind: 'policy', policy };
    this.#log.warn("webhook's retry policy is unknown here; retrying as with retry: true", {
      webhook: webhook.name,
      retry,
    });
    return { kind: 'forever' };
  }
}

function matches(target: Target, event: JourneyEventRecord): boolean {
  return target.events.some((pattern) => eventPatternMatches(pattern, event.type));
}

/** Events read from the log always carry their seq; the type allows none only for new records. */
function seqOf(event: JourneyEventRecord): number {
  if (event.seq === undefined) {
    throw new WaymarkError('INTERNAL', 'a journey event read from the log has no seq');
  }
  return event.seq;
}

/** Webhook names may hold spaces and non-ASCII; header values must be plain ASCII. */
function keyPart(name: string): string {
  return encodeURIComponent(name);
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp lets receivers refuse replays. */
function signature(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms from `now`; undefined when unusable. */
function parseRetryAfter(value: string | null, now: Instant): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), RETRY_AFTER_MAX_MS);
}

/** Delay before retry number `failures` (1-based) under a configured backoff. */
function backoffDelayMs(backoff: Backoff, failures: number): number {
  switch (backoff.type) {
    case 'exponential': {
      const ms = backoff.initial_delay.ms * backoff.multiplier ** (failures - 1);
      return Math.min(ms, backoff.max_delay?.ms ?? Number.POSITIVE_INFINITY);
    }
    case 'linear': {
      const ms = backoff.initial_delay.ms + backoff.increment.ms * (failures - 1);
      return Math.min(ms, backoff.max_delay?.ms ?? Number.POSITIVE_INFINITY);
    }
    case 'fixed':
      return backoff.delay.ms;
  }
}

/** undici hides the useful part ("ECONNREFUSED") in `cause`. */
function describeFetchError(error: Error): string {
  const cause = error.cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}

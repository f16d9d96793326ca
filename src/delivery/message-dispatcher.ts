/**
 * Sends the messages the outbox holds and records what became of each, in one store write per
 * pass.
 *
 * Glossary
 * - lane: the channel of a `message` outbox entry. A pass claims one or more lanes, so a server can
 *   run one loop per channel and a provider that hangs holds back only its own channel.
 * - attempt: one pass over a message's route (its channel's providers in failover order). Retries
 *   follow the channel's retry policy; a provider's `Retry-After` beats the backoff.
 * - give up: no more attempts on this channel (a permanent failure, or the last attempt failed).
 *   The message then falls back to the channel's `fallback` — by a command event in the customer's
 *   own log, so caps, consent and quiet hours are checked again by the processor, in order — or,
 *   with no fallback left, becomes a dead letter (or is dropped under `drop_after_failure`).
 *
 * Outcomes are written after the sends; a crash in between sends those messages again when the
 * lease runs out, with the same idempotency key, which is why every provider passes it on.
 */
import type {
  TokenBucket,
  AlertRecord,
  Clock,
  DeadLetterRecord,
  DeliveryOutcomes,
  IdSource,
  Instant,
  JourneyEventRecord,
  JsonObject,
  Logger,
  MessageRecord,
  MessageStatus,
  OutboxEntry,
  Store,
} from '../core/index.js';
import type { RetryPolicy } from '../config/index.js';
import type { ChannelRoute, RouteResult } from './channel-route.js';
import type { FailureCategory, OutgoingMessage } from './provider.js';
import { FEEDBACK_COMMAND } from './feedback.js';
import { decideRetry } from './retry-plan.js';

/** The command event a fallback writes into the customer's log. */
export const FALLBACK_COMMAND = 'waymark.message_fallback';

/** What a `message` outbox entry carries (written by the processor). */
export interface MessagePayload {
  message: MessageRecord;
  /** Resolved recipients; after a partial failure, only those still to be sent. */
  to?: string[];
  /** Channels this message already went through (fallback chain), oldest first. */
  tried?: string[];
  /** The ranked channels of a selection (`channel: auto`); replaces configured fallbacks. */
  route?: string[];
  template?: string | null;
  variant?: string | null;
}

/** Everything a dispatcher needs; passed in. */
export interface MessageDispatcherOptions {
  store: Store;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  /** Routes by channel name. */
  routes: ReadonlyMap<string, ChannelRoute>;
  /** Used for channels without a route of their own (development: a recording route). */
  defaultRoute?: ChannelRoute | undefined;
  /** The retry policy of a message (see `resolveRetryPolicy`). */
  retryPolicy(channel: string, priority: MessageRecord['priority']): RetryPolicy;
  /** The channel a channel falls back to, if any. */
  fallbackOf(channel: string): string | null;
  /**
   * A channel's global throughput caps (`rate_limits.global`, the channel's `rate_limit`) as token
   * buckets in the store, so they hold across every process. Default: none.
   */
  throughput?: ((channel: string) => readonly TokenBucket[]) | undefined;
  /** Adds what a channel's messages carry besides their content (tracking links in e-mail). */
  decorate?: ((message: OutgoingMessage) => OutgoingMessage) | undefined;
  /** Entries claimed per pass (default 200). */
  batchSize?: number;
  /** How long a claim holds before another pass may take the entry again (default 120 s). */
  leaseMs?: number;
}

/** Sends `message` outbox entries; see the module comment. */
export class MessageDispatcher {
  readonly #o: Required<
    Omit<MessageDispatcherOptions, 'defaultRoute' | 'decorate' | 'throughput'>
  > & {
    defaultRoute: ChannelRoute | undefined;
    decorate: (message: OutgoingMessage) => OutgoingMessage;
    throughput: (channel: string) => readonly TokenBucket[];
  };

  constructor(options: MessageDispatcherOptions) {
    this.#o = {
      batchSize: 200,
      leaseMs: 120_000,
      ...options,
      defaultRoute: options.defaultRoute,
      decorate: options.decorate ?? ((message) => message),
      throughput: options.throughput ?? (() => []),
    };
  }

  /**
   * One pass: claims due messages (of `lanes`, or of every lane), sends them concurrently (each
   * provider's bulkhead bounds its share) and records every outcome in one write. Resolves to how
   * many entries it handled.
   */
  async drain(now: Instant, lanes?: readonly string[]): Promise<number> {
    const entries = await this.#o.store.claimOutbox({
      now,
      limit: this.#o.batchSize,
      leaseMs: this.#o.leaseMs,
      ...(lanes === undefined ? { kinds: ['message'] as const } : { lanes }),
    });
    if (entries.length === 0) return 0;
    const { allowed, throttled } = await this.#throttle(entries, now);
    const results = await Promise.all(allowed.map((entry) => this.#attempt(entry)));
    // Outcomes are judged at the time the answers came back, not when the pass started.
    const decidedAt = this.#o.clock.now();
    const outcomes = new Outcomes(decidedAt, this.#o);
    allowed.forEach((entry, i) => {
      const result = results[i];
      if (result !== undefined) outcomes.apply(entry, result);
    });
    const finished = outcomes.finish();
    await this.#o.store.recordDeliveryOutcomes({
      ...finished,
      retries: [...finished.retries, ...throttled],
    });
    return entries.length;
  }

  /**
   * Takes a token per message from its channel's buckets. Messages beyond the grant wait, spread
   * over when the slowest bucket refills (one token's time apart), so the next passes find a steady
   * trickle instead of all of them at once; waiting is not an attempt.
   */
  async #throttle(
    entries: readonly OutboxEntry[],
    now: Instant,
  ): Promise<{ allowed: OutboxEntry[]; throttled: DeliveryOutcomes['retries'][number][] }> {
    const byChannel = new Map<string, OutboxEntry[]>();
    for (const entry of entries) {
      const channel = (entry.payload as unknown as MessagePayload).message.channel;
      const group = byChannel.get(channel) ?? [];
      group.push(entry);
      byChannel.set(channel, group);
    }
    const allowed: OutboxEntry[] = [];
    const throttled: DeliveryOutcomes['retries'][number][] = [];
    for (const [channel, group] of byChannel) {
      const buckets = this.#o.throughput(channel);
      if (buckets.length === 0) {
        allowed.push(...group);
        continue;
      }
      const granted = await this.#o.store.takeTokens(buckets, group.length, now);
      allowed.push(...group.slice(0, granted));
      const refillPerMs = Math.min(...buckets.map((b) => b.capacity / b.windowMs));
      const names = buckets.map((b) => b.name).join(', ');
      group.slice(granted).forEach((entry, i) => {
        throttled.push({
          seq: entry.seq ?? 0,
          // A cap of 0 never refills: look again in an hour (the config may have changed).
          at: refillPerMs > 0 ? now + Math.ceil((i + 1) / refillPerMs) : now + 3_600_000,
          error: `throttled by ${names}`,
          payload: null,
          attempted: false,
        });
      });
    }
    return { allowed, throttled };
  }

  async #attempt(entry: OutboxEntry): Promise<Attempt> {
    const payload = entry.payload as unknown as MessagePayload;
    const message = payload.message;
    const route = this.#o.routes.get(message.channel) ?? this.#o.defaultRoute;
    if (route === undefined) {
      return {
        payload,
        result: {
          status: 'not_configured',
          error: `channel '${message.channel}' is not configured`,
        },
      };
    }
    const to = payload.to ?? [];
    return { payload, result: await route.send(this.#o.decorate(outgoing(message, to))) };
  }
}

interface Attempt {
  payload: MessagePayload;
  result: RouteResult;
}

/**
 * A `message.*` journey event: the message's ids and channel, plus what happened. The processor
 * and the dispatcher write the same shape, so consumers read one.
 */
export function messageEvent(
  type: string,
  message: MessageRecord,
  at: Instant,
  extra: JsonObject,
): JourneyEventRecord {
  return {
    type,
    journeyId: message.journeyId ?? '',
    customerId: message.customerId,
    timestamp: at,
    data: {
      message_id: message.id,
      channel: message.channel,
      step_id: message.stepId,
      enrollment_id: message.enrollmentId,
      ...extra,
    },
  };
}

/** Builds the provider-facing message from the stored one. */
export function outgoing(message: MessageRecord, to: readonly string[]): OutgoingMessage {
  const content = message.content;
  const text = (key: string): string | undefined => {
    const value = content[key];
    return typeof value === 'string' ? value : undefined;
  };
  const data: Record<string, string> = {};
  const extra = content['data'];
  if (extra !== null && typeof extra === 'object' && !Array.isArray(extra)) {
    for (const [key, value] of Object.entries(extra)) {
      data[key] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  }
  const headers: Record<string, string> = {};
  const extraHeaders = content['headers'];
  if (extraHeaders !== null && typeof extraHeaders === 'object' && !Array.isArray(extraHeaders)) {
    for (const [key, value] of Object.entries(extraHeaders)) {
      if (typeof value === 'string') headers[key] = value;
    }
  }
  return {
    id: message.id,
    idempotencyKey: message.idempotencyKey,
    customerId: message.customerId,
    channel: message.channel,
    priority: message.priority,
    to,
    subject: text('subject'),
    title: text('title'),
    body: text('body') ?? text('text') ?? text('message') ?? '',
    html: text('html'),
    data,
    headers,
  };
}

/** Accumulates one pass's outcomes. */
class Outcomes {
  readonly #now: Instant;
  readonly #o: Pick<MessageDispatcherOptions, 'ids' | 'retryPolicy' | 'fallbackOf' | 'log'>;
  readonly #out: { -readonly [K in keyof DeliveryOutcomes]: DeliveryOutcomes[K][number][] } = {
    messages: [],
    journeyEvents: [],
    completed: [],
    retries: [],
    deadLetters: [],
    alerts: [],
    commands: [],
  };
  /** Dead letters per channel this pass, for one alert per channel rather than one per message. */
  readonly #deadByChannel = new Map<string, { count: number; alert: boolean; example: string }>();

  constructor(
    now: Instant,
    options: Pick<MessageDispatcherOptions, 'ids' | 'retryPolicy' | 'fallbackOf' | 'log'>,
  ) {
    this.#now = now;
    this.#o = options;
  }

  apply(entry: OutboxEntry, attempt: Attempt): void {
    const { payload, result } = attempt;
    const message = payload.message;
    const seq = entry.seq ?? 0;
    const attempts = entry.attempts + 1;
    switch (result.status) {
      case 'accepted': {
        const status: MessageStatus = result.delivered === true ? 'delivered' : 'sent';
        this.#update(message, status, attempts, null, result.provider, result.providerMessageId);
        this.#event('message.sent', message, {
          provider: result.provider,
          provider_message_id: result.providerMessageId ?? null,
          attempt: attempts,
          ...(result.delivered === true ? { delivered: true } : {}),
        });
        this.#out.completed.push(seq);
        return;
      }
      case 'partial': {
        const retryable = result.failed.filter((f) => f.category !== 'permanent');
        const permanent = result.failed.filter((f) => f.category === 'permanent');
        // Recipients that got it are never sent again: the message counts as sent from here.
        this.#update(message, 'sent', attempts, null, result.provider, result.providerMessageId);
        this.#event('message.sent', message, {
          provider: result.provider,
          provider_message_id: result.providerMessageId ?? null,
          attempt: attempts,
          partial: true,
          accepted: [...result.accepted],
          failed: result.failed.map((f) => ({ to: f.to, category: f.category, error: f.error })),
        });
        if (permanent.length > 0) {
          this.#event('message.recipients_rejected', message, {
            recipients: permanent.map((f) => ({
              to: f.to,
              reason: f.reason ?? 'rejected',
              error: f.error,
            })),
          });
        }
        if (retryable.length === 0) {
          this.#out.completed.push(seq);
          return;
        }
        const policy = this.#o.retryPolicy(message.channel, message.priority);
        const decision = decideRetry(policy, attempts, { category: 'transient' }, this.#now);
        const error = retryable.map((f) => `${f.to}: ${f.error}`).join('; ');
        if (decision.kind === 'retry') {
          const rest: MessagePayload = { ...payload, to: retryable.map((f) => f.to) };
          this.#out.retries.push({
            seq,
            at: decision.at,
            error,
            payload: rest as unknown as JsonObject,
            attempted: true,
          });
          this.#event('message.retry_scheduled', message, {
            attempt: attempts,
            category: 'partial',
            error,
            next_attempt_at: new Date(decision.at).toISOString(),
          });
          return;
        }
        // Some recipients had it; the rest are reported, not dead-lettered as a whole message.
        this.#event('message.failed', message, {
          category: 'partial',
          error,
          recipients: retryable.map((f) => f.to),
        });
        this.#out.completed.push(seq);
        return;
      }
      case 'unavailable': {
        // Nothing was tried: every circuit is open. Wait for the first probe, without using up an
        // attempt the provider never saw.
        this.#out.retries.push({
          seq,
          at: result.until,
          error: result.error,
          payload: null,
          attempted: false,
        });
        this.#update(message, 'queued', entry.attempts, result.error, null, null);
        return;
      }
      case 'not_configured':
        this.#giveUp(entry, payload, attempts, 'system', result.error, null, {
          disposal: 'dead_letter',
          alert: true,
          reason: 'permanent',
        });
        return;
      case 'failed': {
        const policy = this.#o.retryPolicy(message.channel, message.priority);
        const decision = decideRetry(
          policy,
          attempts,
          { category: result.category, retryAfterMs: result.retryAfterMs },
          this.#now,
        );
        const error = result.code === undefined ? result.error : `${result.code}: ${result.error}`;
        if (decision.kind === 'retry') {
          this.#out.retries.push({ seq, at: decision.at, error, payload: null, attempted: true });
          this.#update(message, 'queued', attempts, error, result.provider, null);
          this.#event('message.retry_scheduled', message, {
            attempt: attempts,
            provider: result.provider,
            category: result.category,
            error,
            next_attempt_at: new Date(decision.at).toISOString(),
          });
          return;
        }
        this.#giveUp(
          entry,
          payload,
          attempts,
          result.category,
          error,
          result.provider,
          decision,
          result.reason,
        );
        return;
      }
    }
  }

  #giveUp(
    entry: OutboxEntry,
    payload: MessagePayload,
    attempts: number,
    category: FailureCategory,
    error: string,
    provider: string | null,
    decision: {
      disposal: 'dead_letter' | 'drop';
      alert: boolean;
      reason: 'permanent' | 'attempts_exhausted';
    },
    reason?: string,
  ): void {
    const message = payload.message;
    const seq = entry.seq ?? 0;
    this.#out.completed.push(seq);
    this.#learnFromRefusal(message, reason);
    const tried = [...(payload.tried ?? []), message.channel];
    // A selected channel's route (channel: auto) replaces the configured fallback chain.
    const fallback =
      payload.route === undefined
        ? this.#o.fallbackOf(message.channel)
        : (payload.route.find((channel) => !tried.includes(channel)) ?? null);
    const details = {
      category,
      error,
      reason: reason ?? decision.reason,
      attempts,
      ...(provider === null ? {} : { provider }),
    };
    if (fallback !== null && !tried.includes(fallback)) {
      this.#update(message, 'failed', attempts, error, provider, null);
      this.#event('message.failed', message, { ...details, fallback: fallback });
      this.#out.commands.push({
        type: FALLBACK_COMMAND,
        customerId: message.customerId,
        occurredAt: this.#now,
        idempotencyKey: `fallback:${message.id}`,
        payload: {
          message: message as unknown as JsonObject,
          from_channel: message.channel,
          to_channel: fallback,
          tried,
          category,
          reason: reason ?? decision.reason,
          error,
          template: payload.template ?? null,
          variant: payload.variant ?? null,
          ...(payload.route === undefined ? {} : { route: payload.route }),
        },
      });
      if (decision.alert) this.#alertFailure(message.channel, error);
      return;
    }
    if (decision.disposal === 'drop') {
      this.#update(message, 'failed', attempts, error, provider, null);
      this.#event('message.dropped', message, details);
      if (decision.alert) this.#alertFailure(message.channel, error);
      return;
    }
    if (reason === 'unsubscribed') {
      // The spec's "permanent: skip, log": nobody can fix an opt-out by retrying, so it is no
      // dead letter; consent is withdrawn by the feedback above.
      this.#update(message, 'failed', attempts, error, provider, null);
      this.#event('message.failed', message, details);
      return;
    }
    const deadLetter: DeadLetterRecord = {
      id: this.#o.ids.next('dlq'),
      messageId: message.id,
      customerId: message.customerId,
      channel: message.channel,
      originalMessage: { ...(payload as unknown as JsonObject), tried },
      failureReason: error,
      category,
      attemptCount: attempts,
      firstAttemptAt: message.sentAt ?? this.#now,
      lastAttemptAt: this.#now,
      status: 'pending_review',
      createdAt: this.#now,
      updatedAt: this.#now,
      retryMessageId: null,
    };
    this.#out.deadLetters.push(deadLetter);
    this.#update(message, 'dead_lettered', attempts, error, provider, null);
    this.#event('message.dead_lettered', message, { ...details, dead_letter_id: deadLetter.id });
    this.#noteDeadLetter(message.channel, error, decision.alert);
  }

  /**
   * A provider that refuses a recipient as unsubscribed (Twilio 21610: they replied STOP) or as
   * invalid says something about the customer, not only this message: it goes to the customer's
   * log as feedback, so consent is withdrawn or the bounce cooldown starts, and the next message
   * does not hit the same wall. The fallback and the message status are this dispatcher's, so the
   * feedback is marked as already handled.
   */
  #learnFromRefusal(message: MessageRecord, reason: string | undefined): void {
    if (reason !== 'unsubscribed' && reason !== 'invalid_recipient') return;
    this.#out.commands.push({
      type: FEEDBACK_COMMAND,
      customerId: message.customerId,
      occurredAt: this.#now,
      idempotencyKey: `feedback:${message.id}:refused`,
      payload: {
        kind: reason === 'unsubscribed' ? 'unsubscribed' : 'bounced',
        message_id: message.id,
        message: message as unknown as JsonObject,
        reason: `refused by the provider: ${reason}`,
        handled: true,
      },
    });
  }

  #noteDeadLetter(channel: string, error: string, alert: boolean): void {
    const seen = this.#deadByChannel.get(channel) ?? { count: 0, alert: false, example: error };
    seen.count++;
    seen.alert ||= alert;
    this.#deadByChannel.set(channel, seen);
  }

  /** The retry policy's `alert_on_failure`: a person should know this message did not go. */
  #alertFailure(channel: string, error: string): void {
    this.#out.alerts.push(
      this.#alert('high', `delivery on channel '${channel}' failed: ${error}`, {
        type: 'delivery_failed',
        channel,
      }),
    );
  }

  #alert(severity: string, text: string, data: JsonObject): AlertRecord {
    return {
      id: this.#o.ids.next('alr'),
      customerId: null,
      journeyId: null,
      severity,
      message: text,
      assignee: null,
      status: 'open',
      createdAt: this.#now,
      data,
    };
  }

  #update(
    message: MessageRecord,
    status: MessageStatus,
    attempts: number,
    error: string | null,
    provider: string | null,
    providerMessageId: string | null | undefined,
  ): void {
    this.#out.messages.push({
      messageId: message.id,
      status,
      at: this.#now,
      error,
      attempts,
      provider,
      providerMessageId: providerMessageId ?? null,
    });
  }

  #event(type: string, message: MessageRecord, extra: JsonObject): void {
    this.#out.journeyEvents.push(messageEvent(type, message, this.#now, extra));
  }

  finish(): DeliveryOutcomes {
    for (const [channel, dead] of this.#deadByChannel) {
      // One alert per channel and pass: an outage dead-letters thousands, and one alert says it.
      this.#out.alerts.push(
        this.#alert(
          dead.alert ? 'high' : 'medium',
          `${dead.count} message${dead.count === 1 ? '' : 's'} dead-lettered on channel '${channel}': ${dead.example}`,
          { type: 'dead_letter', channel, count: dead.count },
        ),
      );
    }
    return this.#out;
  }
}

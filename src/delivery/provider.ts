/**
 * The contract between the delivery pipeline and a provider integration (SMTP, SendGrid, Twilio,
 * Firebase Cloud Messaging, signed webhooks, ...).
 *
 * Glossary
 * - provider: one configured account at one service, reached through its real protocol. A channel
 *   has one or more providers; the pipeline fails over between them by health.
 * - outgoing message: a stored message with its recipient resolved and its content rendered, in
 *   the shape every provider reads.
 * - failure category: the specification's four error categories. A provider maps its protocol's
 *   answers onto them; the pipeline decides what to do (retry, fall back, dead-letter) from the
 *   category alone, never from provider-specific codes.
 *
 * A provider never retries by itself and never throws for an answer the service gave: every answer
 * becomes a {@link ProviderResult}. It may throw only for a bug; the pipeline treats a throw as a
 * `system` failure.
 */
import type { z } from 'zod';

import { WaymarkError } from '../core/index.js';

/**
 * The specification's error categories.
 * - transient: a timeout, a rate limit (429), a 5xx that says "try again" — retry with backoff.
 * - permanent: an invalid address, an unsubscribed recipient, a rejected payload — never retried
 *   on this channel; the message falls back or fails.
 * - partial: some recipients (device tokens, addresses) failed, others were accepted — retry the
 *   failed recipients only.
 * - system: the service is down or unreachable, or our credentials are refused — queue, alert,
 *   and let the circuit breaker route around it.
 */
export type FailureCategory = 'transient' | 'permanent' | 'partial' | 'system';

/**
 * Why a permanent failure happened, when the provider says so in a way the engine acts on:
 * `invalid_recipient` and `unsubscribed` feed fatigue and consent state.
 */
export type PermanentReason = 'invalid_recipient' | 'unsubscribed' | 'rejected';

/** A message ready for a provider: recipient resolved, content rendered. */
export interface OutgoingMessage {
  /** Waymark's message id; providers pass it on as metadata so callbacks can name the message. */
  readonly id: string;
  /**
   * Stable across every attempt of this message: sent as `Idempotency-Key` (or the provider's own
   * equivalent) so a retry after a timeout is not delivered twice by a service that honours it.
   */
  readonly idempotencyKey: string;
  readonly customerId: string;
  /** Channel name from the config (`email`, `sms`, ...). */
  readonly channel: string;
  readonly priority: 'critical' | 'high' | 'normal' | 'low';
  /**
   * Recipients: e-mail addresses, E.164 phone numbers or device tokens. Usually one; push may have
   * several (one per device). A retry after a partial failure carries only the failed ones.
   */
  readonly to: readonly string[];
  /** E-mail subject. */
  readonly subject?: string | undefined;
  /** Push notification title. */
  readonly title?: string | undefined;
  /** Plain-text body (e-mail text part, SMS text, push body, webhook `body`). */
  readonly body: string;
  /** E-mail HTML part. */
  readonly html?: string | undefined;
  /** Extra string key/values: push `data`, e-mail custom arguments, webhook fields. */
  readonly data: Readonly<Record<string, string>>;
  /** Extra e-mail headers, e.g. `List-Unsubscribe`. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What a provider answered for one message. */
export type ProviderResult =
  | {
      readonly status: 'accepted';
      /** The provider's id for the message (SendGrid `X-Message-Id`, Twilio `sid`, FCM `name`). */
      readonly providerMessageId?: string | undefined;
      /** True when acceptance already means delivered (no later callback expected). */
      readonly delivered?: boolean | undefined;
    }
  | {
      readonly status: 'failed';
      readonly category: Exclude<FailureCategory, 'partial'>;
      /** One line for logs, the message's `error` column and dead letters. */
      readonly error: string;
      /** The provider's own code (`21211`, `UNREGISTERED`, `550`, `HTTP 429`, ...). */
      readonly code?: string | undefined;
      readonly reason?: PermanentReason | undefined;
      /** From `Retry-After` (or the protocol's equivalent), in ms from now. */
      readonly retryAfterMs?: number | undefined;
    }
  | {
      readonly status: 'partial';
      readonly providerMessageId?: string | undefined;
      /** Recipients that were accepted; never sent again. */
      readonly accepted: readonly string[];
      /** Recipients to retry, with why each failed. */
      readonly failed: readonly {
        readonly to: string;
        readonly category: Exclude<FailureCategory, 'partial'>;
        readonly error: string;
        readonly reason?: PermanentReason | undefined;
      }[];
    };

/** One provider integration. */
export interface DeliveryProvider {
  /** The provider's kind: `smtp`, `sendgrid`, `twilio`, `fcm`, `webhook`, ... */
  readonly kind: string;
  /**
   * Sends one message. `signal` aborts the request (the pipeline's timeout); an aborted request
   * resolves to a `transient` failure, it does not reject.
   */
  send(message: OutgoingMessage, signal: AbortSignal): Promise<ProviderResult>;
  /** Releases connections (SMTP pools). */
  close?(): Promise<void>;
}

/** Looks up secrets (`*_env` settings) by environment variable name. */
export type SecretSource = Readonly<Record<string, string | undefined>>;

/** What a provider may use besides its settings; passed in, never read from globals. */
export interface ProviderDependencies {
  /** Secrets by environment variable name (default `process.env` at the call site). */
  readonly secrets: SecretSource;
  /** "Now" in epoch ms: for `Retry-After` dates, token expiry, signature timestamps. */
  readonly now: () => number;
  /** The HTTP client (default the global `fetch`). */
  readonly fetch: typeof fetch;
}

/**
 * A provider kind: its settings schema (checked when the project loads, so a typo is a located
 * config error, not a failure at the first send) and how to build one from checked settings.
 */
export interface ProviderDefinition<Settings> {
  /** The name used in config: `provider: sendgrid`. */
  readonly kind: string;
  /** Channel types it can serve. */
  readonly channelTypes: readonly ('email' | 'sms' | 'push' | 'webhook' | 'in_app' | 'tasks')[];
  /** Validates and defaults the channel's (or provider entry's) `settings`. */
  readonly settings: z.ZodType<Settings>;
  /**
   * Builds the provider. Throws {@link ProviderConfigError} when a secret named by a `*_env`
   * setting is not set.
   */
  create(settings: Settings, deps: ProviderDependencies): DeliveryProvider;
}

/** A provider cannot be built from its settings (a missing secret, an unreadable key file). */
export class ProviderConfigError extends WaymarkError {
  constructor(kind: string, message: string) {
    super('PROVIDER_CONFIG_INVALID', `${kind}: ${message}`, { details: { provider: kind } });
  }
}

/** Reads the secret a `*_env` setting names, or throws {@link ProviderConfigError}. */
export function requireSecret(kind: string, secrets: SecretSource, variable: string): string {
  const value = secrets[variable];
  if (value === undefined || value === '') {
    throw new ProviderConfigError(kind, `environment variable ${variable} is not set`);
  }
  return value;
}

/**
 * Parses an HTTP `Retry-After` value (seconds, or an HTTP date relative to `now`) into ms from
 * now; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * The category of an HTTP status with no more specific answer in its body: 408/425/429 and 5xx
 * other than 501/503 are worth retrying; 503 and 501 say the service is not there; 401/403 are
 * our credentials (a person must act); other 4xx are this message's fault.
 */
export function categoryOfHttpStatus(status: number): Exclude<FailureCategory, 'partial'> {
  if (status === 408 || status === 425 || status === 429) return 'transient';
  if (status === 401 || status === 403) return 'system';
  if (status === 501 || status === 503) return 'system';
  if (status >= 500) return 'transient';
  return 'permanent';
}

/**
 * The category of a fetch that never got an answer: an abort (our timeout) or a reset connection
 * is transient; a refused connection or an unknown host means the service is not there.
 */
export function categoryOfNetworkError(error: unknown): Exclude<FailureCategory, 'partial'> {
  const code = networkErrorCode(error);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'system';
  return 'transient';
}

/** The errno-style code of a network error, looking through fetch's `cause`. */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  if (error instanceof Error && error.name === 'AbortError') return 'ABORT_ERR';
  if (error instanceof Error && error.name === 'TimeoutError') return 'ABORT_ERR';
  return undefined;
}

/**
 * The `webhook` channel: each message is POSTed as JSON to the customer's own endpoint, optionally
 * signed so the receiver can tell it came from Waymark and was not replayed.
 *
 * Request
 * - `POST <url>`, `Content-Type: application/json`, `Idempotency-Key: <message's key>` (the same
 *   on every attempt: receivers de-duplicate on it), the configured static `headers`;
 * - body `{message_id, customer_id, channel, priority, to, subject, title, body, html, data}`, with
 *   `null` for the optional texts a message lacks, so every body has the same fields;
 * - with `signing_secret_env`: `Waymark-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` (the
 *   same scheme as the journey event webhooks).
 *
 * Verifying a signature (receiver side)
 * 1. Split the header on `,` into `t=` and `v1=` parts (ignore unknown parts: a future `v2` may be
 *    added beside `v1` during a key rotation).
 * 2. Compute HMAC-SHA256 with the shared secret over the exact bytes `<t>.<raw request body>` —
 *    the raw body as received, before any JSON parsing or re-serialisation — as lowercase hex.
 * 3. Compare it with `v1` in constant time (`crypto.timingSafeEqual`); reject on mismatch.
 * 4. Reject when `t` is more than a few minutes (say 5) from your clock: a captured request
 *    cannot be replayed later. Attempts of one message are re-signed with a fresh `t`.
 *
 * Answers: 2xx → accepted (and delivered: there is no later callback); 410 Gone → permanent
 * `invalid_recipient` (the endpoint says it is gone for good); a redirect → system (the URL needs
 * fixing; redirects are not followed because a POST would be replayed as a GET); anything else by
 * {@link categoryOfHttpStatus}, with `Retry-After` when the endpoint sends one.
 */
import { createHmac } from 'node:crypto';

import { z } from 'zod';

import {
  categoryOfHttpStatus,
  parseRetryAfter,
  requireSecret,
  type DeliveryProvider,
  type OutgoingMessage,
  type ProviderDefinition,
  type ProviderDependencies,
  type ProviderResult,
} from '../provider.js';
import { networkFailure } from './shared.js';

/** Checked settings of a `webhook` provider. */
export interface WebhookProviderSettings {
  /** The endpoint, `http://` or `https://`. */
  readonly url: string;
  /** Environment variable holding the HMAC secret; unset means requests are not signed. */
  readonly signing_secret_env?: string | undefined;
  /** Static extra headers (e.g. an API key header the receiver expects). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** The signature header's name. */
export const WEBHOOK_SIGNATURE_HEADER = 'Waymark-Signature';

/** Headers the provider sets itself; a configured copy would be overwritten or break the request. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'idempotency-key',
  'transfer-encoding',
  WEBHOOK_SIGNATURE_HEADER.toLowerCase(),
]);
/** RFC 9110 `token`: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const webhookSettingsSchema: z.ZodType<WebhookProviderSettings> = z.strictObject({
  // `z.httpUrl()` would refuse `localhost` and IP addresses, which internal receivers use.
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  signing_secret_env: z.string().min(1).optional(),
  headers: z
    .record(
      z
        .string()
        .regex(HEADER_NAME, 'expected an HTTP header name')
        .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), {
          error: 'this header is set by Waymark',
        }),
      // A line break in a value would smuggle another header in.
      z.string().regex(/^[^\r\n\0]*$/, 'header values cannot contain line breaks'),
    )
    .optional(),
});

/** Signed JSON webhooks; settings as in {@link WebhookProviderSettings}. */
export const webhookProvider: ProviderDefinition<WebhookProviderSettings> = {
  kind: 'webhook',
  channelTypes: ['webhook'],
  settings: webhookSettingsSchema,
  create(settings, deps) {
    const secret =
      settings.signing_secret_env === undefined
        ? undefined
        : requireSecret('webhook', deps.secrets, settings.signing_secret_env);
    return new WebhookProvider(settings, secret, deps);
  },
};

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`; exported so receivers written in
 * TypeScript (and tests) compute exactly what the provider sends.
 */
export function webhookSignature(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

class WebhookProvider implements DeliveryProvider {
  readonly kind = 'webhook';
  readonly #url: string;
  readonly #secret: string | undefined;
  readonly #deps: ProviderDependencies;
  readonly #headers: Readonly<Record<string, string>>;

  constructor(
    settings: WebhookProviderSettings,
    secret: string | undefined,
    deps: ProviderDependencies,
  ) {
    this.#url = settings.url;
    this.#secret = secret;
    this.#deps = deps;
    this.#headers = { ...settings.headers, 'content-type': 'application/json' };
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<ProviderResult> {
    const body = JSON.stringify({
      message_id: message.id,
      customer_id: message.customerId,
      channel: message.channel,
      priority: message.priority,
      to: message.to,
      subject: message.subject ?? null,
      title: message.title ?? null,
      body: message.body,
      html: message.html ?? null,
      data: message.data,
    });
    const headers: Record<string, string> = {
      ...this.#headers,
      'idempotency-key': message.idempotencyKey,
    };
    if (this.#secret !== undefined) {
      const unixSeconds = Math.floor(this.#deps.now() / 1000);
      headers[WEBHOOK_SIGNATURE_HEADER] = webhookSignature(this.#secret, unixSeconds, body);
    }
    let response: Response;
    try {
      response = await this.#deps.fetch(this.#url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal,
      });
      // The body is not used; reading it to the end lets the connection be reused.
      await response.arrayBuffer();
    } catch (error) {
      return networkFailure('webhook', error, signal);
    }
    const status = response.status;
    if (status >= 200 && status < 300) return { status: 'accepted', delivered: true };
    const code = `HTTP ${status}`;
    const error = `webhook answered ${code}`;
    if (status === 410) {
      return { status: 'failed', category: 'permanent', reason: 'invalid_recipient', error, code };
    }
    if (status < 400) return { status: 'failed', category: 'system', error, code };
    const category = categoryOfHttpStatus(status);
    if (category === 'permanent') {
      return { status: 'failed', category, reason: 'rejected', error, code };
    }
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.#deps.now());
    return { status: 'failed', category, error, code, retryAfterMs };
  }
}

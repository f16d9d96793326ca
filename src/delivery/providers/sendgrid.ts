/**
 * The `sendgrid` e-mail provider: SendGrid's v3 Mail Send API (`POST /v3/mail/send`).
 *
 * One request per message, every address of `message.to` in one personalization (they see each
 * other, as with one SMTP transaction). Waymark's message and customer ids travel as the
 * personalization's `custom_args`, so SendGrid's event webhook names the message; `message.data`
 * becomes the top-level `custom_args`.
 *
 * SendGrid accepts or refuses a request as a whole, so there is no `partial` result. Mapping:
 * - 2xx: accepted, with the `X-Message-Id` header as the provider's message id;
 * - 400 naming a recipient field (`personalizations.0.to.0.email`): permanent, `invalid_recipient`;
 *   any other 400, and 413: permanent, `rejected`;
 * - 401/403: system (the key is wrong or lacks the `mail.send` scope);
 * - 429: transient, after `Retry-After` or else `X-RateLimit-Reset`;
 * - 5xx: by {@link categoryOfHttpStatus}; a network error by {@link categoryOfNetworkError};
 *   an abort: transient.
 */
import { z } from 'zod';

import {
  categoryOfHttpStatus,
  categoryOfNetworkError,
  networkErrorCode,
  parseRetryAfter,
  requireSecret,
  type DeliveryProvider,
  type OutgoingMessage,
  type ProviderDefinition,
  type ProviderDependencies,
  type ProviderResult,
} from '../provider.js';

const KIND = 'sendgrid';

/** `addr@host`; deliberately loose, SendGrid has the final say. */
const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

/**
 * A 400 about one of these fields is about an address the message was sent to, not about the
 * message: the engine records the recipient as invalid.
 */
const RECIPIENT_FIELD = /^personalizations\.\d+\.(?:to|cc|bcc)(?:\.|$)/;

/**
 * Headers SendGrid refuses in `headers` (it sets them itself). Passing one from a template would
 * turn a deliverable message into a permanent 400, so they are dropped.
 */
const RESERVED_HEADERS = new Set([
  'x-sg-id',
  'x-sg-eid',
  'received',
  'dkim-signature',
  'content-type',
  'content-transfer-encoding',
  'to',
  'from',
  'subject',
  'reply-to',
  'cc',
  'bcc',
]);

/** How much of SendGrid's error text is kept in the one-line `error` (characters). */
const MAX_ERROR_TEXT = 500;

const sendgridSettingsSchema = z
  .object({
    /** API origin; an EU-pinned account uses `https://api.eu.sendgrid.com`. */
    base_url: z.url({ protocol: /^https?$/ }).default('https://api.sendgrid.com'),
    /** Name of the environment variable holding the API key (needs the `mail.send` scope). */
    api_key_env: z.string().min(1).default('SENDGRID_API_KEY'),
    /** Sender address, a verified sender or on an authenticated domain. */
    from: z.string().trim().regex(ADDRESS, { error: 'expected an e-mail address' }),
    /** Sender display name. */
    from_name: z.string().min(1).optional(),
    /** SendGrid's sandbox mode: requests are validated and answered, nothing is delivered. */
    sandbox: z.boolean().default(false),
  })
  .strict();

/** Checked settings of a `sendgrid` provider (snake_case, as written in the config). */
export type SendgridSettings = z.output<typeof sendgridSettingsSchema>;

/**
 * The `sendgrid` provider kind. Settings: `base_url` (`https://api.sendgrid.com`), `api_key_env`
 * (`SENDGRID_API_KEY`), `from` (required), `from_name`, `sandbox` (false).
 */
export const sendgridProvider: ProviderDefinition<SendgridSettings> = {
  kind: KIND,
  channelTypes: ['email'],
  settings: sendgridSettingsSchema,
  create(settings, deps) {
    const apiKey = requireSecret(KIND, deps.secrets, settings.api_key_env);
    return new SendgridProvider(settings, apiKey, deps);
  },
};

/** One entry of SendGrid's documented error body `{"errors": [...]}`. */
interface SendgridError {
  message: string;
  field: string | undefined;
}

class SendgridProvider implements DeliveryProvider {
  readonly kind = KIND;
  readonly #settings: SendgridSettings;
  readonly #apiKey: string;
  readonly #deps: ProviderDependencies;
  readonly #url: string;

  constructor(settings: SendgridSettings, apiKey: string, deps: ProviderDependencies) {
    this.#settings = settings;
    this.#apiKey = apiKey;
    this.#deps = deps;
    // Kept as a prefix rather than resolved with `new URL`, so a base_url behind a path-routing
    // proxy (`https://proxy/sendgrid`) keeps its path.
    this.#url = `${settings.base_url.replace(/\/+$/, '')}/v3/mail/send`;
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<ProviderResult> {
    if (signal.aborted) return abortedResult();
    const body = JSON.stringify(this.#body(message));
    try {
      const response = await this.#deps.fetch(this.#url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': message.idempotencyKey,
        },
        body,
        // A redirect means a wrong base_url; following it would resend the key to another host.
        redirect: 'manual',
        signal,
      });
      return await this.#result(response);
    } catch (error) {
      // fetch rejects with the signal's reason, which may be any value; the signal is the truth.
      if (isAborted(signal) || networkErrorCode(error) === 'ABORT_ERR') return abortedResult();
      return {
        status: 'failed',
        category: categoryOfNetworkError(error),
        error: oneLine(`SendGrid unreachable: ${describeFetchError(error)}`),
        code: networkErrorCode(error),
      };
    }
  }

  /** The Mail Send body for one message. */
  #body(message: OutgoingMessage): Record<string, unknown> {
    const content: { type: string; value: string }[] = [];
    // SendGrid refuses an empty content value; an HTML-only message goes without the text part.
    if (message.body !== '' || message.html === undefined || message.html === '') {
      content.push({ type: 'text/plain', value: message.body });
    }
    if (message.html !== undefined && message.html !== '') {
      content.push({ type: 'text/html', value: message.html });
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers)) {
      if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
    }
    const from: { email: string; name?: string } = { email: this.#settings.from };
    if (this.#settings.from_name !== undefined) from.name = this.#settings.from_name;
    const body: Record<string, unknown> = {
      personalizations: [
        {
          to: message.to.map((email) => ({ email })),
          // Personalization custom_args win over top-level ones of the same name, so
          // `message.data` cannot overwrite the ids the event webhook is matched by.
          custom_args: { waymark_message_id: message.id, waymark_customer_id: message.customerId },
        },
      ],
      from,
      content,
    };
    // Left out when absent: SendGrid then answers with its own "subject is required" error.
    if (message.subject !== undefined) body['subject'] = message.subject;
    if (Object.keys(headers).length > 0) body['headers'] = headers;
    if (Object.keys(message.data).length > 0) body['custom_args'] = { ...message.data };
    if (this.#settings.sandbox) body['mail_settings'] = { sandbox_mode: { enable: true } };
    return body;
  }

  /** Maps SendGrid's answer onto a result. */
  async #result(response: Response): Promise<ProviderResult> {
    const status = response.status;
    if (status >= 200 && status < 300) {
      // The body (empty on 202) is not needed; cancelling frees the connection.
      await response.body?.cancel().catch(() => undefined);
      return {
        status: 'accepted',
        providerMessageId: response.headers.get('x-message-id') ?? undefined,
      };
    }
    const errors = parseErrors(await response.text());
    const described = errors.map((e) =>
      e.field === undefined ? e.message : `${e.field}: ${e.message}`,
    );
    const error = oneLine(
      `SendGrid HTTP ${status}${described.length > 0 ? `: ${described.join('; ')}` : ''}`,
    );
    const code = `HTTP ${status}`;
    if (status === 400) {
      const recipient = errors.some((e) => e.field !== undefined && RECIPIENT_FIELD.test(e.field));
      return {
        status: 'failed',
        category: 'permanent',
        reason: recipient ? 'invalid_recipient' : 'rejected',
        error,
        code,
      };
    }
    if (status === 429) {
      return {
        status: 'failed',
        category: 'transient',
        error,
        code,
        retryAfterMs: this.#retryAfterMs(response.headers),
      };
    }
    // A redirect or an unknown path means base_url points somewhere that is not SendGrid: no
    // message can get through, which is the circuit breaker's business, not this message's.
    if ((status >= 300 && status < 400) || status === 404 || status === 405) {
      return { status: 'failed', category: 'system', error, code };
    }
    const category = categoryOfHttpStatus(status);
    if (category === 'permanent') {
      return { status: 'failed', category, reason: 'rejected', error, code };
    }
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.#deps.now());
    return { status: 'failed', category, error, code, retryAfterMs };
  }

  /** `Retry-After` when sent; else SendGrid's `X-RateLimit-Reset` (epoch seconds). */
  #retryAfterMs(headers: Headers): number | undefined {
    const now = this.#deps.now();
    const retryAfter = parseRetryAfter(headers.get('retry-after'), now);
    if (retryAfter !== undefined) return retryAfter;
    const reset = headers.get('x-ratelimit-reset')?.trim();
    if (reset === undefined || !/^\d+$/.test(reset)) return undefined;
    return Math.max(0, Number(reset) * 1000 - now);
  }
}

/**
 * Read through a call because TypeScript keeps the narrowing of an earlier `signal.aborted` check
 * across an `await`, while the signal may have fired in between.
 */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function abortedResult(): ProviderResult {
  return {
    status: 'failed',
    category: 'transient',
    error: 'no answer from SendGrid before the deadline (aborted)',
    code: 'ABORT_ERR',
  };
}

/** SendGrid's `{"errors":[{"message","field","help"}]}`; empty when the body is something else. */
function parseErrors(text: string): SendgridError[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // A proxy's HTML error page or an empty body: the status alone decides.
    return text.trim() === '' ? [] : [{ message: text, field: undefined }];
  }
  const list = isRecord(parsed) ? parsed['errors'] : undefined;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown) => {
    if (!isRecord(entry) || typeof entry['message'] !== 'string') return [];
    const field = entry['field'];
    return [{ message: entry['message'], field: typeof field === 'string' ? field : undefined }];
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** undici hides the useful part ("ECONNREFUSED") in `cause`. */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}

/** One line of at most {@link MAX_ERROR_TEXT} characters, for the message's `error` column. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_ERROR_TEXT ? `${flat.slice(0, MAX_ERROR_TEXT - 3)}...` : flat;
}

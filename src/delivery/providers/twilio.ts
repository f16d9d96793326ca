/**
 * SMS through Twilio Programmable Messaging (`POST /2010-04-01/Accounts/{sid}/Messages.json`).
 *
 * Twilio takes one recipient per request, so a message with several numbers is several requests
 * whose answers are combined: all accepted, all failed alike, or `partial`.
 *
 * Twilio's answers are mapped onto the failure categories by its error `code` first (the HTTP
 * status alone cannot tell a bad number from a STOP'd one: both are 400), then by status:
 * - 21211, 21217, 21614 (invalid or non-mobile `To`) → permanent `invalid_recipient`;
 * - 21610 (the recipient replied STOP) → permanent `unsubscribed`, which feeds consent state;
 * - 21408 (the account may not send to the number's region) → permanent `rejected`: the number
 *   is fine, the account setting is not, so it must not be recorded as a bad number;
 * - 20003 (authentication) → system;
 * - 20429 or HTTP 429 → transient, with `Retry-After` when sent;
 * - 5xx → {@link categoryOfHttpStatus}; other 4xx → permanent `rejected`;
 * - no answer → {@link categoryOfNetworkError}; our abort → transient.
 */
import { z } from 'zod';

import {
  categoryOfHttpStatus,
  parseRetryAfter,
  requireSecret,
  type DeliveryProvider,
  type OutgoingMessage,
  type PermanentReason,
  type ProviderDefinition,
  type ProviderDependencies,
  type ProviderResult,
} from '../provider.js';
import {
  sendToEach,
  networkFailure,
  parseJsonBody,
  type Accepted,
  type Failure,
} from './shared.js';

/** Checked settings of a `twilio` provider (config keys are snake_case). */
export interface TwilioSettings {
  /** API origin; default `https://api.twilio.com` (tests point it at a loopback fake). */
  readonly base_url: string;
  /** The account SID, `AC` + 32 hex digits; also the basic-auth user name. */
  readonly account_sid: string;
  /** Environment variable holding the account's auth token; default `TWILIO_AUTH_TOKEN`. */
  readonly auth_token_env: string;
  /** Sender number in E.164 (`+14155550100`); exactly one of this and `messaging_service_sid`. */
  readonly from?: string | undefined;
  /** Messaging Service (`MG` + 32 hex) that picks the sender; exclusive with `from`. */
  readonly messaging_service_sid?: string | undefined;
  /**
   * Where Twilio posts delivery status updates; `waymark_message_id=<id>` is appended so the
   * callback names the message without a lookup by Twilio SID.
   */
  readonly status_callback_url?: string | undefined;
}

const E164 = /^\+[1-9]\d{1,14}$/;

/** `z.httpUrl()` would refuse `127.0.0.1` and `localhost`, which tests and relays use. */
const httpUrl = () => z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

const twilioSettingsSchema: z.ZodType<TwilioSettings> = z
  .strictObject({
    base_url: httpUrl().default('https://api.twilio.com'),
    account_sid: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'expected an account SID: AC followed by 32 hex digits'),
    auth_token_env: z.string().min(1).default('TWILIO_AUTH_TOKEN'),
    from: z.string().regex(E164, 'expected an E.164 phone number such as +14155550100').optional(),
    messaging_service_sid: z
      .string()
      .regex(
        /^MG[0-9a-fA-F]{32}$/,
        'expected a Messaging Service SID: MG followed by 32 hex digits',
      )
      .optional(),
    status_callback_url: httpUrl().optional(),
  })
  .refine((s) => (s.from === undefined) !== (s.messaging_service_sid === undefined), {
    error: 'set exactly one of from and messaging_service_sid',
  });

/** Twilio error codes whose meaning the engine acts on (see the module comment). */
const INVALID_RECIPIENT_CODES = new Set([21211, 21217, 21614]);
const UNSUBSCRIBED_CODE = 21610;
const AUTHENTICATION_CODE = 20003;
const TOO_MANY_REQUESTS_CODE = 20429;

/** Twilio's error body: `{code, message, more_info, status}`. */
const twilioErrorSchema = z.looseObject({
  code: z.number().optional(),
  message: z.string().optional(),
  more_info: z.string().optional(),
});

const twilioMessageSchema = z.looseObject({ sid: z.string() });

/** Programmable Messaging over HTTPS; settings as in {@link TwilioSettings}. */
export const twilioProvider: ProviderDefinition<TwilioSettings> = {
  kind: 'twilio',
  channelTypes: ['sms'],
  settings: twilioSettingsSchema,
  create(settings, deps) {
    const authToken = requireSecret('twilio', deps.secrets, settings.auth_token_env);
    return new TwilioProvider(settings, authToken, deps);
  },
};

class TwilioProvider implements DeliveryProvider {
  readonly kind = 'twilio';
  readonly #settings: TwilioSettings;
  readonly #deps: ProviderDependencies;
  readonly #endpoint: string;
  readonly #authorization: string;

  constructor(settings: TwilioSettings, authToken: string, deps: ProviderDependencies) {
    this.#settings = settings;
    this.#deps = deps;
    const base = settings.base_url.replace(/\/+$/, '');
    this.#endpoint = `${base}/2010-04-01/Accounts/${settings.account_sid}/Messages.json`;
    const credentials = `${settings.account_sid}:${authToken}`;
    this.#authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }

  send(message: OutgoingMessage, signal: AbortSignal): Promise<ProviderResult> {
    return sendToEach(message.to, (to) => this.#sendOne(message, to, signal));
  }

  async #sendOne(
    message: OutgoingMessage,
    to: string,
    signal: AbortSignal,
  ): Promise<Accepted | Failure> {
    const form = new URLSearchParams({ To: to, Body: message.body });
    if (this.#settings.from !== undefined) form.set('From', this.#settings.from);
    if (this.#settings.messaging_service_sid !== undefined) {
      form.set('MessagingServiceSid', this.#settings.messaging_service_sid);
    }
    if (this.#settings.status_callback_url !== undefined) {
      const callback = new URL(this.#settings.status_callback_url);
      callback.searchParams.set('waymark_message_id', message.id);
      form.set('StatusCallback', callback.toString());
    }
    const key = recipientKey(message, to);
    let response: Response;
    let text: string;
    try {
      response = await this.#deps.fetch(this.#endpoint, {
        method: 'POST',
        headers: {
          authorization: this.#authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          'i-twilio-idempotency-token': key,
          'idempotency-key': key,
        },
        body: form.toString(),
        // A redirect means base_url is wrong; following it would replay the POST without its body.
        redirect: 'manual',
        signal,
      });
      text = await response.text();
    } catch (error) {
      return networkFailure('Twilio', error, signal);
    }
    if (response.status >= 200 && response.status < 300) {
      const parsed = twilioMessageSchema.safeParse(parseJsonBody(text));
      return {
        status: 'accepted',
        providerMessageId: parsed.success ? parsed.data.sid : undefined,
      };
    }
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.#deps.now());
    return classifyError(response.status, parseJsonBody(text), retryAfterMs);
  }
}

/**
 * The idempotency token for one recipient: the message's key plus the number. Twilio scopes the
 * token to the account, so two numbers sharing one token would make the second look like a replay
 * of the first; and the number (not its position) keeps the token the same when a retry after a
 * partial failure carries only some of the numbers.
 */
function recipientKey(message: OutgoingMessage, to: string): string {
  return `${message.idempotencyKey}:${to}`;
}

/** Maps a non-2xx answer onto a failure (order explained in the module comment). */
function classifyError(status: number, body: unknown, retryAfterMs: number | undefined): Failure {
  const parsed = twilioErrorSchema.safeParse(body);
  const twilioCode = parsed.success ? parsed.data.code : undefined;
  const detail = parsed.success ? parsed.data.message : undefined;
  const code = twilioCode === undefined ? `HTTP ${status}` : String(twilioCode);
  const error = `Twilio ${code}${detail === undefined ? '' : `: ${detail}`}`;
  const permanent = (reason: PermanentReason): Failure => ({
    status: 'failed',
    category: 'permanent',
    reason,
    error,
    code,
  });
  if (twilioCode !== undefined && INVALID_RECIPIENT_CODES.has(twilioCode)) {
    return permanent('invalid_recipient');
  }
  if (twilioCode === UNSUBSCRIBED_CODE) return permanent('unsubscribed');
  if (twilioCode === AUTHENTICATION_CODE) {
    return { status: 'failed', category: 'system', error, code };
  }
  if (twilioCode === TOO_MANY_REQUESTS_CODE || status === 429) {
    return { status: 'failed', category: 'transient', error, code, retryAfterMs };
  }
  // Redirects are not followed: base_url needs fixing, which only a person can do.
  if (status < 400) return { status: 'failed', category: 'system', error, code };
  const category = categoryOfHttpStatus(status);
  if (category === 'permanent') return permanent('rejected');
  return { status: 'failed', category, error, code, retryAfterMs };
}

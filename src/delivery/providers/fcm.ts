/**
 * Push through Firebase Cloud Messaging's HTTP v1 API
 * (`POST /v1/projects/{project}/messages:send`).
 *
 * Authentication is a Google service account: the provider signs an RS256 JWT with the account's
 * private key and trades it at the token endpoint (OAuth2 JWT-bearer grant) for an access token,
 * which is cached until a minute before it expires and fetched again once when FCM answers 401
 * (a token revoked early). Concurrent sends share one token request.
 *
 * v1 has no multicast: each device token is its own request, and the answers are combined (all
 * accepted, all failed alike, or `partial`, so devices that got the message are not sent it again).
 *
 * FCM's answers are mapped by the `errorCode` of its `FcmError` detail, else the error `status`:
 * - UNREGISTERED, SENDER_ID_MISMATCH → permanent `invalid_recipient` (drop the token);
 * - INVALID_ARGUMENT → permanent: `invalid_recipient` only when FCM names the token
 *   (a `message.token` field violation, or its "registration token is not valid" message),
 *   else `rejected` — the same code covers a too-large payload or a reserved data key, and a
 *   valid device must not be forgotten for our payload's fault;
 * - QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL → transient (FCM asks for a retry with backoff), with
 *   `Retry-After` when sent;
 * - THIRD_PARTY_AUTH_ERROR (APNs or web push credentials), 401, 403 → system;
 * - a failed token request → system (our credentials or Google's token service; a person must
 *   look), except our own abort, which is transient like every abort.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { z } from 'zod';

import {
  categoryOfHttpStatus,
  parseRetryAfter,
  ProviderConfigError,
  requireSecret,
  type DeliveryProvider,
  type OutgoingMessage,
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

/** FCM platform overrides, copied unchanged into every message (FCM's own field names). */
export interface FcmPlatformSettings {
  /** FCM `AndroidConfig`, e.g. `{priority: "high", ttl: "3600s"}`. */
  readonly android?: Readonly<Record<string, unknown>> | undefined;
  /** FCM `ApnsConfig`: `{headers, payload}`. */
  readonly apns?: Readonly<Record<string, unknown>> | undefined;
  /** FCM `WebpushConfig`. */
  readonly webpush?: Readonly<Record<string, unknown>> | undefined;
}

/** Checked settings of an `fcm` (or `firebase`) provider. */
export interface FcmSettings {
  /** API origin; default `https://fcm.googleapis.com`. */
  readonly base_url: string;
  /** The Firebase project id (not its number). */
  readonly project_id: string;
  /**
   * Environment variable holding the service account's JSON key; default
   * `GOOGLE_APPLICATION_CREDENTIALS_JSON`. Not read when `credentials_file` is set.
   */
  readonly credentials_env?: string | undefined;
  /** Path of the service account's JSON key file, read once when the provider is built. */
  readonly credentials_file?: string | undefined;
  /** OAuth2 token endpoint; default the key's `token_uri`, else Google's. */
  readonly token_uri?: string | undefined;
  /** Platform overrides for every message. */
  readonly platforms?: FcmPlatformSettings | undefined;
}

/** Where the service account key is looked up when neither credentials setting is given. */
const DEFAULT_CREDENTIALS_ENV = 'GOOGLE_APPLICATION_CREDENTIALS_JSON';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** Google refuses assertions valid for more than an hour. */
const ASSERTION_LIFETIME_S = 3600;
/** A cached token is replaced this long before it expires, so none expires in flight. */
const TOKEN_REFRESH_MARGIN_MS = 60_000;

/** `z.httpUrl()` would refuse `127.0.0.1` and `localhost`, which tests and relays use. */
const httpUrl = () => z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

const platformConfig = z.record(z.string(), z.unknown());

const fcmSettingsSchema: z.ZodType<FcmSettings> = z
  .strictObject({
    base_url: httpUrl().default('https://fcm.googleapis.com'),
    project_id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.:-]*$/, 'expected a Firebase project id such as my-app-1234'),
    credentials_env: z.string().min(1).optional(),
    credentials_file: z.string().min(1).optional(),
    token_uri: httpUrl().optional(),
    platforms: z
      .strictObject({
        android: platformConfig.optional(),
        apns: platformConfig.optional(),
        webpush: platformConfig.optional(),
      })
      .optional(),
  })
  .refine((s) => s.credentials_env === undefined || s.credentials_file === undefined, {
    error: 'set at most one of credentials_env and credentials_file',
  });

/** The fields of a service account key file that the JWT-bearer grant needs. */
const serviceAccountSchema = z.looseObject({
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  private_key_id: z.string().optional(),
  token_uri: z.string().optional(),
});

const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
});

const fcmErrorSchema = z.looseObject({
  error: z.looseObject({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    details: z
      .array(
        z.looseObject({
          '@type': z.string().optional(),
          errorCode: z.string().optional(),
          fieldViolations: z.array(z.looseObject({ field: z.string().optional() })).optional(),
        }),
      )
      .optional(),
  }),
});

/** A service account, checked when the provider is built. */
interface ServiceAccount {
  readonly clientEmail: string;
  readonly privateKey: KeyObject;
  readonly keyId: string | undefined;
  readonly tokenUri: string;
}

function defineFcm(kind: string): ProviderDefinition<FcmSettings> {
  return {
    kind,
    channelTypes: ['push'],
    settings: fcmSettingsSchema,
    create(settings, deps) {
      return new FcmProvider(kind, settings, loadServiceAccount(kind, settings, deps), deps);
    },
  };
}

/** FCM HTTP v1 with a service account; settings as in {@link FcmSettings}. */
export const fcmProvider: ProviderDefinition<FcmSettings> = defineFcm('fcm');

/**
 * The same provider under the name the specification's examples use (`provider: "firebase"`).
 */
export const firebaseProvider: ProviderDefinition<FcmSettings> = defineFcm('firebase');

/** Reads and checks the key now, so a bad key is a start-up error rather than a failed send. */
function loadServiceAccount(
  kind: string,
  settings: FcmSettings,
  deps: ProviderDependencies,
): ServiceAccount {
  let text: string;
  let source: string;
  if (settings.credentials_file !== undefined) {
    source = settings.credentials_file;
    try {
      text = readFileSync(settings.credentials_file, 'utf8');
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new ProviderConfigError(kind, `cannot read credentials_file: ${why}`);
    }
  } else {
    const variable = settings.credentials_env ?? DEFAULT_CREDENTIALS_ENV;
    source = `environment variable ${variable}`;
    text = requireSecret(kind, deps.secrets, variable);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message may quote the key; say only where it came from.
    throw new ProviderConfigError(kind, `${source} is not a JSON service account key`);
  }
  const parsed = serviceAccountSchema.safeParse(json);
  if (!parsed.success) {
    throw new ProviderConfigError(
      kind,
      `${source} is not a service account key (needs client_email and private_key)`,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(parsed.data.private_key);
  } catch {
    throw new ProviderConfigError(kind, `${source}: private_key is not a PEM private key`);
  }
  return {
    clientEmail: parsed.data.client_email,
    privateKey,
    keyId: parsed.data.private_key_id,
    tokenUri: settings.token_uri ?? parsed.data.token_uri ?? DEFAULT_TOKEN_URI,
  };
}

class FcmProvider implements DeliveryProvider {
  readonly kind: string;
  readonly #settings: FcmSettings;
  readonly #deps: ProviderDependencies;
  readonly #endpoint: string;
  readonly #tokens: AccessTokens;

  constructor(
    kind: string,
    settings: FcmSettings,
    account: ServiceAccount,
    deps: ProviderDependencies,
  ) {
    this.kind = kind;
    this.#settings = settings;
    this.#deps = deps;
    const base = settings.base_url.replace(/\/+$/, '');
    this.#endpoint = `${base}/v1/projects/${settings.project_id}/messages:send`;
    this.#tokens = new AccessTokens(account, deps);
  }

  send(message: OutgoingMessage, signal: AbortSignal): Promise<ProviderResult> {
    return sendToEach(message.to, (to) => this.#sendOne(message, to, signal));
  }

  /** One device: fetch a token, send, and on a 401 fetch a new token and send once more. */
  async #sendOne(
    message: OutgoingMessage,
    deviceToken: string,
    signal: AbortSignal,
  ): Promise<Accepted | Failure> {
    const body = JSON.stringify({ message: this.#payload(message, deviceToken) });
    for (let attempt = 1; ; attempt++) {
      const token = await this.#tokens.get(signal);
      if (!token.ok) return token.failure;
      let response: Response;
      let text: string;
      try {
        response = await this.#deps.fetch(this.#endpoint, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token.accessToken}`,
            'content-type': 'application/json; charset=utf-8',
          },
          body,
          redirect: 'manual',
          signal,
        });
        text = await response.text();
      } catch (error) {
        return networkFailure('FCM', error, signal);
      }
      if (response.status >= 200 && response.status < 300) {
        const parsed = z.looseObject({ name: z.string() }).safeParse(parseJsonBody(text));
        return {
          status: 'accepted',
          providerMessageId: parsed.success ? parsed.data.name : undefined,
        };
      }
      if (response.status === 401 && attempt === 1) {
        this.#tokens.invalidate(token.accessToken);
        continue;
      }
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.#deps.now());
      return classifyError(response.status, parseJsonBody(text), retryAfterMs);
    }
  }

  #payload(message: OutgoingMessage, deviceToken: string): Record<string, unknown> {
    const notification: Record<string, string> = { body: message.body };
    if (message.title !== undefined) notification['title'] = message.title;
    const payload: Record<string, unknown> = {
      token: deviceToken,
      notification,
      // The app (and any FCM delivery receipt it sends back) can name the message by this id.
      data: { ...message.data, waymark_message_id: message.id },
    };
    const platforms = this.#settings.platforms;
    if (platforms?.android !== undefined) payload['android'] = platforms.android;
    if (platforms?.apns !== undefined) payload['apns'] = platforms.apns;
    if (platforms?.webpush !== undefined) payload['webpush'] = platforms.webpush;
    return payload;
  }
}

/** The outcome of asking for an access token. */
type TokenOutcome = { ok: true; accessToken: string } | { ok: false; failure: Failure };

/**
 * OAuth2 access tokens for one service account: cached until a minute before expiry, one request
 * at a time. A request in flight is shared by every send that needs a token meanwhile, bounded by
 * the signal of the send that started it (all sends share the pipeline's timeout).
 */
class AccessTokens {
  readonly #account: ServiceAccount;
  readonly #deps: ProviderDependencies;
  #cached: { accessToken: string; refreshAt: number } | undefined;
  #pending: Promise<TokenOutcome> | undefined;

  constructor(account: ServiceAccount, deps: ProviderDependencies) {
    this.#account = account;
    this.#deps = deps;
  }

  get(signal: AbortSignal): Promise<TokenOutcome> {
    const cached = this.#cached;
    if (cached !== undefined && this.#deps.now() < cached.refreshAt) {
      return Promise.resolve({ ok: true, accessToken: cached.accessToken });
    }
    this.#pending ??= this.#fetch(signal).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /**
   * Drops `accessToken` after FCM refused it. Only that token: when several sends see the same 401,
   * the first one's fresh token must not be thrown away by the others.
   */
  invalidate(accessToken: string): void {
    if (this.#cached?.accessToken === accessToken) this.#cached = undefined;
  }

  async #fetch(signal: AbortSignal): Promise<TokenOutcome> {
    const issuedAt = this.#deps.now();
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: this.#assertion(issuedAt),
    });
    let response: Response;
    let text: string;
    try {
      response = await this.#deps.fetch(this.#account.tokenUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        redirect: 'manual',
        signal,
      });
      text = await response.text();
    } catch (error) {
      const failure = networkFailure('FCM access token', error, signal);
      // Not our abort: the token service is unreachable, which no retry of this message fixes.
      return { ok: false, failure: signal.aborted ? failure : { ...failure, category: 'system' } };
    }
    const parsed = tokenResponseSchema.safeParse(parseJsonBody(text));
    if (response.status !== 200 || !parsed.success) {
      const oauth = z
        .looseObject({ error: z.string(), error_description: z.string().optional() })
        .safeParse(parseJsonBody(text));
      const code = oauth.success ? oauth.data.error : `HTTP ${response.status}`;
      const detail = oauth.success ? oauth.data.error_description : undefined;
      return {
        ok: false,
        failure: {
          status: 'failed',
          category: 'system',
          error: `FCM access token refused: ${code}${detail === undefined ? '' : ` (${detail})`}`,
          code,
        },
      };
    }
    this.#cached = {
      accessToken: parsed.data.access_token,
      refreshAt: issuedAt + parsed.data.expires_in * 1000 - TOKEN_REFRESH_MARGIN_MS,
    };
    return { ok: true, accessToken: parsed.data.access_token };
  }

  /** The signed JWT for the JWT-bearer grant (RFC 7523), as Google's token endpoint expects. */
  #assertion(now: number): string {
    const iat = Math.floor(now / 1000);
    const header: Record<string, string> = { alg: 'RS256', typ: 'JWT' };
    if (this.#account.keyId !== undefined) header['kid'] = this.#account.keyId;
    const claims = {
      iss: this.#account.clientEmail,
      scope: FCM_SCOPE,
      aud: this.#account.tokenUri,
      iat,
      exp: iat + ASSERTION_LIFETIME_S,
    };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(input), this.#account.privateKey);
    return `${input}.${signature.toString('base64url')}`;
  }
}

/** Maps a non-2xx answer of `messages:send` (order explained in the module comment). */
function classifyError(status: number, body: unknown, retryAfterMs: number | undefined): Failure {
  const parsed = fcmErrorSchema.safeParse(body);
  const error = parsed.success ? parsed.data.error : undefined;
  const details = error?.details ?? [];
  const fcmCode = details.find((d) => d['@type']?.endsWith('.fcm.v1.FcmError'))?.errorCode;
  const code = fcmCode ?? error?.status ?? `HTTP ${status}`;
  const text = `FCM ${code}${error?.message === undefined ? '' : `: ${error.message}`}`;
  const failed = (category: Failure['category'], reason?: Failure['reason']): Failure => ({
    status: 'failed',
    category,
    error: text,
    code,
    ...(reason === undefined ? {} : { reason }),
    ...(category === 'transient' && retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
  switch (code) {
    case 'UNREGISTERED':
    case 'SENDER_ID_MISMATCH':
      return failed('permanent', 'invalid_recipient');
    case 'INVALID_ARGUMENT': {
      const fields = details.flatMap((d) => d.fieldViolations ?? []).map((v) => v.field);
      const namesToken =
        fields.includes('message.token') || /registration token/i.test(error?.message ?? '');
      return failed('permanent', namesToken ? 'invalid_recipient' : 'rejected');
    }
    case 'QUOTA_EXCEEDED':
    case 'RESOURCE_EXHAUSTED':
    case 'UNAVAILABLE':
    case 'INTERNAL':
      return failed('transient');
    case 'THIRD_PARTY_AUTH_ERROR':
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return failed('system');
    default:
      break;
  }
  // Redirects are not followed: base_url needs fixing, which only a person can do.
  if (status < 400) return failed('system');
  const category = categoryOfHttpStatus(status);
  return failed(category, category === 'permanent' ? 'rejected' : undefined);
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/**
 * A loopback Firebase Cloud Messaging HTTP v1 API, with its OAuth2 token endpoint, for provider
 * tests.
 *
 * The token endpoint (`POST /token`) implements the JWT-bearer grant the way Google does: it
 * verifies the RS256 assertion against the service account's public key and checks `iss`, `aud`,
 * `scope`, `iat`/`exp` (at most an hour, not expired) before issuing an access token.
 * `POST /v1/projects/{project}/messages:send` takes only those tokens, validates the message like
 * FCM (one target, string data values, no reserved data keys) and answers with FCM's documented
 * error bodies. Accepted messages are recorded under their `data.waymark_message_id`, so a test
 * can count duplicates.
 *
 * Fault modes apply to the next `messages:send` requests (never to the token endpoint, whose
 * failures tests provoke with a wrong key instead), before any validation.
 */
import { randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message the fake accepted. */
export interface FcmFakeMessage {
  /** The `name` answered: `projects/{project}/messages/{id}`. */
  readonly name: string;
  readonly headers: IncomingMessage['headers'];
  /** The request's `message` object as sent. */
  readonly message: Record<string, unknown>;
}

/** The project and service account the fake trusts. */
export interface FcmFakeOptions {
  readonly projectId: string;
  readonly clientEmail: string;
  /** The service account's public key: assertions signed by anything else are refused. */
  readonly publicKey: KeyObject;
  /** "Now" in epoch ms, the same clock the provider under test is given. */
  readonly now: () => number;
  /** `expires_in` of issued access tokens; default 3600 s, like Google. */
  readonly tokenLifetimeSeconds?: number;
}

/** What the next `messages:send` gets instead of normal handling. */
type Fault =
  { kind: 'status'; status: number; errorCode: string; retryAfter?: string } | { kind: 'hang' };

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const FCM_ERROR = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';
/** Shape of a real registration token, loosely: long, URL-safe, with a colon. */
const DEVICE_TOKEN = /^[A-Za-z0-9_-]+:[A-Za-z0-9_-]{8,}$/;
/** Data keys FCM keeps for itself. */
const RESERVED_KEY = /^(from|notification|message_type|gcm(\..*)?|google(\..*)?)$/;

/** The FCM fake; start with {@link FcmFake.start}, stop with {@link FcmFake.close}. */
export class FcmFake {
  /** Accepted messages by Waymark message id. */
  readonly accepted = new Map<string, FcmFakeMessage[]>();
  /** Device tokens answered UNREGISTERED (the app was uninstalled); tests may add to it. */
  readonly unregistered = new Set<string>();
  /** Device tokens registered to another sender: answered SENDER_ID_MISMATCH. */
  readonly otherSender = new Set<string>();
  /** Every `messages:send` request received, answered or not. */
  sendRequests = 0;
  /** Access tokens issued so far. */
  tokensIssued = 0;
  /** Tokens refused by the token endpoint, with Google's `error` code. */
  readonly tokenRefusals: string[] = [];
  readonly #options: FcmFakeOptions;
  readonly #server: Server;
  readonly #faults: Fault[] = [];
  /** Issued access tokens and when each expires (epoch ms). */
  readonly #accessTokens = new Map<string, number>();
  #port = 0;

  private constructor(options: FcmFakeOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => {
      this.#handle(req, res);
    });
  }

  /** Starts listening on 127.0.0.1 on a free port. */
  static async start(options: FcmFakeOptions): Promise<FcmFake> {
    const fake = new FcmFake(options);
    await fake.up();
    return fake;
  }

  /** The `base_url` setting that reaches this fake. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The `token_uri` (setting or key field) that reaches this fake's token endpoint. */
  get tokenUri(): string {
    return `${this.baseUrl}/token`;
  }

  /** How many times the message was accepted (more than one is a duplicate delivery). */
  count(messageId: string): number {
    return this.accepted.get(messageId)?.length ?? 0;
  }

  /** Forgets every access token issued so far: the next send with one is answered 401. */
  revokeAccessTokens(): void {
    this.#accessTokens.clear();
  }

  /** The next `n` sends get 429 QUOTA_EXCEEDED, with `Retry-After` when given. */
  rateLimitNext(n: number, retryAfterSeconds?: number): void {
    for (let i = 0; i < n; i++) {
      this.#faults.push({
        kind: 'status',
        status: 429,
        errorCode: 'QUOTA_EXCEEDED',
        ...(retryAfterSeconds === undefined ? {} : { retryAfter: String(retryAfterSeconds) }),
      });
    }
  }

  /** The next `n` sends get 500 INTERNAL or 503 UNAVAILABLE. */
  failNext(n: number, status: 500 | 503): void {
    const errorCode = status === 500 ? 'INTERNAL' : 'UNAVAILABLE';
    for (let i = 0; i < n; i++) this.#faults.push({ kind: 'status', status, errorCode });
  }

  /** The next `n` valid sends are accepted and recorded but never answered (a lost response). */
  hangNext(n: number): void {
    for (let i = 0; i < n; i++) this.#faults.push({ kind: 'hang' });
  }

  /** Stops listening and drops every connection: clients see ECONNREFUSED until {@link up}. */
  async down(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }

  /** Listens again, on the same port as before (a free one the first time). */
  async up(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** Stops the fake for good, hanging requests included. */
  async close(): Promise<void> {
    if (this.#server.listening) await this.down();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    // No kept-alive sockets: after down() the next request is refused at once, instead of racing
    // the client's pool to notice that its idle socket was closed (an unrelated, transient error).
    res.setHeader('connection', 'close');
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const sendPath = `/v1/projects/${this.#options.projectId}/messages:send`;
      if (req.method === 'POST' && req.url === '/token') {
        this.#token(raw, res);
      } else if (req.method === 'POST' && req.url === sendPath) {
        this.#send(req, raw, res);
      } else {
        sendError(res, 404, 'NOT_FOUND', `${req.method ?? ''} ${req.url ?? ''} not found`);
      }
    });
  }

  /** The OAuth2 JWT-bearer grant. */
  #token(raw: string, res: ServerResponse): void {
    const form = new URLSearchParams(raw);
    const refuse = (error: string, description: string): void => {
      this.tokenRefusals.push(error);
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error, error_description: description }));
    };
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      refuse('unsupported_grant_type', 'Invalid grant_type');
      return;
    }
    const claims = this.#verifyAssertion(form.get('assertion') ?? '');
    if (typeof claims === 'string') {
      refuse('invalid_grant', claims);
      return;
    }
    const accessToken = `ya29.fake-${randomBytes(12).toString('hex')}`;
    const lifetime = this.#options.tokenLifetimeSeconds ?? 3600;
    this.#accessTokens.set(accessToken, this.#options.now() + lifetime * 1000);
    this.tokensIssued += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ access_token: accessToken, expires_in: lifetime, token_type: 'Bearer' }),
    );
  }

  /** The assertion's claims, or why Google would refuse it. */
  #verifyAssertion(assertion: string): Record<string, unknown> | string {
    const [header, payload, signature, ...rest] = assertion.split('.');
    if (
      header === undefined ||
      payload === undefined ||
      signature === undefined ||
      rest.length > 0
    ) {
      return 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe';
    }
    const head = decodeSegment(header);
    if (head?.['alg'] !== 'RS256') return 'Invalid JWT: unsupported algorithm';
    const signed = verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      this.#options.publicKey,
      Buffer.from(signature, 'base64url'),
    );
    if (!signed) return 'Invalid JWT Signature.';
    const claims = decodeSegment(payload);
    if (claims === undefined) return 'Invalid JWT: unreadable claims';
    const { iss, aud, scope, iat, exp } = claims;
    if (iss !== this.#options.clientEmail) return 'Invalid JWT: unknown issuer';
    if (aud !== this.tokenUri) return 'Invalid JWT: wrong audience';
    if (typeof scope !== 'string' || !scope.split(' ').includes(SCOPE)) {
      return 'Invalid JWT: scope does not include firebase.messaging';
    }
    const nowS = Math.floor(this.#options.now() / 1000);
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > 3600 || exp <= nowS) {
      return 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe';
    }
    return claims;
  }

  #send(req: IncomingMessage, raw: string, res: ServerResponse): void {
    this.sendRequests += 1;
    const fault = this.#faults.shift();
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      sendError(
        res,
        fault.status,
        statusName(fault.status),
        fault.errorCode,
        headers,
        fault.errorCode,
      );
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const expiresAt = bearer === undefined ? undefined : this.#accessTokens.get(bearer);
    if (expiresAt === undefined || expiresAt <= this.#options.now()) {
      sendError(
        res,
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token.',
      );
      return;
    }
    const parsed = parseJson(raw);
    const message = isRecord(parsed) ? parsed['message'] : undefined;
    if (!isRecord(message)) {
      sendBadRequest(res, 'message', 'Invalid JSON payload received.');
      return;
    }
    const targets = ['token', 'topic', 'condition'].filter((k) => message[k] !== undefined);
    if (targets.length !== 1) {
      sendBadRequest(res, 'message', 'Exactly one of token, topic or condition must be set.');
      return;
    }
    const data = message['data'];
    if (data !== undefined) {
      if (!isRecord(data)) {
        sendBadRequest(res, 'message.data', 'Invalid value at message.data');
        return;
      }
      const entries = Object.entries(data);
      for (const [index, [key, value]] of entries.entries()) {
        if (typeof value !== 'string') {
          const field = `message.data[${index}].value`;
          sendBadRequest(res, field, `Invalid value at '${field}' (TYPE_STRING), ${String(value)}`);
          return;
        }
        if (RESERVED_KEY.test(key)) {
          sendBadRequest(res, `message.data[${index}].key`, `Invalid data key: ${key}`);
          return;
        }
      }
    }
    const token = message['token'];
    if (typeof token !== 'string' || !DEVICE_TOKEN.test(token)) {
      sendError(
        res,
        400,
        'INVALID_ARGUMENT',
        'The registration token is not a valid FCM registration token',
        {},
        'INVALID_ARGUMENT',
      );
      return;
    }
    if (this.unregistered.has(token)) {
      sendError(res, 404, 'NOT_FOUND', 'Requested entity was not found.', {}, 'UNREGISTERED');
      return;
    }
    if (this.otherSender.has(token)) {
      sendError(res, 403, 'PERMISSION_DENIED', 'SenderId mismatch', {}, 'SENDER_ID_MISMATCH');
      return;
    }
    const name = `projects/${this.#options.projectId}/messages/0:${randomBytes(8).toString('hex')}`;
    const waymarkId =
      isRecord(data) && typeof data['waymark_message_id'] === 'string'
        ? data['waymark_message_id']
        : name;
    const list = this.accepted.get(waymarkId) ?? [];
    list.push({ name, headers: req.headers, message });
    this.accepted.set(waymarkId, list);
    if (fault?.kind === 'hang') return;
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify({ name }));
  }
}

function statusName(status: number): string {
  if (status === 429) return 'RESOURCE_EXHAUSTED';
  if (status === 503) return 'UNAVAILABLE';
  return 'INTERNAL';
}

/** Google's error body; with `fcmErrorCode`, the `FcmError` detail FCM adds. */
function sendError(
  res: ServerResponse,
  status: number,
  statusText: string,
  message: string,
  headers: Record<string, string> = {},
  fcmErrorCode?: string,
): void {
  const details =
    fcmErrorCode === undefined ? undefined : [{ '@type': FCM_ERROR, errorCode: fcmErrorCode }];
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify({ error: { code: status, message, status: statusText, details } }));
}

/** A payload problem: INVALID_ARGUMENT with a `BadRequest` naming the field, as FCM answers. */
function sendBadRequest(res: ServerResponse, field: string, description: string): void {
  res.writeHead(400, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(
    JSON.stringify({
      error: {
        code: 400,
        message: description,
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': BAD_REQUEST, fieldViolations: [{ field, description }] }],
      },
    }),
  );
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  const value = parseJson(Buffer.from(segment, 'base64url').toString('utf8'));
  return isRecord(value) ? value : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

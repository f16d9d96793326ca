/**
 * A loopback stand-in for SendGrid's v3 Mail Send API (`POST /v3/mail/send`), speaking its request
 * and response formats: bearer-key check (401), request validation with SendGrid's
 * `{"errors":[{"message","field","help"}]}` bodies (400, 413), `202 Accepted` with an
 * `X-Message-Id`, the rate-limit headers, and switchable faults (429, 500/503, a hang, a closed
 * port).
 *
 * Every accepted request is recorded with its `custom_args.waymark_message_id`, so a test counts
 * deliveries per Waymark message id and sees duplicates.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One accepted Mail Send request. */
export interface SendgridAccepted {
  /** The `X-Message-Id` the fake answered with. */
  readonly messageId: string;
  /** `personalizations[0].custom_args.waymark_message_id`, when present. */
  readonly waymarkId: string | undefined;
  /** The `Idempotency-Key` request header, when present. */
  readonly idempotencyKey: string | undefined;
  /** Every `to` address of every personalization. */
  readonly to: readonly string[];
  /** `mail_settings.sandbox_mode.enable`: SendGrid validated it but would not deliver it. */
  readonly sandbox: boolean;
  /** The parsed request body. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Request headers (lower-cased names, as node gives them). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Options of {@link SendgridFake.create}. */
export interface SendgridFakeOptions {
  /** The API key it accepts as `Authorization: Bearer <key>`. */
  readonly apiKey: string;
  /** Largest body accepted before 413 (SendGrid's is 30 MB). */
  readonly maxBodyBytes?: number | undefined;
}

/** One entry of SendGrid's error list. */
interface SendgridError {
  message: string;
  field: string | null;
  help: string | null;
}

const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';
/** What SendGrid accepts as an address, roughly: one `@`, no spaces, a dot in the domain. */
const VALID_ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

/** The fake API. Faults are methods a test switches between requests. */
export class SendgridFake {
  readonly #server: Server;
  readonly #apiKey: string;
  readonly #maxBodyBytes: number;
  #port = 0;
  #listening = false;
  readonly #accepted: SendgridAccepted[] = [];
  #requests = 0;
  #nextId = 1;
  #rateLimited = 0;
  #rateLimitHeaders: Record<string, string> = {};
  #serverErrors = 0;
  #serverErrorStatus = 500;
  #hang = false;
  /** Responses held by {@link hang}; ended on close so no socket dangles. */
  readonly #held = new Set<ServerResponse>();

  private constructor(options: SendgridFakeOptions) {
    this.#apiKey = options.apiKey;
    this.#maxBodyBytes = options.maxBodyBytes ?? 30 * 1024 * 1024;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        // A client that hung up mid-body: nothing to answer.
        if (!res.headersSent && !res.destroyed) {
          send(res, 500, { errors: [sgError(String(error), null)] });
        }
      });
    });
  }

  /** Starts a fake on 127.0.0.1 with a free port. */
  static async create(options: SendgridFakeOptions): Promise<SendgridFake> {
    const fake = new SendgridFake(options);
    await fake.start();
    return fake;
  }

  /** `http://127.0.0.1:<port>`, the provider's `base_url`. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Every accepted request, in order. */
  get accepted(): readonly SendgridAccepted[] {
    return this.#accepted;
  }

  /** Requests that reached the handler, whatever the answer. */
  get requestCount(): number {
    return this.#requests;
  }

  /** The Waymark id of every accepted request, duplicates included. */
  receivedIds(): string[] {
    return this.#accepted.flatMap((a) => (a.waymarkId === undefined ? [] : [a.waymarkId]));
  }

  /** How many times a request for this Waymark id was accepted (more than 1 is a duplicate). */
  countOf(waymarkId: string): number {
    return this.#accepted.filter((a) => a.waymarkId === waymarkId).length;
  }

  /** Accepted requests per Waymark message id. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const id of this.receivedIds()) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  /**
   * Answers the next `count` requests with 429 and SendGrid's `too many requests` body, plus
   * `Retry-After` and/or `X-RateLimit-Reset` (epoch seconds) when given.
   */
  rateLimit(
    count: number,
    options: { retryAfterSeconds?: number; resetEpochSeconds?: number } = {},
  ): void {
    this.#rateLimited = count;
    this.#rateLimitHeaders = { 'x-ratelimit-limit': '600', 'x-ratelimit-remaining': '0' };
    if (options.retryAfterSeconds !== undefined) {
      this.#rateLimitHeaders['retry-after'] = String(options.retryAfterSeconds);
    }
    if (options.resetEpochSeconds !== undefined) {
      this.#rateLimitHeaders['x-ratelimit-reset'] = String(options.resetEpochSeconds);
    }
  }

  /** Answers the next `count` requests with `status` (500 or 503). */
  failWith(status: 500 | 503, count: number): void {
    this.#serverErrorStatus = status;
    this.#serverErrors = count;
  }

  /** While on, requests are read but never answered, so the client runs into its timeout. */
  hang(on = true): void {
    this.#hang = on;
    if (!on) this.#releaseHeld();
  }

  /** Lifts every fault; recorded requests are kept. */
  reset(): void {
    this.#rateLimited = 0;
    this.#serverErrors = 0;
    this.hang(false);
  }

  /** Closes the port and drops every connection: the next request is refused. */
  async stop(): Promise<void> {
    this.#releaseHeld();
    if (!this.#listening) return;
    this.#listening = false;
    const closed = new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
    // Keep-alive sockets would otherwise keep serving the "closed" fake.
    this.#server.closeAllConnections();
    await closed;
  }

  /** Listens (again) on the same port; a free one the first time. */
  async start(): Promise<void> {
    if (this.#listening) return;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#listening = true;
  }

  /** Stops the fake for good. Idempotent. */
  async close(): Promise<void> {
    await this.stop();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#requests += 1;
    const raw = await readBody(req, this.#maxBodyBytes);
    if (req.url !== '/v3/mail/send') {
      send(res, 404, { errors: [sgError('resource not found', null)] });
      return;
    }
    if (req.method !== 'POST') {
      send(res, 405, { errors: [sgError('method not allowed', null)] });
      return;
    }
    if (this.#hang) {
      this.#held.add(res);
      return;
    }
    if (req.headers.authorization !== `Bearer ${this.#apiKey}`) {
      send(res, 401, {
        errors: [sgError('The provided authorization grant is invalid, expired, or revoked', null)],
      });
      return;
    }
    if (this.#rateLimited > 0) {
      this.#rateLimited -= 1;
      send(res, 429, { errors: [sgError('too many requests', null)] }, this.#rateLimitHeaders);
      return;
    }
    if (this.#serverErrors > 0) {
      this.#serverErrors -= 1;
      send(res, this.#serverErrorStatus, {
        errors: [sgError('Internal server error', null)],
      });
      return;
    }
    if (raw === undefined) {
      send(res, 413, { errors: [sgError('Payload Too Large', null)] });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      send(res, 400, { errors: [sgError('Bad Request', null)] });
      return;
    }
    const errors = validate(body);
    if (errors.length > 0 || !isRecord(body)) {
      send(res, 400, { errors });
      return;
    }
    const sandbox = isRecord(body['mail_settings'])
      ? isRecord(body['mail_settings']['sandbox_mode']) &&
        body['mail_settings']['sandbox_mode']['enable'] === true
      : false;
    if (sandbox) {
      // SendGrid's sandbox validates and answers 200 with no message id: nothing is sent.
      this.#record(req, body, '', true);
      send(res, 200, undefined);
      return;
    }
    const messageId = `fakeSG${String(this.#nextId++).padStart(16, '0')}`;
    this.#record(req, body, messageId, false);
    send(res, 202, undefined, { 'x-message-id': messageId });
  }

  #record(
    req: IncomingMessage,
    body: Record<string, unknown>,
    messageId: string,
    sandbox: boolean,
  ): void {
    const personalizations = Array.isArray(body['personalizations'])
      ? (body['personalizations'] as unknown[]).filter(isRecord)
      : [];
    const first = personalizations[0];
    const customArgs =
      first !== undefined && isRecord(first['custom_args']) ? first['custom_args'] : {};
    const waymarkId = customArgs['waymark_message_id'];
    const idempotencyKey = req.headers['idempotency-key'];
    this.#accepted.push({
      messageId,
      waymarkId: typeof waymarkId === 'string' ? waymarkId : undefined,
      idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : undefined,
      to: personalizations.flatMap((p) =>
        Array.isArray(p['to'])
          ? (p['to'] as unknown[]).flatMap((t) =>
              isRecord(t) && typeof t['email'] === 'string' ? [t['email']] : [],
            )
          : [],
      ),
      sandbox,
      body,
      headers: { ...req.headers },
    });
  }

  #releaseHeld(): void {
    for (const res of this.#held) res.destroy();
    this.#held.clear();
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sgError(message: string, field: string | null, anchor?: string): SendgridError {
  return { message, field, help: anchor === undefined ? null : `${HELP}#${anchor}` };
}

/** SendGrid's checks on a Mail Send body, in its wording; all problems at once, as it reports. */
function validate(body: unknown): SendgridError[] {
  const errors: SendgridError[] = [];
  if (!isRecord(body)) return [sgError('Bad Request', null)];
  const from = body['from'];
  if (!isRecord(from) || typeof from['email'] !== 'string') {
    errors.push(
      sgError(
        'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}.',
        'from.email',
        'message.from',
      ),
    );
  } else if (!VALID_ADDRESS.test(from['email'])) {
    errors.push(
      sgError('The from email does not contain a valid address.', 'from.email', 'message.from'),
    );
  }
  const personalizations = body['personalizations'];
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    errors.push(
      sgError(
        'The personalizations field is required and must have at least one personalization.',
        'personalizations',
        '-Personalizations-Errors',
      ),
    );
  } else {
    personalizations.forEach((p: unknown, i) => {
      const to = isRecord(p) ? p['to'] : undefined;
      if (!Array.isArray(to) || to.length === 0) {
        errors.push(
          sgError(
            'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
            `personalizations.${i}.to`,
            'message.personalizations.to',
          ),
        );
        return;
      }
      const seen = new Set<string>();
      to.forEach((entry: unknown, j) => {
        const email = isRecord(entry) ? entry['email'] : undefined;
        if (typeof email !== 'string' || !VALID_ADDRESS.test(email)) {
          errors.push(
            sgError(
              'Does not contain a valid address.',
              `personalizations.${i}.to.${j}.email`,
              'message.personalizations.to',
            ),
          );
          return;
        }
        if (seen.has(email.toLowerCase())) {
          errors.push(
            sgError(
              `Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [${email}] in the personalizations.${i}.to field.`,
              `personalizations.${i}`,
              'message.recipient.duplicates',
            ),
          );
        }
        seen.add(email.toLowerCase());
      });
    });
  }
  const subject = body['subject'];
  const everyPersonalizationHasSubject =
    Array.isArray(personalizations) &&
    personalizations.length > 0 &&
    personalizations.every((p: unknown) => isRecord(p) && typeof p['subject'] === 'string');
  if ((typeof subject !== 'string' || subject === '') && !everyPersonalizationHasSubject) {
    errors.push(
      sgError(
        'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
        'subject',
        'message.subject',
      ),
    );
  }
  const content = body['content'];
  if (!Array.isArray(content) || content.length === 0) {
    errors.push(
      sgError(
        'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
        'content',
        'message.content',
      ),
    );
  } else {
    content.forEach((block: unknown, i) => {
      const value = isRecord(block) ? block['value'] : undefined;
      if (typeof value !== 'string' || value === '') {
        errors.push(
          sgError(
            'The content value must be a string at least one character in length.',
            `content.${i}.value`,
            'message.content.value',
          ),
        );
      }
      const type = isRecord(block) ? block['type'] : undefined;
      if (i > 0 && type === 'text/plain') {
        errors.push(
          sgError(
            'The text/plain content type must be first, followed by the text/html content type, followed by any other content.',
            `content.${i}.type`,
            'message.content.type',
          ),
        );
      }
    });
  }
  const args = body['custom_args'];
  if (
    args !== undefined &&
    (!isRecord(args) || Object.values(args).some((v) => typeof v !== 'string'))
  ) {
    errors.push(
      sgError(
        'Invalid type. Expected: string, given: other.',
        'custom_args',
        'message.custom_args',
      ),
    );
  }
  return errors;
}

/** The body as text, or undefined when it is larger than `limit` (the rest is drained). */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) tooLarge = true;
    if (!tooLarge) chunks.push(buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks).toString('utf8');
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(text === '' ? {} : { 'content-type': 'application/json' }),
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/**
 * A loopback Twilio Programmable Messaging API for provider tests.
 *
 * It speaks the real wire format (form-encoded `POST /2010-04-01/Accounts/{sid}/Messages.json`,
 * basic auth, `201` with a Message resource, errors as `{code, message, more_info, status}`) and
 * checks requests the way Twilio does, so a provider that passes here builds requests Twilio
 * accepts. Every accepted message is recorded under the Waymark message id it carries (the
 * `waymark_message_id` of its `StatusCallback`, else its idempotency token), so a test can count
 * duplicates after retries.
 *
 * Fault modes apply to the next requests in arrival order, before any validation, the way an
 * overloaded edge answers before the application sees the request.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake received it. */
export interface TwilioFakeRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The decoded form fields. */
  readonly form: Readonly<Record<string, string>>;
}

/** A message the fake accepted (answered 201). */
export interface TwilioFakeMessage {
  readonly sid: string;
  readonly request: TwilioFakeRequest;
}

/** Who the fake is and which numbers it treats specially. */
export interface TwilioFakeOptions {
  readonly accountSid: string;
  readonly authToken: string;
  /** Numbers answered with 21211 (invalid `To`), though well-formed. */
  readonly invalidNumbers?: readonly string[];
  /** Numbers answered with 21614 (not a mobile number). */
  readonly landlineNumbers?: readonly string[];
  /** Numbers that replied STOP: answered with 21610. */
  readonly stoppedNumbers?: readonly string[];
}

/** What the next request gets instead of normal handling. */
type Fault =
  | { kind: 'status'; status: number; code: number; message: string; retryAfter?: string }
  | { kind: 'hang' };

/** How the fake answers a request it handles normally. */
type Answer =
  | { ok: true; resource: Record<string, unknown> }
  | { ok: false; status: number; code: number; message: string };

const E164 = /^\+[1-9]\d{1,14}$/;

/** The Twilio fake; start with {@link TwilioFake.start}, stop with {@link TwilioFake.close}. */
export class TwilioFake {
  /** Every request, answered or not, in arrival order. */
  readonly requests: TwilioFakeRequest[] = [];
  /** Accepted messages by Waymark message id. */
  readonly accepted = new Map<string, TwilioFakeMessage[]>();
  /** Numbers that replied STOP; tests may add to it. */
  readonly stoppedNumbers: Set<string>;
  readonly #options: TwilioFakeOptions;
  readonly #server: Server;
  readonly #faults: Fault[] = [];
  #port = 0;

  private constructor(options: TwilioFakeOptions) {
    this.#options = options;
    this.stoppedNumbers = new Set(options.stoppedNumbers);
    this.#server = createServer((req, res) => {
      this.#handle(req, res);
    });
  }

  /** Starts listening on 127.0.0.1 on a free port. */
  static async start(options: TwilioFakeOptions): Promise<TwilioFake> {
    const fake = new TwilioFake(options);
    await fake.up();
    return fake;
  }

  /** The `base_url` setting that reaches this fake. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** How many times the message was accepted (more than one is a duplicate delivery). */
  count(messageId: string): number {
    return this.accepted.get(messageId)?.length ?? 0;
  }

  /** The next `n` requests get Twilio's 429 (code 20429), with `Retry-After` when given. */
  rateLimitNext(n: number, retryAfterSeconds?: number): void {
    for (let i = 0; i < n; i++) {
      this.#faults.push({
        kind: 'status',
        status: 429,
        code: 20429,
        message: 'Too Many Requests',
        ...(retryAfterSeconds === undefined ? {} : { retryAfter: String(retryAfterSeconds) }),
      });
    }
  }

  /** The next `n` requests get a 500 or 503 with Twilio's error body. */
  failNext(n: number, status: 500 | 503): void {
    const message = status === 500 ? 'Internal Server Error' : 'Service Unavailable';
    for (let i = 0; i < n; i++) {
      this.#faults.push({ kind: 'status', status, code: 20500, message });
    }
  }

  /**
   * The next `n` requests are accepted and recorded but never answered: the response lost after
   * Twilio took the message, which is how duplicates arise when the sender retries.
   */
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
      const request: TwilioFakeRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        form: Object.fromEntries(new URLSearchParams(raw)),
      };
      this.requests.push(request);
      const fault = this.#faults.shift();
      if (fault?.kind === 'status') {
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
        sendError(res, fault.status, fault.code, fault.message, headers);
        return;
      }
      const answer = this.#answer(request, req.headers['content-type']);
      if (fault?.kind === 'hang') {
        // Only a request Twilio would have accepted can be lost after acceptance.
        if (!answer.ok) sendError(res, answer.status, answer.code, answer.message);
        return;
      }
      if (answer.ok) {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.resource));
      } else {
        sendError(res, answer.status, answer.code, answer.message);
      }
    });
  }

  /** Validates like Twilio and records the message when it would be accepted. */
  #answer(request: TwilioFakeRequest, contentType: string | undefined): Answer {
    const sid = this.#options.accountSid;
    const expectedPath = `/2010-04-01/Accounts/${sid}/Messages.json`;
    if (request.method !== 'POST' || request.path !== expectedPath) {
      return {
        ok: false,
        status: 404,
        code: 20404,
        message: 'The requested resource was not found',
      };
    }
    const expectedAuth = Buffer.from(`${sid}:${this.#options.authToken}`).toString('base64');
    if (request.headers.authorization !== `Basic ${expectedAuth}`) {
      return { ok: false, status: 401, code: 20003, message: 'Authenticate' };
    }
    if (contentType?.split(';')[0]?.trim() !== 'application/x-www-form-urlencoded') {
      return { ok: false, status: 400, code: 20001, message: 'Expected a form-encoded body' };
    }
    const { To: to, From: from, MessagingServiceSid: service, Body: body } = request.form;
    if (to === undefined || to === '') {
      return { ok: false, status: 400, code: 21604, message: "A 'To' phone number is required." };
    }
    if (from === undefined && service === undefined) {
      return { ok: false, status: 400, code: 21603, message: "A 'From' phone number is required." };
    }
    if (body === undefined || body === '') {
      return { ok: false, status: 400, code: 21602, message: 'Message body is required.' };
    }
    if (body.length > 1600) {
      return {
        ok: false,
        status: 400,
        code: 21617,
        message: 'The concatenated message body exceeds 1600.',
      };
    }
    if (!E164.test(to) || this.#options.invalidNumbers?.includes(to) === true) {
      return {
        ok: false,
        status: 400,
        code: 21211,
        message: `The 'To' number ${to} is not a valid phone number.`,
      };
    }
    if (this.#options.landlineNumbers?.includes(to) === true) {
      return {
        ok: false,
        status: 400,
        code: 21614,
        message: `'To' number ${to} is not a valid mobile number`,
      };
    }
    if (this.stoppedNumbers.has(to)) {
      return {
        ok: false,
        status: 400,
        code: 21610,
        message: 'Attempt to send to unsubscribed recipient',
      };
    }
    const messageSid = `SM${randomBytes(16).toString('hex')}`;
    const callback = request.form.StatusCallback;
    const waymarkId =
      (callback === undefined
        ? undefined
        : (new URL(callback).searchParams.get('waymark_message_id') ?? undefined)) ??
      headerValue(request.headers['i-twilio-idempotency-token']) ??
      messageSid;
    const list = this.accepted.get(waymarkId) ?? [];
    list.push({ sid: messageSid, request });
    this.accepted.set(waymarkId, list);
    return {
      ok: true,
      resource: {
        sid: messageSid,
        account_sid: sid,
        to,
        from: from ?? null,
        messaging_service_sid: service ?? null,
        body,
        status: service === undefined ? 'queued' : 'accepted',
        num_segments: String(Math.ceil(body.length / 160)),
        direction: 'outbound-api',
        api_version: '2010-04-01',
        error_code: null,
        error_message: null,
        uri: `/2010-04-01/Accounts/${sid}/Messages/${messageSid}.json`,
      },
    };
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sendError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(
    JSON.stringify({
      code,
      message,
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status,
    }),
  );
}

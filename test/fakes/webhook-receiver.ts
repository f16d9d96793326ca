/**
 * A loopback endpoint for the `webhook` provider that behaves like a careful receiver: it requires
 * JSON, verifies `Waymark-Signature` by the recipe in the provider's doc comment (HMAC over
 * `<t>.<raw body>`, constant-time compare, at most 5 minutes of clock skew) and answers 401 to a
 * bad one, and records each delivery it accepts under its `message_id`, so a test can count
 * duplicates.
 *
 * Fault modes apply to the next requests, before verification.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A delivery the receiver accepted. */
export interface WebhookDelivery {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The raw body, exactly as received. */
  readonly raw: string;
  readonly json: Record<string, unknown>;
}

/** How the receiver checks requests. */
export interface WebhookReceiverOptions {
  /** The shared secret; without it, requests are not expected to be signed. */
  readonly secret?: string;
  /** "Now" in epoch ms, the same clock the provider under test is given. */
  readonly now: () => number;
  /** Allowed distance between the signature's `t` and now; default 300 s. */
  readonly toleranceSeconds?: number;
}

/** What the next request gets instead of normal handling. */
type Fault = { kind: 'status'; status: number; headers: Record<string, string> } | { kind: 'hang' };

/** The receiver; start with {@link WebhookReceiver.start}, stop with {@link WebhookReceiver.close}. */
export class WebhookReceiver {
  /** Accepted deliveries by Waymark message id. */
  readonly accepted = new Map<string, WebhookDelivery[]>();
  /** Why requests were refused (401/400), in arrival order. */
  readonly refusals: string[] = [];
  /** Every request received, answered or not. */
  requestCount = 0;
  readonly #options: WebhookReceiverOptions;
  readonly #server: Server;
  readonly #faults: Fault[] = [];
  #port = 0;

  private constructor(options: WebhookReceiverOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => {
      this.#handle(req, res);
    });
  }

  /** Starts listening on 127.0.0.1 on a free port. */
  static async start(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(options);
    await receiver.up();
    return receiver;
  }

  /** The `url` setting that reaches this receiver. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/hooks/waymark`;
  }

  /** How many times the message was accepted (more than one is a duplicate delivery). */
  count(messageId: string): number {
    return this.accepted.get(messageId)?.length ?? 0;
  }

  /** The next `n` requests are answered `status` (e.g. 410, 400), with `headers`. */
  respondNext(n: number, status: number, headers: Record<string, string> = {}): void {
    for (let i = 0; i < n; i++) this.#faults.push({ kind: 'status', status, headers });
  }

  /** The next `n` requests get 429, with `Retry-After` when given. */
  rateLimitNext(n: number, retryAfterSeconds?: number): void {
    const headers: Record<string, string> = {};
    if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
    this.respondNext(n, 429, headers);
  }

  /** The next `n` requests get a 500 or 503. */
  failNext(n: number, status: 500 | 503): void {
    this.respondNext(n, status);
  }

  /** The next `n` valid requests are accepted and recorded but never answered (a lost response). */
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

  /** Stops the receiver for good, hanging requests included. */
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
      this.requestCount += 1;
      const raw = Buffer.concat(chunks).toString('utf8');
      const fault = this.#faults.shift();
      if (fault?.kind === 'status') {
        res.writeHead(fault.status, fault.headers).end();
        return;
      }
      const refusal = this.#check(req, raw);
      if (refusal !== undefined) {
        this.refusals.push(refusal.reason);
        res.writeHead(refusal.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: refusal.reason }));
        return;
      }
      const json = JSON.parse(raw) as Record<string, unknown>;
      const id = typeof json['message_id'] === 'string' ? json['message_id'] : '';
      const list = this.accepted.get(id) ?? [];
      list.push({ path: req.url ?? '', headers: req.headers, raw, json });
      this.accepted.set(id, list);
      if (fault?.kind === 'hang') return;
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  }

  /** Why the request is refused, if it is. */
  #check(req: IncomingMessage, raw: string): { status: number; reason: string } | undefined {
    if (req.method !== 'POST') return { status: 405, reason: 'POST only' };
    if (req.headers['content-type']?.split(';')[0]?.trim() !== 'application/json') {
      return { status: 415, reason: 'expected application/json' };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return { status: 400, reason: 'body is not JSON' };
    }
    if (typeof parsed !== 'object' || parsed === null || !('message_id' in parsed)) {
      return { status: 400, reason: 'no message_id' };
    }
    const secret = this.#options.secret;
    if (secret === undefined) return undefined;
    return this.#verify(secret, req.headers['waymark-signature'], raw);
  }

  /** The receiver-side recipe from the provider's doc comment. */
  #verify(
    secret: string,
    header: string | string[] | undefined,
    raw: string,
  ): { status: number; reason: string } | undefined {
    if (typeof header !== 'string') return { status: 401, reason: 'no signature' };
    const parts = new Map(
      header.split(',').map((part) => {
        const at = part.indexOf('=');
        return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
      }),
    );
    const t = parts.get('t');
    const v1 = parts.get('v1');
    if (t === undefined || v1 === undefined || !/^\d+$/.test(t)) {
      return { status: 401, reason: 'malformed signature' };
    }
    const expected = createHmac('sha256', secret).update(`${t}.${raw}`).digest();
    const given = Buffer.from(v1, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { status: 401, reason: 'signature mismatch' };
    }
    const skew = Math.abs(Math.floor(this.#options.now() / 1000) - Number(t));
    if (skew > (this.#options.toleranceSeconds ?? 300)) {
      return { status: 401, reason: 'signature too old' };
    }
    return undefined;
  }
}

/**
 * A real SMTP server on 127.0.0.1 for testing the SMTP provider over a socket, with switchable
 * faults that answer the way mail servers do (550 for an unknown mailbox, 450 for a mailbox that
 * is busy, 451 for a temporary local problem, 535 for refused credentials, silence after DATA, a closed port).
 *
 * Every message the server accepted (answered 250 after DATA) is recorded with its raw source, its
 * headers and its envelope, so a test can check each field and count deliveries per Waymark message
 * id: a duplicate is two records with the same `X-Waymark-Message-Id`.
 */
import type { Socket } from 'node:net';

import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

/** One message the fake accepted. */
export interface ReceivedMail {
  /** Envelope sender (MAIL FROM). */
  readonly from: string;
  /** Envelope recipients that were accepted (RCPT TO answered 250). */
  readonly to: readonly string[];
  /** The user the session authenticated as, when it did. */
  readonly user: string | undefined;
  /** Header fields by lower-cased name; repeated fields keep their last value. */
  readonly headers: ReadonlyMap<string, string>;
  /** `X-Waymark-Message-Id`, when present. */
  readonly waymarkId: string | undefined;
  /** The decoded `text/plain` part, when there is one. */
  readonly text: string | undefined;
  /** The decoded `text/html` part, when there is one. */
  readonly html: string | undefined;
  /** The message exactly as transmitted after DATA (dot-unstuffed). */
  readonly raw: string;
}

/** Options of {@link SmtpFake.create}. */
export interface SmtpFakeOptions {
  /** Credentials the server accepts; with them, unauthenticated senders get 530. */
  readonly auth?: { readonly user: string; readonly pass: string } | undefined;
}

/**
 * The fake server. Faults are plain fields and methods so a test switches them between sends.
 */
export class SmtpFake {
  #server: SMTPServer | undefined;
  #port = 0;
  readonly #sockets = new Set<Socket>();
  readonly #received: ReceivedMail[] = [];
  /** RCPT TO for these addresses (lower-cased) is answered `550 5.1.1`. */
  readonly #rejected = new Set<string>();
  /** RCPT TO for these addresses (lower-cased) is answered `450 4.2.1`. */
  readonly #deferred = new Set<string>();
  #tempFailures = 0;
  #hang = false;
  #auth: { user: string; pass: string } | undefined;
  /** Data callbacks held by {@link hang}: answered 421 when the hang ends, dropped by a stop. */
  readonly #held = new Set<(err?: Error | null) => void>();

  private constructor() {}

  /** Starts a fake on 127.0.0.1 with a free port. */
  static async create(options: SmtpFakeOptions = {}): Promise<SmtpFake> {
    const fake = new SmtpFake();
    fake.#auth = options.auth === undefined ? undefined : { ...options.auth };
    await fake.#listen(0);
    return fake;
  }

  /** The port it listens on; kept across {@link stop} and {@link start}. */
  get port(): number {
    return this.#port;
  }

  /** Every accepted message, in order of acceptance. */
  get received(): readonly ReceivedMail[] {
    return this.#received;
  }

  /** The `X-Waymark-Message-Id` of every accepted message, duplicates included. */
  receivedIds(): string[] {
    return this.#received.flatMap((mail) => (mail.waymarkId === undefined ? [] : [mail.waymarkId]));
  }

  /** How many times a message with this Waymark id was accepted (more than 1 is a duplicate). */
  countOf(waymarkId: string): number {
    return this.#received.filter((mail) => mail.waymarkId === waymarkId).length;
  }

  /** Deliveries per Waymark message id. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const id of this.receivedIds()) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  /** Messages whose end of DATA is being held unanswered by {@link hang}. */
  get pendingCount(): number {
    return this.#held.size;
  }

  /** Answers RCPT TO for these addresses with `550 5.1.1 mailbox unavailable`. */
  rejectRecipients(...addresses: string[]): void {
    for (const address of addresses) this.#rejected.add(address.toLowerCase());
  }

  /** Answers RCPT TO for these addresses with `450 4.2.1 mailbox temporarily unavailable`. */
  deferRecipients(...addresses: string[]): void {
    for (const address of addresses) this.#deferred.add(address.toLowerCase());
  }

  /** Answers the end of DATA of the next `count` messages with `451 4.3.0`. */
  failTemporarily(count: number): void {
    this.#tempFailures = count;
  }

  /** Requires these credentials from now on (wrong ones get 535); undefined lifts the requirement. */
  requireAuth(auth: { user: string; pass: string } | undefined): void {
    this.#auth = auth === undefined ? undefined : { ...auth };
  }

  /** While on, the end of DATA is never answered, so the client runs into its timeout. */
  hang(on = true): void {
    this.#hang = on;
    if (!on) this.#releaseHeld();
  }

  /** Lifts every fault and the auth requirement (a test's clean slate); received mail is kept. */
  reset(): void {
    this.#rejected.clear();
    this.#deferred.clear();
    this.#tempFailures = 0;
    this.#auth = undefined;
    this.hang(false);
  }

  /** Closes the port and drops every connection: the next connect is refused. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    // Dropped, not answered: a client mid-transaction sees the connection go, as in a crash.
    this.#held.clear();
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }

  /** Listens again on the same port after {@link stop}. */
  async start(): Promise<void> {
    if (this.#server !== undefined) return;
    await this.#listen(this.#port);
  }

  /** Stops the server for good. Idempotent. */
  async close(): Promise<void> {
    await this.stop();
  }

  async #listen(port: number): Promise<void> {
    const server = new SMTPServer({
      // Auth is checked per MAIL FROM instead, so that `requireAuth` can switch at run time.
      authOptional: true,
      allowInsecureAuth: true,
      // No certificate of our own: STARTTLS stays off so tests speak plain SMTP on loopback.
      disabledCommands: ['STARTTLS'],
      logger: false,
      // Connections are destroyed by `stop`; the server need not wait for them.
      closeTimeout: 100,
      onAuth: (auth, _session, callback) => {
        const expected = this.#auth;
        if (
          expected === undefined ||
          (auth.username === expected.user && auth.password === expected.pass)
        ) {
          callback(null, { user: auth.username ?? '' });
          return;
        }
        callback(withCode('5.7.8 Authentication credentials invalid', 535));
      },
      onMailFrom: (_address, session, callback) => {
        if (this.#auth !== undefined && session.user === undefined) {
          callback(withCode('5.7.0 Authentication required', 530));
          return;
        }
        callback();
      },
      onRcptTo: (address, _session, callback) => {
        if (this.#rejected.has(address.address.toLowerCase())) {
          callback(withCode(`5.1.1 <${address.address}>: mailbox unavailable`, 550));
          return;
        }
        if (this.#deferred.has(address.address.toLowerCase())) {
          callback(withCode(`4.2.1 <${address.address}>: mailbox temporarily unavailable`, 450));
          return;
        }
        callback();
      },
      onData: (stream, session, callback) => {
        this.#onData(stream, session, callback);
      },
    });
    server.on('error', () => {
      // A client dropping its socket mid-command is routine in fault tests, not a test failure.
    });
    server.server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    const address = server.server.address();
    if (address === null || typeof address === 'string') throw new Error('smtp fake: no port');
    this.#port = address.port;
    this.#server = server;
  }

  #onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      if (this.#hang) {
        this.#held.add(callback);
        return;
      }
      if (this.#tempFailures > 0) {
        this.#tempFailures -= 1;
        callback(withCode('4.3.0 Temporary local problem, try again later', 451));
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const mailFrom = session.envelope.mailFrom;
      this.#received.push({
        from: mailFrom === false ? '' : mailFrom.address,
        to: session.envelope.rcptTo.map((a) => a.address),
        user: typeof session.user === 'string' ? session.user : undefined,
        ...parseMessage(raw),
        raw,
      });
      callback();
    });
  }

  #releaseHeld(): void {
    for (const callback of this.#held) {
      callback(withCode('4.4.2 Connection dropped', 421));
    }
    this.#held.clear();
  }
}

/** An error whose `responseCode` smtp-server puts on the reply line. */
function withCode(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

/** Headers, Waymark id and the text/html parts of a raw message; enough MIME for tests. */
function parseMessage(raw: string): Pick<ReceivedMail, 'headers' | 'waymarkId' | 'text' | 'html'> {
  const { headers, body } = splitEntity(raw);
  const parts: { type: string; content: string }[] = [];
  // The CRLF before the terminating dot belongs to the protocol, not to the body.
  collectParts(headers, body.replace(/\r\n$/, ''), parts);
  return {
    headers,
    waymarkId: headers.get('x-waymark-message-id'),
    text: parts.find((p) => p.type === 'text/plain')?.content,
    html: parts.find((p) => p.type === 'text/html')?.content,
  };
}

function splitEntity(raw: string): { headers: Map<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const body = end === -1 ? '' : raw.slice(end + 4);
  const headers = new Map<string, string>();
  // Folded lines (starting with white space) continue the previous field.
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function collectParts(
  headers: ReadonlyMap<string, string>,
  body: string,
  out: { type: string; content: string }[],
): void {
  const contentType = headers.get('content-type') ?? 'text/plain';
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (boundary === undefined) return;
    const sections = body.split(`--${boundary}`).slice(1);
    for (const section of sections) {
      if (section.startsWith('--')) break;
      const part = splitEntity(section.replace(/^\r\n/, ''));
      collectParts(part.headers, part.body.replace(/\r\n$/, ''), out);
    }
    return;
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  out.push({ type, content: decodeBody(body, encoding) });
}

function decodeBody(body: string, encoding: string): string {
  if (encoding === 'base64')
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/**
 * The `smtp` e-mail provider: any SMTP relay (Postfix, Amazon SES SMTP, Mailgun SMTP, an Exchange
 * connector, ...) through nodemailer, with pooled connections.
 *
 * Each message is one SMTP transaction: every address of `message.to` is an envelope recipient,
 * so a relay that refuses some of them (550 at RCPT TO) and accepts the rest gives a `partial`
 * result naming the refused ones, and a retry carries only those.
 *
 * Mapping of the relay's answers (see {@link classifySmtpError}):
 * - 550/551/553 at RCPT TO (or an enhanced status 5.1.x): permanent, `invalid_recipient`;
 * - any other 5xx: permanent, `rejected` (policy, content, our sender address);
 * - 4xx (421, 450, 451, 452, ...): transient;
 * - 530/534/535/538 and other authentication or TLS failures: system (our credentials or our
 *   configuration; a person must act);
 * - a refused connection or an unknown host: system; a timeout, a reset or an abort: transient.
 */
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { z } from 'zod';

import {
  ProviderConfigError,
  requireSecret,
  type DeliveryProvider,
  type FailureCategory,
  type OutgoingMessage,
  type PermanentReason,
  type ProviderDefinition,
  type ProviderResult,
} from '../provider.js';

const KIND = 'smtp';

/**
 * Time to establish the TCP (or TLS) connection (10 s). The pipeline's own timeout (the abort
 * signal) usually fires first; these bound how long a connection abandoned by an abort stays busy.
 */
const CONNECTION_TIMEOUT_MS = 10_000;
/** Time for the server's greeting after connecting (10 s). */
const GREETING_TIMEOUT_MS = 10_000;
/**
 * Inactivity on an open connection (60 s): a relay that stops answering mid-transaction frees its
 * pooled connection after this, even when nobody waits for the answer any more.
 */
const SOCKET_TIMEOUT_MS = 60_000;

/** `addr@host` without display name; deliberately loose, the relay has the final say. */
const BARE_ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;
/** `Display Name <addr@host>`, the name optionally quoted. */
const NAMED_ADDRESS = /^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/;

/**
 * Header names nodemailer composes itself. A template that set one of them could redirect the
 * message (`To`, `Bcc`), break its MIME structure, or defeat de-duplication (`Message-ID`), so
 * they are dropped from `message.headers`.
 */
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'sender',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'x-waymark-message-id',
  'x-waymark-idempotency-key',
]);

/**
 * nodemailer error codes that mean our side is misconfigured or the relay is unusable: failed or
 * missing authentication, TLS that cannot be set up, a host that does not resolve, a server that
 * does not speak SMTP. Retrying the same message cannot help; the circuit breaker should route
 * around the provider and someone should look.
 */
const SYSTEM_CODES = new Set([
  'EAUTH',
  'ENOAUTH',
  'EOAUTH2',
  'ETLS',
  'EREQUIRETLS',
  'ECONFIG',
  'EPROTOCOL',
  'EDNS',
]);

const smtpSettingsSchema = z
  .object({
    /** Relay host name or IP. */
    host: z.string().min(1),
    /** Relay port; 587 is submission with STARTTLS, 465 implicit TLS (`secure: true`). */
    port: z.number().int().min(1).max(65_535).default(587),
    /** Implicit TLS from the first byte (port 465). When false, STARTTLS is used if offered. */
    secure: z.boolean().default(false),
    /** Refuse to send unless the relay upgrades the connection with STARTTLS. */
    require_tls: z.boolean().default(false),
    /** SMTP AUTH user; without it no authentication is attempted. */
    user: z.string().min(1).optional(),
    /** Name of the environment variable holding the SMTP AUTH password. Required with `user`. */
    password_env: z.string().min(1).optional(),
    /** Sender: `addr@host` or `Display Name <addr@host>`. */
    from: z
      .string()
      .trim()
      .refine((value) => BARE_ADDRESS.test(value) || NAMED_ADDRESS.test(value), {
        error: 'expected an address or "Name <address>"',
      }),
    /** Keep connections open and reuse them across messages. */
    pool: z.boolean().default(true),
    /** Pooled connections at most (with `pool`). */
    max_connections: z.number().int().min(1).max(100).default(5),
    /** Check the relay's certificate. Turn off only for a relay with a self-signed certificate. */
    tls_reject_unauthorized: z.boolean().default(true),
  })
  .strict()
  .superRefine((settings, context) => {
    if (settings.user !== undefined && settings.password_env === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['password_env'],
        message: 'password_env is required when user is set',
      });
    }
  });

/** Checked settings of an `smtp` provider (snake_case, as written in the config). */
export type SmtpSettings = z.output<typeof smtpSettingsSchema>;

/**
 * The `smtp` provider kind. Settings: `host` (required), `port` (587), `secure` (false),
 * `require_tls` (false), `user`, `password_env` (required with `user`), `from` (required),
 * `pool` (true), `max_connections` (5), `tls_reject_unauthorized` (true).
 */
export const smtpProvider: ProviderDefinition<SmtpSettings> = {
  kind: KIND,
  channelTypes: ['email'],
  settings: smtpSettingsSchema,
  create(settings, deps) {
    let auth: { user: string; pass: string } | undefined;
    if (settings.user !== undefined) {
      if (settings.password_env === undefined) {
        throw new ProviderConfigError(KIND, 'password_env is required when user is set');
      }
      auth = {
        user: settings.user,
        pass: requireSecret(KIND, deps.secrets, settings.password_env),
      };
    }
    return new SmtpProvider(settings, auth);
  },
};

/** The part of a nodemailer transporter this provider uses (pooled and single share it). */
interface Transport {
  sendMail(mail: SendMailOptions): Promise<unknown>;
  close(): void;
}

/** How a send ended, once the race against the abort signal is decided. */
type Outcome =
  | { kind: 'sent'; info: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'aborted'; reason: unknown };

/** A failure of the whole message or of one recipient, already categorised. */
interface Classified {
  category: Exclude<FailureCategory, 'partial'>;
  error: string;
  code?: string | undefined;
  reason?: PermanentReason | undefined;
}

class SmtpProvider implements DeliveryProvider {
  readonly kind = KIND;
  readonly #settings: SmtpSettings;
  readonly #transport: Transport;
  #closed = false;

  constructor(settings: SmtpSettings, auth: { user: string; pass: string } | undefined) {
    this.#settings = settings;
    const common = {
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: settings.require_tls,
      auth,
      tls: { rejectUnauthorized: settings.tls_reject_unauthorized },
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      greetingTimeout: GREETING_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
      // Rendered content is never a path or URL to fetch; refusing both keeps a template from
      // reading local files or reaching internal hosts through nodemailer's `path` / `href`.
      disableFileAccess: true,
      disableUrlAccess: true,
    };
    if (settings.pool) {
      const options = {
        ...common,
        pool: true as const,
        maxConnections: settings.max_connections,
        // The pool otherwise re-sends a message whose connection closed mid-transaction, which
        // may deliver it twice and hides the failure; retrying is the pipeline's decision.
        maxRequeues: 0,
      };
      this.#transport = nodemailer.createTransport(options);
    } else {
      this.#transport = nodemailer.createTransport(common);
    }
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<ProviderResult> {
    if (this.#closed) {
      // A closed pool silently drops new messages (its callback never runs); answer instead.
      return { status: 'failed', category: 'system', error: 'smtp provider is closed' };
    }
    if (signal.aborted) return abortedResult(signal.reason);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers)) {
      if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
    }
    headers['X-Waymark-Message-Id'] = message.id;
    headers['X-Waymark-Idempotency-Key'] = message.idempotencyKey;
    const mail: SendMailOptions = {
      from: this.#settings.from,
      to: [...message.to],
      subject: message.subject ?? '',
      text: message.body,
      headers,
      // Stable across attempts: a receiving system that de-duplicates by Message-ID drops the
      // copy a retry sends after an answer was lost.
      messageId: `<${message.id}@waymark>`,
    };
    if (message.html !== undefined) mail.html = message.html;
    const outcome = await raceAbort(this.#transport.sendMail(mail), signal);
    switch (outcome.kind) {
      case 'aborted':
        return abortedResult(outcome.reason);
      case 'error':
        return failedResult(outcome.error, message.to);
      case 'sent':
        return sentResult(outcome.info, message.to);
    }
  }

  /** Closes the pool; a message still in flight finishes (or times out) first. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#transport.close();
    }
    return Promise.resolve();
  }
}

/**
 * Waits for the send or the abort, whichever comes first. The send keeps running after an abort
 * (nodemailer cannot cancel one message on a pooled connection); its late result is consumed here
 * so it never becomes an unhandled rejection, and the abort listener is removed either way.
 */
function raceAbort(sending: Promise<unknown>, signal: AbortSignal): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const onAbort = (): void => {
      resolve({ kind: 'aborted', reason: signal.reason });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sending.then(
      (info) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ kind: 'sent', info });
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ kind: 'error', error });
      },
    );
  });
}

function abortedResult(reason: unknown): ProviderResult {
  const why = reason instanceof Error ? reason.name : 'aborted';
  return {
    status: 'failed',
    category: 'transient',
    code: 'ABORT_ERR',
    error: `no answer from the SMTP server before the deadline (${why})`,
  };
}

/** Maps nodemailer's info (some recipients may have been refused) onto a result. */
function sentResult(info: unknown, to: readonly string[]): ProviderResult {
  const record = isRecord(info) ? info : {};
  const providerMessageId =
    typeof record['messageId'] === 'string' ? record['messageId'] : undefined;
  const accepted = addressList(record['accepted']);
  const rejected = addressList(record['rejected']);
  if (rejected.length === 0) return { status: 'accepted', providerMessageId };
  const errors: unknown[] = Array.isArray(record['rejectedErrors']) ? record['rejectedErrors'] : [];
  const failed = rejected.map((address) => {
    const error = errors.find((e) => isRecord(e) && sameAddress(e['recipient'], address));
    const classified = classifySmtpError(error ?? new Error('recipient refused'), 'RCPT TO');
    return { to: originalRecipient(address, to), ...withoutCode(classified) };
  });
  return {
    status: 'partial',
    providerMessageId,
    accepted: accepted.map((address) => originalRecipient(address, to)),
    failed,
  };
}

/**
 * Maps a rejected send onto a result. When every recipient was refused at RCPT TO, nodemailer
 * rejects with each refusal attached: one category for all becomes a plain failure, a mix (say
 * one 550 and one 451) a `partial` with nothing accepted, so the transient ones are retried alone.
 */
function failedResult(error: unknown, to: readonly string[]): ProviderResult {
  const perRecipient = isRecord(error) ? error['rejectedErrors'] : undefined;
  if (Array.isArray(perRecipient) && perRecipient.length > 0) {
    const failed = perRecipient.map((e: unknown) => {
      const recipient = isRecord(e) && typeof e['recipient'] === 'string' ? e['recipient'] : '';
      return { to: originalRecipient(recipient, to), ...classifySmtpError(e, 'RCPT TO') };
    });
    const first = failed[0];
    if (first !== undefined && failed.every((f) => f.category === first.category)) {
      const { to: _to, ...rest } = first;
      return { status: 'failed', ...rest };
    }
    return { status: 'partial', accepted: [], failed: failed.map(withoutCode) };
  }
  return { status: 'failed', ...classifySmtpError(error) };
}

/**
 * The category of one SMTP failure, from the reply code when the relay answered and from
 * nodemailer's error code when it did not. `command` is the SMTP command the answer refers to
 * when the caller knows it better than the error does.
 */
function classifySmtpError(error: unknown, command?: string): Classified {
  const record = isRecord(error) ? error : {};
  const message = oneLine(
    error instanceof Error ? error.message : typeof error === 'string' ? error : 'SMTP failure',
  );
  const responseCode =
    typeof record['responseCode'] === 'number' ? record['responseCode'] : undefined;
  const code = typeof record['code'] === 'string' ? record['code'] : undefined;
  const smtpCommand = command ?? (typeof record['command'] === 'string' ? record['command'] : '');

  // Failed authentication or TLS is our configuration whatever the reply code was (a relay that
  // does not know STARTTLS answers 500 to it, which is not this message's fault).
  if (code !== undefined && SYSTEM_CODES.has(code)) {
    return {
      category: 'system',
      error: message,
      code: responseCode === undefined ? code : String(responseCode),
    };
  }
  if (responseCode !== undefined) {
    const text = { error: message, code: String(responseCode) };
    // Authentication required / failed / too weak / encryption required: our credentials.
    if ([530, 534, 535, 538].includes(responseCode)) return { category: 'system', ...text };
    if (responseCode >= 500 && responseCode < 600) {
      const enhanced = /\b5\.(\d{1,3})\.\d{1,3}\b/.exec(message)?.[1];
      // Enhanced status X.1.x is "addressing": the mailbox itself. Without one, 550/551/553 at
      // RCPT TO mean the same. A 550 at DATA or MAIL FROM (spam, policy, our sender) is not the
      // recipient's fault, and marking the address invalid would wrongly feed consent state.
      const invalidRecipient =
        smtpCommand === 'RCPT TO' &&
        (enhanced === undefined ? [550, 551, 553].includes(responseCode) : enhanced === '1');
      return {
        category: 'permanent',
        reason: invalidRecipient ? 'invalid_recipient' : 'rejected',
        ...text,
      };
    }
    // 4xx says "try later"; anything else unexpected is treated the same, once.
    return { category: 'transient', ...text };
  }

  if (code === 'EENVELOPE') {
    // Refused by nodemailer before any command: an address it cannot put in an envelope.
    return { category: 'permanent', reason: 'invalid_recipient', error: message, code };
  }
  // nodemailer replaces the socket's errno code with its own (ESOCKET, ECONNECTION); the errno
  // survives in the message ("connect ECONNREFUSED 127.0.0.1:25").
  const errno = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/.exec(
    message,
  )?.[1];
  if (errno !== undefined) return { category: 'system', error: message, code: errno };
  return { category: 'transient', error: message, code };
}

/** Per-recipient failures carry no code in {@link ProviderResult}; the text keeps the reply. */
function withoutCode<T extends { code?: string | undefined }>(value: T): Omit<T, 'code'> {
  const { code: _code, ...rest } = value;
  return rest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** nodemailer lists recipients as strings or `{name, address}` objects. */
function addressList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown) => {
    if (typeof entry === 'string') return [entry];
    if (isRecord(entry) && typeof entry['address'] === 'string') return [entry['address']];
    return [];
  });
}

function sameAddress(value: unknown, address: string): boolean {
  return typeof value === 'string' && value.toLowerCase() === address.toLowerCase();
}

/**
 * The recipient as the message named it: nodemailer may normalise case or punycode, and the
 * pipeline matches failed recipients against its own list.
 */
function originalRecipient(address: string, to: readonly string[]): string {
  return to.find((candidate) => sameAddress(candidate, address)) ?? address;
}

/** One line of at most 500 characters, for the message's `error` column. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 500 ? `${flat.slice(0, 497)}...` : flat;
}

/**
 * Wake-ups across processes by LISTEN/NOTIFY.
 *
 * Writers NOTIFY inside the transaction that commits the change: PostgreSQL delivers a
 * notification when, and only if, that transaction commits, so a rolled-back append wakes nobody
 * and a listener never hears of rows it cannot see yet. Identical notifications of one transaction
 * are folded into one by the server, so a batch costs one.
 *
 * A listener holds one dedicated connection, outside the pool: LISTEN belongs to a session, and a
 * pooled connection (or PgBouncer in transaction mode, which runs each transaction on whichever
 * server connection is free) would lose it. That is also why the listener may be pointed at the
 * server directly (`PostgresStoreOptions.listenConnectionString`) while queries go through a
 * pooler.
 *
 * Notifications are hints, never the truth: the connection can drop (and notifications sent
 * meanwhile are gone), so callers keep polling as the fallback and poll once more whenever the
 * listener reconnects. The listener reconnects by itself with a growing pause, and checks a quiet
 * connection now and then so a half-open one (a network cut without a reset) is noticed.
 */
import { createHash } from 'node:crypto';

import pg from 'pg';

import type { StoreChange, StoreWatch } from '../contract.js';

/** The two channels of one store: new events, new outbox entries. */
export interface ChangeChannels {
  events: string;
  outbox: string;
}

/**
 * The channels of a store's tables. Stores in different schemas of one database (tests,
 * side-by-side installs) must not wake each other, so a schema gets channels of its own, named by
 * a short hash to stay within PostgreSQL's 63-byte identifiers.
 */
export function changeChannels(schema: string | undefined): ChangeChannels {
  if (schema === undefined) return { events: 'waymark_events', outbox: 'waymark_outbox' };
  const tag = createHash('sha256').update(schema).digest('hex').slice(0, 16);
  return { events: `waymark_events_${tag}`, outbox: `waymark_outbox_${tag}` };
}

/**
 * The payload of an outbox notification: the message lanes and whether other kinds came too, as
 * JSON; null lanes (or a list too long for PostgreSQL's 8000-byte payloads, never seen in
 * practice) means "any lane".
 */
export function outboxPayload(lanes: readonly string[] | null, others: boolean): string {
  if (lanes === null) return JSON.stringify({ lanes: null, others });
  const text = JSON.stringify({ lanes: [...new Set(lanes)].sort(), others });
  return text.length < 7_000 ? text : JSON.stringify({ lanes: null, others });
}

/** What a notification on `channels` says, or null when it is none of ours. */
export function parseChange(
  channels: ChangeChannels,
  channel: string,
  payload: string | undefined,
): StoreChange | null {
  if (channel === channels.events) return { kind: 'events' };
  if (channel !== channels.outbox) return null;
  try {
    const parsed = JSON.parse(payload ?? '') as { lanes?: unknown; others?: unknown } | null;
    const lanes = parsed?.lanes;
    const others = parsed?.others === true;
    if (lanes === null) return { kind: 'outbox', lanes: null, others };
    if (Array.isArray(lanes) && lanes.every((lane) => typeof lane === 'string')) {
      return { kind: 'outbox', lanes, others };
    }
  } catch {
    // Not ours to understand (someone NOTIFYing by hand): read it as "look everywhere" below.
  }
  return { kind: 'outbox', lanes: null, others: true };
}

/** How to open a listener. */
export interface ListenerOptions {
  connectionString: string;
  channels: ChangeChannels;
  applicationName: string;
  onChange: (change: StoreChange) => void;
  onListening: (listening: boolean, error: Error | null) => void;
  /** First pause before reconnecting, ms (doubling up to `maxReconnectMs`). Default 250. */
  reconnectMs?: number;
  /** Longest pause before reconnecting, ms. Default 10 000. */
  maxReconnectMs?: number;
  /** How often a quiet connection is checked with a trivial query, ms. Default 15 000. */
  heartbeatMs?: number;
}

/**
 * One LISTEN connection that keeps itself open. States: connecting → listening → (lost →
 * connecting)* → closed. `close()` is idempotent and ends the connection.
 */
export class ChangeListener implements StoreWatch {
  readonly #options: Required<ListenerOptions>;
  #client: pg.Client | null = null;
  #listening = false;
  #closed = false;
  #pauseMs: number;
  #retry: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;

  constructor(options: ListenerOptions) {
    this.#options = { reconnectMs: 250, maxReconnectMs: 10_000, heartbeatMs: 15_000, ...options };
    this.#pauseMs = this.#options.reconnectMs;
    void this.#connect();
  }

  get listening(): boolean {
    return this.#listening;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retry !== null) clearTimeout(this.#retry);
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = null;
    this.#listening = false;
    // Ending a broken connection can fail; there is nothing left to clean up then.
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    this.#retry = null;
    if (this.#closed) return;
    const { connectionString, channels, applicationName } = this.#options;
    const client = new pg.Client({
      connectionString,
      application_name: applicationName,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    });
    // An object, not a `let`: the flag is set from the client's event handlers.
    const state = { lost: false };
    const lose = (error: Error | null): void => {
      if (state.lost) return;
      state.lost = true;
      this.#lost(client, error);
    };
    client.on('notification', (message) => {
      const change = parseChange(channels, message.channel, message.payload);
      if (change !== null) this.#options.onChange(change);
    });
    client.on('error', (error) => {
      lose(error);
    });
    client.on('end', () => {
      lose(null);
    });
    try {
      await client.connect();
      // The names come from `changeChannels` (fixed text and hex digits): safe to splice.
      await client.query(`LISTEN ${channels.events}`);
      await client.query(`LISTEN ${channels.outbox}`);
    } catch (error) {
      lose(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.#isClosed() || state.lost) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#listening = true;
    this.#pauseMs = this.#options.reconnectMs;
    this.#heartbeat = setInterval(() => {
      client.query('SELECT 1').catch((error: unknown) => {
        lose(error instanceof Error ? error : new Error(String(error)));
      });
    }, this.#options.heartbeatMs);
    this.#heartbeat.unref();
    this.#options.onListening(true, null);
  }

  /** Read through a method: `close()` may have run during an await of `#connect`. */
  #isClosed(): boolean {
    return this.#closed;
  }

  #lost(client: pg.Client, error: Error | null): void {
    if (this.#heartbeat !== null && this.#client === client) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = null;
    }
    const wasListening = this.#client === client && this.#listening;
    if (this.#client === client) {
      this.#client = null;
      this.#listening = false;
    }
    void client.end().catch(() => undefined);
    if (this.#closed) return;
    // Reported on every failed attempt too, so a listener that never connects is visible.
    if (wasListening || error !== null) this.#options.onListening(false, error);
    const pause = this.#pauseMs;
    this.#pauseMs = Math.min(this.#pauseMs * 2, this.#options.maxReconnectMs);
    this.#retry = setTimeout(() => void this.#connect(), pause);
    this.#retry.unref();
  }
}

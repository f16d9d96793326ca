import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  VirtualClock,
  emptyDeliveryOutcomes,
  type JourneyEventRecord,
  type Logger,
  type Store,
} from '../core/index.js';
import { webhookSchema, type WebhookConfig } from '../config/index.js';
import { openStore } from '../store/index.js';
import { JourneyEventWebhooks } from './index.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');

/** What the loopback server received. */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
}

/** How the loopback server answers one request; `hang` never answers. */
type Answer = { status: number; headers?: Record<string, string> } | 'hang';

/** A real HTTP server on 127.0.0.1 that records every request and answers as told. */
class Receiver {
  readonly requests: Received[] = [];
  answer: (request: Received) => Answer = () => ({ status: 200 });
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const received: Received = {
          path: req.url ?? '',
          headers: req.headers,
          body,
          json: body === '' ? undefined : JSON.parse(body),
        };
        receiver.requests.push(received);
        const answer = receiver.answer(received);
        if (answer === 'hang') return;
        res.writeHead(answer.status, answer.headers).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
  }

  /** The parsed JSON body of every request, answered 2xx or not, in arrival order. */
  get bodies(): unknown[] {
    return this.requests.map((r) => r.json);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }
}

interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown> | undefined;
}

function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) =>
    lines.push({ level, message, fields });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

function journeyEvent(type: string, customerId: string, at = T0): JourneyEventRecord {
  return { type, journeyId: 'onboarding_v2', customerId, timestamp: at, data: { step: 1 } };
}

function webhook(fields: Record<string, unknown>): WebhookConfig {
  return webhookSchema.parse({ name: 'hook', events: ['*'], ...fields });
}

let store: Store;
let clock: VirtualClock;
let log: ReturnType<typeof recordingLogger>;
const receivers: Receiver[] = [];

async function receiver(): Promise<Receiver> {
  const r = await Receiver.start();
  receivers.push(r);
  return r;
}

async function record(...events: JourneyEventRecord[]): Promise<void> {
  await store.recordDeliveryOutcomes({ ...emptyDeliveryOutcomes(), journeyEvents: events });
}

function customersOf(body: unknown): string[] {
  const events = (body as { events: { customer_id: string }[] }).events;
  return events.map((e) => e.customer_id);
}

function publisher(
  webhooks: WebhookConfig[],
  extra: { env?: Record<string, string>; timeoutMs?: number } = {},
): JourneyEventWebhooks {
  return new JourneyEventWebhooks({ store, clock, webhooks, log, env: extra.env ?? {}, ...extra });
}

beforeEach(async () => {
  store = await openStore({ file: ':memory:' });
  clock = new VirtualClock(T0);
  log = recordingLogger();
});

afterEach(async () => {
  await store.close();
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describe('JourneyEventWebhooks', () => {
  it('sends only the subscribed event types, one JourneyEvent per request, and moves the cursor past all', async () => {
    const crm = await receiver();
    const webhooks = publisher([
      webhook({
        name: 'CRM Sync',
        url: crm.url,
        events: ['journey.completed', 'journey.exited'],
        retry: true,
      }),
    ]);
    await record(
      journeyEvent('journey.enrolled', 'ann'),
      journeyEvent('journey.completed', 'ann', T0 + 5),
      journeyEvent('journey.stage_changed', 'bob'),
      journeyEvent('journey.exited', 'bob', T0 + 7),
      journeyEvent('message.sent', 'cid'),
    );

    expect(await webhooks.publish()).toBe(2);

    expect(crm.bodies).toEqual([
      {
        type: 'journey.completed',
        journey_id: 'onboarding_v2',
        customer_id: 'ann',
        timestamp: new Date(T0 + 5).toISOString(),
        data: { step: 1 },
      },
      {
        type: 'journey.exited',
        journey_id: 'onboarding_v2',
        customer_id: 'bob',
        timestamp: new Date(T0 + 7).toISOString(),
        data: { step: 1 },
      },
    ]);
    const [first, second] = crm.requests;
    expect(first?.headers['content-type']).toBe('application/json');
    // The key names the webhook and the event's place in the log: stable across redeliveries.
    expect(first?.headers['idempotency-key']).toBe('CRM%20Sync:2');
    expect(second?.headers['idempotency-key']).toBe('CRM%20Sync:4');
    // The trailing message.sent was skipped, and the cursor moved past it too.
    expect(await store.readJourneyEventsFor('webhook:CRM Sync', 10)).toEqual([]);
    expect(await webhooks.publish()).toBe(0);
    expect(crm.requests).toHaveLength(2);
  });

  it("matches '<prefix>.*' subscriptions", async () => {
    const r = await receiver();
    const webhooks = publisher([webhook({ url: r.url, events: ['message.*'] })]);
    await record(
      journeyEvent('journey.enrolled', 'a'),
      journeyEvent('message.sent', 'b'),
      journeyEvent('message.failed', 'c'),
    );
    expect(await webhooks.publish()).toBe(2);
    expect(r.bodies.map((b) => (b as { type: string }).type)).toEqual([
      'message.sent',
      'message.failed',
    ]);
  });

  it('sends the bearer token from the named environment variable, over configured headers', async () => {
    const r = await receiver();
    const webhooks = publisher(
      [
        webhook({
          url: r.url,
          auth: { type: 'bearer', token_env: 'CRM_WEBHOOK_TOKEN' },
          headers: { Authorization: 'overridden', 'X-Source': 'waymark' },
        }),
      ],
      { env: { CRM_WEBHOOK_TOKEN: 's3cret' } },
    );
    await record(journeyEvent('journey.enrolled', 'ann'));
    expect(await webhooks.publish()).toBe(1);
    expect(r.requests[0]?.headers['authorization']).toBe('Bearer s3cret');
    expect(r.requests[0]?.headers['x-source']).toBe('waymark');
  });

  it('logs a missing token variable once, sends nothing and keeps the events for later', async () => {
    const r = await receiver();
    const config = webhook({
      name: 'CRM Sync',
      url: r.url,
      auth: { type: 'bearer', token_env: 'CRM_WEBHOOK_TOKEN' },
    });
    const webhooks = publisher([config]);
    await record(journeyEvent('journey.enrolled', 'ann'));

    expect(await webhooks.publish()).toBe(0);
    expect(await webhooks.publish()).toBe(0);

    expect(r.requests).toHaveLength(0);
    const errors = log.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields).toMatchObject({ webhook: 'CRM Sync', code: 'WEBHOOK_UNAVAILABLE' });
    expect(String(errors[0]?.fields?.['error'])).toContain('CRM_WEBHOOK_TOKEN');
    // Nothing was passed: a process started with the variable set delivers the backlog.
    const restarted = publisher([config], { env: { CRM_WEBHOOK_TOKEN: 't' } });
    expect(await restarted.publish()).toBe(1);
    expect(r.requests[0]?.headers['authorization']).toBe('Bearer t');
  });

  it('signs the body with auth.type hmac: t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', async () => {
    const r = await receiver();
    const webhooks = publisher(
      [webhook({ url: r.url, auth: { type: 'hmac', secret_env: 'HOOK_SECRET' } })],
      { env: { HOOK_SECRET: 'k' } },
    );
    await record(journeyEvent('journey.enrolled', 'ann'));
    await webhooks.publish();

    const request = r.requests[0];
    const header = String(request?.headers['x-waymark-signature']);
    const t = Math.floor(T0 / 1000);
    const expected = createHmac('sha256', 'k').update(`${t}.${request?.body}`).digest('hex');
    expect(header).toBe(`t=${t},v1=${expected}`);
  });

  describe('batches', () => {
    it('sends full batches at once and holds the rest until the window has passed', async () => {
      const r = await receiver();
      const webhooks = publisher([
        webhook({
          name: 'Analytics',
          url: r.url,
          events: ['journey.*'],
          batch: { enabled: true, size: 2, window: '60s' },
        }),
      ]);
      await record(
        journeyEvent('journey.enrolled', 'a'),
        journeyEvent('message.sent', 'skipped'),
        journeyEvent('journey.enrolled', 'b'),
        journeyEvent('journey.enrolled', 'c'),
        journeyEvent('journey.enrolled', 'd'),
        journeyEvent('journey.enrolled', 'e'),
      );

      expect(await webhooks.publish()).toBe(4);
      expect(r.bodies.map(customersOf)).toEqual([
        ['a', 'b'],
        ['c', 'd'],
      ]);
      expect(r.requests.map((q) => q.headers['idempotency-key'])).toEqual([
        'Analytics:1-3',
        'Analytics:4-5',
      ]);

      // 'e' is held: a partial batch waits for the window, measured from its oldest event.
      clock.advance(59_999);
      expect(await webhooks.publish()).toBe(0);
      expect(r.requests).toHaveLength(2);
      clock.advance(1);
      expect(await webhooks.publish()).toBe(1);
      expect(r.bodies.map(customersOf)[2]).toEqual(['e']);
      expect(await store.readJourneyEventsFor('webhook:Analytics', 10)).toEqual([]);
    });

    it('counts the window from the oldest held event, so a later arrival does not extend it', async () => {
      const r = await receiver();
      const webhooks = publisher([
        webhook({ url: r.url, batch: { enabled: true, size: 10, window: '1m' } }),
      ]);
      await record(journeyEvent('journey.enrolled', 'a', T0));
      expect(await webhooks.publish()).toBe(0);
      clock.advance(30_000);
      await record(journeyEvent('journey.enrolled', 'b', clock.now()));
      expect(await webhooks.publish()).toBe(0);
      clock.advance(30_000);
      expect(await webhooks.publish()).toBe(2);
      expect(r.bodies.map(customersOf)).toEqual([['a', 'b']]);
    });

    it('redelivers a failed batch as the same batch with the same key, although more events arrived', async () => {
      const r = await receiver();
      let down = true;
      r.answer = () => ({ status: down ? 503 : 200 });
      const webhooks = publisher([
        webhook({ url: r.url, retry: true, batch: { enabled: true, size: 5, window: '10s' } }),
      ]);
      await record(journeyEvent('journey.enrolled', 'a'), journeyEvent('journey.enrolled', 'b'));
      clock.advance(10_000);
      expect(await webhooks.publish()).toBe(0);
      await record(journeyEvent('journey.enrolled', 'c', clock.now()));

      down = false;
      clock.advance(1_000);
      expect(await webhooks.publish()).toBe(2);
      expect(r.bodies.map(customersOf)).toEqual([
        ['a', 'b'],
        ['a', 'b'],
      ]);
      expect(r.requests.map((q) => q.headers['idempotency-key'])).toEqual(['hook:1-2', 'hook:1-2']);
      // 'c' starts a batch of its own, held for its own window.
      clock.advance(9_000);
      expect(await webhooks.publish()).toBe(1);
      expect(r.bodies.map(customersOf)[2]).toEqual(['c']);
    });
  });

  describe('failures', () => {
    it('with retry: true keeps the events, backs off 1 s doubling, and redelivers in order when the endpoint recovers', async () => {
      const r = await receiver();
      let failuresLeft = 3;
      const accepted: string[] = [];
      r.answer = (request) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          return { status: 500 };
        }
        accepted.push((request.json as { customer_id: string }).customer_id);
        return { status: 200 };
      };
      const webhooks = publisher([webhook({ url: r.url, retry: true })]);
      await record(
        journeyEvent('journey.enrolled', 'a'),
        journeyEvent('journey.enrolled', 'b'),
        journeyEvent('journey.enrolled', 'c'),
      );

      expect(await webhooks.publish()).toBe(0); // failure 1: retry in 1 s
      expect(await webhooks.publish()).toBe(0); // backing off: no request
      expect(r.requests).toHaveLength(1);
      clock.advance(1_000);
      expect(await webhooks.publish()).toBe(0); // failure 2: retry in 2 s
      clock.advance(1_999);
      expect(await webhooks.publish()).toBe(0);
      expect(r.requests).toHaveLength(2);
      clock.advance(1);
      expect(await webhooks.publish()).toBe(0); // failure 3: retry in 4 s
      clock.advance(4_000);
      expect(await webhooks.publish()).toBe(3);

      // Every attempt was at 'a' until it went through; then b and c, each exactly once.
      expect(r.bodies.map((b) => (b as { customer_id: string }).customer_id)).toEqual([
        'a',
        'a',
        'a',
        'a',
        'b',
        'c',
      ]);
      expect(accepted).toEqual(['a', 'b', 'c']);
      expect(r.requests.slice(0, 4).map((q) => q.headers['idempotency-key'])).toEqual(
        Array(4).fill('hook:1'),
      );
      expect(await store.readJourneyEventsFor('webhook:hook', 10)).toEqual([]);
      expect(log.lines.filter((l) => l.message.includes('will retry'))).toHaveLength(3);
      // Recovered: the backoff starts over at 1 s for the next failure.
      failuresLeft = 1;
      await record(journeyEvent('journey.enrolled', 'd'));
      expect(await webhooks.publish()).toBe(0);
      clock.advance(1_000);
      expect(await webhooks.publish()).toBe(1);
    });

    it('caps the retry: true backoff at 5 minutes', async () => {
      const r = await receiver();
      r.answer = () => ({ status: 502 });
      const webhooks = publisher([webhook({ url: r.url, retry: true })]);
      await record(journeyEvent('journey.enrolled', 'a'));
      for (let failure = 1; failure <= 11; failure++) {
        await webhooks.publish();
        clock.advance(Math.min(1_000 * 2 ** (failure - 1), 300_000));
      }
      expect(r.requests).toHaveLength(11);
      const delays = log.lines.map((l) => l.fields?.['retry_in_ms']);
      expect(delays.slice(-2)).toEqual([300_000, 300_000]);
    });

    it('with retry: false logs a warning and moves past the failed event', async () => {
      const r = await receiver();
      r.answer = (request) => ({
        status: (request.json as { customer_id: string }).customer_id === 'a' ? 500 : 200,
      });
      const webhooks = publisher([webhook({ url: r.url, retry: false })]);
      await record(journeyEvent('journey.enrolled', 'a'), journeyEvent('journey.enrolled', 'b'));

      expect(await webhooks.publish()).toBe(1);
      expect(r.requests).toHaveLength(2);
      expect(await webhooks.publish()).toBe(0);
      expect(r.requests).toHaveLength(2);
      expect(log.lines).toEqual([
        expect.objectContaining({
          level: 'warn',
          fields: expect.objectContaining({ status: 500 }),
        }),
      ]);
    });

    it('moves past a permanent 400 even with retry: true', async () => {
      const r = await receiver();
      r.answer = (request) => ({
        status: (request.json as { customer_id: string }).customer_id === 'a' ? 400 : 200,
      });
      const webhooks = publisher([webhook({ url: r.url, retry: true })]);
      await record(journeyEvent('journey.enrolled', 'a'), journeyEvent('journey.enrolled', 'b'));

      expect(await webhooks.publish()).toBe(1);
      expect(r.bodies.map((b) => (b as { customer_id: string }).customer_id)).toEqual(['a', 'b']);
      expect(await store.readJourneyEventsFor('webhook:hook', 10)).toEqual([]);
      expect(log.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    });

    it('treats 408 as transient, not permanent', async () => {
      const r = await receiver();
      let first = true;
      r.answer = () => {
        const status = first ? 408 : 200;
        first = false;
        return { status };
      };
      const webhooks = publisher([webhook({ url: r.url })]); // retry defaults to true
      await record(journeyEvent('journey.enrolled', 'a'));
      expect(await webhooks.publish()).toBe(0);
      clock.advance(1_000);
      expect(await webhooks.publish()).toBe(1);
      expect(r.requests).toHaveLength(2);
    });

    it('honours Retry-After on 429', async () => {
      const r = await receiver();
      let limited = true;
      r.answer = () =>
        limited ? { status: 429, headers: { 'retry-after': '30' } } : { status: 200 };
      const webhooks = publisher([webhook({ url: r.url, retry: true })]);
      await record(journeyEvent('journey.enrolled', 'a'));

      expect(await webhooks.publish()).toBe(0);
      limited = false;
      clock.advance(29_999); // far beyond the 1 s backoff, still inside Retry-After
      expect(await webhooks.publish()).toBe(0);
      expect(r.requests).toHaveLength(1);
      clock.advance(1);
      expect(await webhooks.publish()).toBe(1);
      expect(r.requests).toHaveLength(2);
    });

    it('keeps serving one webhook while another is down', async () => {
      const up = await receiver();
      const down = await receiver();
      const downUrl = down.url;
      await down.close(); // connection refused from now on
      receivers.splice(receivers.indexOf(down), 1);
      const webhooks = publisher([
        webhook({ name: 'down', url: downUrl, retry: true }),
        webhook({ name: 'up', url: up.url, retry: true }),
      ]);
      await record(journeyEvent('journey.enrolled', 'a'), journeyEvent('journey.enrolled', 'b'));

      expect(await webhooks.publish()).toBe(2);
      expect(up.bodies).toHaveLength(2);
      // The failing webhook's cursor stayed; the other's moved.
      expect(await store.readJourneyEventsFor('webhook:down', 10)).toHaveLength(2);
      expect(await store.readJourneyEventsFor('webhook:up', 10)).toEqual([]);
      expect(log.lines).toEqual([
        expect.objectContaining({
          level: 'warn',
          fields: expect.objectContaining({ webhook: 'down' }),
        }),
      ]);

      await record(journeyEvent('journey.enrolled', 'c'));
      expect(await webhooks.publish()).toBe(1);
      expect(up.bodies).toHaveLength(3);
    });

    it('times out a silent endpoint and retries it later', async () => {
      const r = await receiver();
      r.answer = () => 'hang';
      const webhooks = publisher([webhook({ url: r.url, retry: true })], { timeoutMs: 100 });
      await record(journeyEvent('journey.enrolled', 'a'));

      expect(await webhooks.publish()).toBe(0);
      expect(log.lines[0]?.fields?.['error']).toBe('no answer within 100 ms');
      r.answer = () => ({ status: 200 });
      clock.advance(1_000);
      expect(await webhooks.publish()).toBe(1);
    });

    it('with a retry policy, passes the events after max_attempts', async () => {
      const r = await receiver();
      r.answer = () => ({ status: 503 });
      const webhooks = publisher([
        webhook({
          url: r.url,
          retry: { max_attempts: 2, backoff: { type: 'fixed', delay: '10s' } },
        }),
      ]);
      await record(journeyEvent('journey.enrolled', 'a'));

      expect(await webhooks.publish()).toBe(0);
      clock.advance(9_999);
      expect(await webhooks.publish()).toBe(0);
      expect(r.requests).toHaveLength(1);
      clock.advance(1);
      expect(await webhooks.publish()).toBe(0);
      expect(r.requests).toHaveLength(2);
      expect(await store.readJourneyEventsFor('webhook:hook', 10)).toEqual([]);
      expect(log.lines.at(-1)).toMatchObject({
        level: 'error',
        fields: { webhook: 'hook', attempts: 2 },
      });
    });
  });

  it('works off a backlog over several passes of at most 100 requests each', async () => {
    const r = await receiver();
    const webhooks = publisher([webhook({ url: r.url })]);
    await record(
      ...Array.from({ length: 150 }, (_, i) => journeyEvent('journey.enrolled', `c${i}`)),
    );
    expect(await webhooks.publish()).toBe(100);
    expect(await webhooks.publish()).toBe(50);
    expect(await webhooks.publish()).toBe(0);
    const customers = r.bodies.map((b) => (b as { customer_id: string }).customer_id);
    expect(customers).toEqual(Array.from({ length: 150 }, (_, i) => `c${i}`));
  });

  it('runs overlapping publish calls one after the other, so nothing is sent twice', async () => {
    const r = await receiver();
    const webhooks = publisher([webhook({ url: r.url })]);
    await record(journeyEvent('journey.enrolled', 'a'), journeyEvent('journey.enrolled', 'b'));
    const counts = await Promise.all([webhooks.publish(), webhooks.publish()]);
    expect(counts).toEqual([2, 0]);
    expect(r.requests).toHaveLength(2);
  });
});

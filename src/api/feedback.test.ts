/**
 * Delivery feedback through the HTTP API: tracking links in e-mail (open pixel, click redirect,
 * one-click unsubscribe), SendGrid's Event Webhook, Twilio's status callback and the generic form,
 * each applied by the engine in the customer's order.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import { VirtualClock, sequentialIds, type MessageRecord } from '../core/index.js';
import { Engine } from '../engine/index.js';
import { openStore } from '../store/index.js';
import { buildApi } from './index.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');

const CONFIG = `
channels:
  email: { provider: sendgrid, fallback: sms }
  sms: { provider: twilio }
journeys:
  - id: news
    entry: { event: subscribed, re_entry: always }
    stages:
      - id: s
        steps:
          - id: issue
            type: send
            channel: email
            content:
              subject: "News"
              body: "Read it at https://acme.example/news"
              html: '<html><body><p><a href="https://acme.example/news?a=1&amp;b=2">Read</a></p></body></html>'
`;

let app: FastifyInstance;
let engine: Engine;
let clock: VirtualClock;

beforeEach(async () => {
  clock = new VirtualClock(T0);
  engine = await Engine.open({
    config: loadConfigFromString(CONFIG),
    store: await openStore({ file: ':memory:' }),
    clock,
    ids: sequentialIds(),
    tracking: { baseUrl: 'https://wm.example/', secret: 'a-long-enough-tracking-secret' },
  });
  app = buildApi(engine);
});

afterEach(async () => {
  await app.close();
  await engine.close();
});

async function subscribe(customerId: string): Promise<MessageRecord> {
  await engine.ingest([
    {
      type: 'customer.created',
      customerId,
      occurredAt: clock.now(),
      payload: { properties: { email: `${customerId}@example.com`, phone: '+15550001111' } },
    },
    { type: 'subscribed', customerId, occurredAt: clock.now(), payload: {} },
  ]);
  await engine.runUntilIdle();
  const messages = (await engine.store.listMessages({ customerId, limit: 10 })).items;
  const last = messages.at(-1);
  if (last === undefined) throw new Error('no message');
  return last;
}

async function journeyEvents(type: string) {
  return (await engine.store.listJourneyEvents({ type, limit: 100 })).items;
}

/** The path and query of a link, as a client would request it. */
function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

describe('tracking links', () => {
  it('decorates e-mail with a click redirect, an open pixel and one-click unsubscribe', async () => {
    const message = await subscribe('c1');
    const [sent] = engine.recording.messages;
    expect(sent?.html).toContain('https://wm.example/v1/t/click/');
    expect(sent?.html).toContain('<img src="https://wm.example/v1/t/open/');
    expect(sent?.html).toMatch(/<\/p><img [^>]+><\/body>/u);
    expect(sent?.body).toBe('Read it at https://acme.example/news');
    expect(sent?.headers).toMatchObject({
      'List-Unsubscribe': `<${engine.tracking?.unsubscribeUrl(message.id) ?? ''}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });

  it('records an open and a click as message.engaged, and redirects to the signed link only', async () => {
    const message = await subscribe('c1');
    const tracking = engine.tracking;
    if (tracking === null) throw new Error('tracking is on');
    const pixel = await app.inject({ method: 'GET', url: pathOf(tracking.openUrl(message.id)) });
    expect(pixel.statusCode).toBe(200);
    expect(pixel.headers['content-type']).toBe('image/gif');
    expect(pixel.rawPayload.subarray(0, 6).toString('latin1')).toBe('GIF89a');

    const target = 'https://acme.example/news?a=1&b=2';
    const click = await app.inject({
      method: 'GET',
      url: pathOf(tracking.clickUrl(message.id, target)),
    });
    expect(click.statusCode).toBe(302);
    expect(click.headers.location).toBe(target);

    // The same token with another target is refused: no open redirect.
    const forged = pathOf(tracking.clickUrl(message.id, target)).replace(
      encodeURIComponent(target),
      encodeURIComponent('https://evil.example/'),
    );
    const refused = await app.inject({ method: 'GET', url: forged });
    expect(refused.statusCode).toBe(404);
    expect(refused.json().error.code).toBe('NOT_FOUND');

    clock.advance(1000);
    await engine.runUntilIdle();
    const engaged = await journeyEvents('message.engaged');
    expect(
      engaged.map((e) => [e.data['engagement'], e.data['first'], e.data['url'] ?? null]),
    ).toEqual([
      ['opened', true, null],
      ['clicked', false, target],
    ]);
    expect((await engine.store.getMessage(message.id))?.engagedAt).toBe(T0);
  });

  it('one-click unsubscribe withdraws consent, and the next e-mail falls back to SMS', async () => {
    const message = await subscribe('c1');
    const url = pathOf(engine.tracking?.unsubscribeUrl(message.id) ?? '');
    const res = await app.inject({
      method: 'POST',
      url,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(200);
    await engine.runUntilIdle();
    const customer = await engine.store.getCustomer('c1');
    expect(customer?.attributes['consents']).toEqual({ email: false });
    expect(customer?.attributes['fatigue']).toEqual({
      email: { last_unsubscribe_at: new Date(T0).toISOString() },
    });
    await engine.ingest([{ type: 'subscribed', customerId: 'c1', occurredAt: T0, payload: {} }]);
    await engine.runUntilIdle();
    const messages = (await engine.store.listMessages({ customerId: 'c1', limit: 10 })).items;
    expect(messages.map((m) => [m.channel, m.status])).toEqual([
      ['email', 'sent'],
      ['email', 'suppressed'],
      ['sms', 'sent'],
    ]);
  });

  it('refuses a form body on other routes and an invalid token', async () => {
    const form = await app.inject({
      method: 'POST',
      url: '/v1/feedback',
      payload: 'a=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBe(415);
    const bad = await app.inject({
      method: 'GET',
      url: '/v1/t/open/bm9wZQ.AAAAAAAAAAAAAAAAAAAAAA',
    });
    expect(bad.statusCode).toBe(404);
  });
});

describe('provider callbacks', () => {
  it("applies SendGrid's events: delivered, then a bounce that falls back to SMS and starts the cooldown", async () => {
    const message = await subscribe('c1');
    const res = await app.inject({
      method: 'POST',
      url: '/v1/feedback/sendgrid',
      payload: [
        { event: 'processed', timestamp: T0 / 1000, waymark_message_id: message.id },
        {
          event: 'delivered',
          timestamp: T0 / 1000 + 1,
          sg_event_id: 'e1',
          waymark_message_id: message.id,
        },
        {
          event: 'bounce',
          timestamp: T0 / 1000 + 2,
          sg_event_id: 'e2',
          sg_message_id: `${message.id}.filter0001`,
          reason: '550 5.1.1 mailbox does not exist',
        },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 2, duplicates: 0, ignored: 1, unknown: [] });
    // A redelivered callback is recorded once.
    const again = await app.inject({
      method: 'POST',
      url: '/v1/feedback/sendgrid',
      payload: [
        {
          event: 'delivered',
          timestamp: T0 / 1000 + 1,
          sg_event_id: 'e1',
          waymark_message_id: message.id,
        },
      ],
    });
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 1 });
    await engine.runUntilIdle();
    expect(await engine.store.getMessage(message.id)).toMatchObject({
      status: 'failed',
      error: 'bounced: 550 5.1.1 mailbox does not exist',
    });
    const types = (await engine.store.listJourneyEvents({ customerId: 'c1', limit: 100 })).items
      .map((e) => e.type)
      .filter((t) => t.startsWith('message.'));
    expect(types).toEqual([
      'message.sent',
      'message.delivered',
      'message.bounced',
      'message.fallback',
      'message.sent',
    ]);
    const customer = await engine.store.getCustomer('c1');
    expect(customer?.attributes['fatigue']).toEqual({
      email: { last_bounce_at: new Date(T0 + 2000).toISOString() },
    });
  });

  it("applies Twilio's form-encoded status callback", async () => {
    await engine.ingest([
      {
        type: 'customer.created',
        customerId: 'c2',
        occurredAt: T0,
        payload: { properties: { phone: '+15550002222' } },
      },
      { type: 'subscribed', customerId: 'c2', occurredAt: T0, payload: {} },
    ]);
    await engine.runUntilIdle();
    const sms = (await engine.store.listMessages({ customerId: 'c2', channel: 'sms', limit: 1 }))
      .items[0];
    expect(sms?.status).toBe('sent');
    const res = await app.inject({
      method: 'POST',
      url: `/v1/feedback/twilio?waymark_message_id=${sms?.id ?? ''}`,
      payload: 'MessageSid=SM1&MessageStatus=undelivered&ErrorCode=21610',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(200);
    await engine.runUntilIdle();
    const customer = await engine.store.getCustomer('c2');
    expect(customer?.attributes['consents']).toEqual({ sms: false });
    const unsubscribed = await journeyEvents('message.unsubscribed');
    expect(unsubscribed.map((e) => e.customerId)).toEqual(['c2']);
  });

  it('takes generic feedback and reports unknown messages; refuses bad kinds', async () => {
    const message = await subscribe('c1');
    const res = await app.inject({
      method: 'POST',
      url: '/v1/feedback',
      payload: {
        events: [
          { message_id: message.id, type: 'opened', timestamp: '2026-03-02T12:05:00Z' },
          { message_id: 'msg_missing', type: 'delivered' },
        ],
      },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      accepted: 1,
      duplicates: 0,
      ignored: 0,
      unknown: ['msg_missing'],
    });
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/feedback',
      payload: { events: [{ message_id: message.id, type: 'liked' }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_INPUT');
  });
});

describe('signed provider callbacks', () => {
  it('accepts only callbacks signed by Twilio and SendGrid once verification is configured', async () => {
    const { generateKeyPairSync, sign, createHmac } = await import('node:crypto');
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const signedEngine = await Engine.open({
      config: loadConfigFromString(CONFIG),
      store: await openStore({ file: ':memory:' }),
      clock,
      ids: sequentialIds(),
      feedbackVerification: {
        twilioAuthTokens: ['twilio-token'],
        sendgridPublicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        publicUrl: 'https://wm.example/',
      },
    });
    const signedApp = buildApi(signedEngine);
    try {
      const path = '/v1/feedback/twilio?waymark_message_id=msg_x';
      const form = { MessageSid: 'SM1', MessageStatus: 'delivered' };
      const data = `https://wm.example${path}MessageSidSM1MessageStatusdelivered`;
      const good = createHmac('sha1', 'twilio-token').update(data).digest('base64');
      const twilio = (signature: string) =>
        signedApp.inject({
          method: 'POST',
          url: path,
          payload: new URLSearchParams(form).toString(),
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': signature,
          },
        });
      expect((await twilio(good)).statusCode).toBe(200);
      const forged = await twilio(good.replace(/^./u, (c) => (c === 'A' ? 'B' : 'A')));
      expect(forged.statusCode).toBe(403);
      expect(forged.json().error.code).toBe('SIGNATURE_REJECTED');

      const body = JSON.stringify([{ event: 'open', waymark_message_id: 'msg_x' }]);
      const timestamp = '1772452800';
      const signature = sign('sha256', Buffer.from(timestamp + body), privateKey).toString(
        'base64',
      );
      const sendgrid = (sig: string, payload = body) =>
        signedApp.inject({
          method: 'POST',
          url: '/v1/feedback/sendgrid',
          payload,
          headers: {
            'content-type': 'application/json',
            'x-twilio-email-event-webhook-signature': sig,
            'x-twilio-email-event-webhook-timestamp': timestamp,
          },
        });
      expect((await sendgrid(signature)).statusCode).toBe(200);
      expect((await sendgrid(signature, body.replace('open', 'click'))).statusCode).toBe(403);
    } finally {
      await signedApp.close();
      await signedEngine.close();
    }
  });
});

describe('provider health', () => {
  it('/healthz and /metrics report each provider, its circuit and why it is unusable', async () => {
    const { createMetrics } = await import('../observability/index.js');
    const configured = await Engine.open({
      config: loadConfigFromString(`
channels:
  email:
    providers:
      - { name: main, provider: sendgrid, settings: { from: "hi@acme.example" } }
      - { name: spare, provider: sendgrid }
`),
      store: await openStore({ file: ':memory:' }),
      clock,
      delivery: 'configured',
      secrets: { SENDGRID_API_KEY: 'key' },
    });
    const metrics = createMetrics();
    const api = buildApi(configured, { metrics });
    try {
      const health = await api.inject({ method: 'GET', url: '/healthz' });
      expect(health.json()).toEqual({
        status: 'ok',
        providers: [
          {
            channel: 'email',
            provider: 'main',
            kind: 'sendgrid',
            circuit: 'closed',
            problem: null,
          },
          {
            channel: 'email',
            provider: 'spare',
            kind: 'sendgrid',
            circuit: 'closed',
            problem: expect.stringContaining('settings.from') as unknown as string,
          },
        ],
        sources: [],
        models: [],
      });
      const scrape = await api.inject({ method: 'GET', url: '/metrics' });
      expect(scrape.body).toContain(
        'delivery_provider_circuit_state{channel="email",provider="main"} 0',
      );
    } finally {
      await api.close();
      await configured.close();
    }
  });
});

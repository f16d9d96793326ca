import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// The fakes are shared test infrastructure, not a component with an index.
import { WebhookReceiver } from '../../../test/fakes/index.js';
import {
  ProviderConfigError,
  type DeliveryProvider,
  type OutgoingMessage,
  type ProviderDependencies,
} from '../provider.js';
import { webhookProvider, webhookSignature, type WebhookProviderSettings } from './webhook.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const SECRET = 'whsec_test_secret';

let now: number;
let receiver: WebhookReceiver;

beforeEach(async () => {
  now = T0;
  receiver = await WebhookReceiver.start({ secret: SECRET, now: () => now });
});

afterEach(async () => {
  await receiver.close();
});

function deps(secrets: Record<string, string> = { WEBHOOK_SECRET: SECRET }): ProviderDependencies {
  return { secrets, now: () => now, fetch };
}

function settings(overrides: Record<string, unknown> = {}): WebhookProviderSettings {
  return webhookProvider.settings.parse({
    url: receiver.url,
    signing_secret_env: 'WEBHOOK_SECRET',
    ...overrides,
  });
}

function provider(overrides: Record<string, unknown> = {}): DeliveryProvider {
  return webhookProvider.create(settings(overrides), deps());
}

function message(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: 'msg_1',
    idempotencyKey: 'idem_1',
    customerId: 'cust_1',
    channel: 'crm_hook',
    priority: 'high',
    to: ['https://crm.example.com/contacts/42'],
    subject: 'Renewal due',
    body: 'Contract renews in 30 days.',
    data: { plan: 'pro' },
    headers: {},
    ...overrides,
  };
}

const never = new AbortController().signal;

describe('webhook provider', () => {
  it('posts the message as signed JSON with every field and header', async () => {
    const hook = provider({ headers: { 'X-Api-Key': 'k-123' } });

    const result = await hook.send(message(), never);

    expect(result).toEqual({ status: 'accepted', delivered: true });
    const [delivery] = receiver.accepted.get('msg_1') ?? [];
    expect(delivery?.path).toBe('/hooks/waymark');
    expect(delivery?.json).toEqual({
      message_id: 'msg_1',
      customer_id: 'cust_1',
      channel: 'crm_hook',
      priority: 'high',
      to: ['https://crm.example.com/contacts/42'],
      subject: 'Renewal due',
      title: null,
      body: 'Contract renews in 30 days.',
      html: null,
      data: { plan: 'pro' },
    });
    expect(delivery?.headers['idempotency-key']).toBe('idem_1');
    expect(delivery?.headers['x-api-key']).toBe('k-123');
    expect(delivery?.headers['content-type']).toBe('application/json');
    const t = Math.floor(T0 / 1000);
    expect(delivery?.headers['waymark-signature']).toBe(
      webhookSignature(SECRET, t, delivery?.raw ?? ''),
    );
    expect(delivery?.headers['waymark-signature']).toMatch(new RegExp(`^t=${t},v1=[0-9a-f]{64}$`));
  });

  it('is refused by the receiver when signed with another secret (401 → system)', async () => {
    const hook = webhookProvider.create(settings(), deps({ WEBHOOK_SECRET: 'wrong' }));

    const result = await hook.send(message(), never);

    expect(result).toMatchObject({ status: 'failed', category: 'system', code: 'HTTP 401' });
    expect(receiver.refusals).toEqual(['signature mismatch']);
    expect(receiver.count('msg_1')).toBe(0);
  });

  it('signs with the injected clock, so a receiver refuses a stale timestamp', async () => {
    // The receiver keeps its own clock at T0 while the sender's moves.
    await receiver.close();
    receiver = await WebhookReceiver.start({ secret: SECRET, now: () => T0 });
    const hook = provider();
    now = T0 - 10 * 60_000;
    const stale = await hook.send(message(), never);
    now = T0;
    const fresh = await hook.send(message(), never);

    expect(stale.status).toBe('failed');
    expect(receiver.refusals).toEqual(['signature too old']);
    expect(fresh.status).toBe('accepted');
  });

  it('sends no signature without signing_secret_env', async () => {
    await receiver.close();
    receiver = await WebhookReceiver.start({ now: () => now });
    const hook = webhookProvider.create(settings({ signing_secret_env: undefined }), deps({}));

    expect((await hook.send(message(), never)).status).toBe('accepted');
    const [delivery] = receiver.accepted.get('msg_1') ?? [];
    expect(delivery?.headers['waymark-signature']).toBeUndefined();
  });

  it.each([
    [410, 'permanent', 'invalid_recipient'],
    [400, 'permanent', 'rejected'],
    [422, 'permanent', 'rejected'],
    [500, 'transient', undefined],
    [503, 'system', undefined],
    [401, 'system', undefined],
    [302, 'system', undefined],
  ] as const)('maps HTTP %s to %s', async (status, category, reason) => {
    receiver.respondNext(1, status, status === 302 ? { location: 'https://elsewhere' } : {});

    const result = await provider().send(message(), never);

    expect(result).toMatchObject({ status: 'failed', category, code: `HTTP ${status}` });
    expect(result.status === 'failed' ? result.reason : 'not failed').toBe(reason);
  });

  it('maps 429 to transient with Retry-After, and the retry is delivered once', async () => {
    receiver.rateLimitNext(1, 12);
    const hook = provider();

    const first = await hook.send(message(), never);
    const second = await hook.send(message(), never);

    expect(first).toMatchObject({ status: 'failed', category: 'transient', retryAfterMs: 12_000 });
    expect(second.status).toBe('accepted');
    expect(receiver.count('msg_1')).toBe(1);
  });

  it('passes Retry-After on a 503 too', async () => {
    receiver.respondNext(1, 503, { 'retry-after': '5' });

    const result = await provider().send(message(), never);

    expect(result).toMatchObject({ status: 'failed', category: 'system', retryAfterMs: 5000 });
  });

  it('maps a hung request aborted by the signal to transient; the retry carries the same key', async () => {
    receiver.hangNext(1);
    const hook = provider();

    const first = await hook.send(message(), AbortSignal.timeout(200));
    const second = await hook.send(message(), never);

    expect(first).toMatchObject({ status: 'failed', category: 'transient', code: 'ABORTED' });
    expect(second.status).toBe('accepted');
    const keys = receiver.accepted.get('msg_1')?.map((d) => d.headers['idempotency-key']);
    expect(keys).toEqual(['idem_1', 'idem_1']);
  });

  it('maps an unreachable endpoint to system, and delivers once it is back', async () => {
    const hook = provider();
    await receiver.down();

    const down = await hook.send(message(), never);
    await receiver.up();
    const up = await hook.send(message(), never);

    expect(down).toMatchObject({ status: 'failed', category: 'system', code: 'ECONNREFUSED' });
    expect(up.status).toBe('accepted');
  });
});

describe('webhook settings', () => {
  it.each([
    ['no url', {}],
    ['a non-http url', { url: 'ftp://example.com/hook' }],
    ['an unknown key', { url: 'https://example.com/hook', secret: 'inline' }],
    [
      'a header Waymark sets',
      { url: 'https://example.com/hook', headers: { 'Content-Type': 'text/plain' } },
    ],
    ['a malformed header name', { url: 'https://example.com/hook', headers: { 'X Bad': 'v' } }],
    [
      'a header value with a line break',
      { url: 'https://example.com/hook', headers: { 'X-A': 'v\r\nX-B: w' } },
    ],
  ])('rejects %s', (_what, input) => {
    expect(webhookProvider.settings.safeParse(input).success).toBe(false);
  });

  it('throws ProviderConfigError when the signing secret variable is not set', () => {
    expect(() => webhookProvider.create(settings(), deps({}))).toThrow(ProviderConfigError);
    expect(() => webhookProvider.create(settings(), deps({}))).toThrow(/WEBHOOK_SECRET/);
  });
});

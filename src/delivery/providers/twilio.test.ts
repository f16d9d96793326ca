import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// The fakes are shared test infrastructure, not a component with an index.
import { TwilioFake } from '../../../test/fakes/index.js';
import {
  ProviderConfigError,
  type DeliveryProvider,
  type OutgoingMessage,
  type ProviderDependencies,
} from '../provider.js';
import { twilioProvider, type TwilioSettings } from './twilio.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
const SERVICE_SID = `MG${'b2'.repeat(16)}`;
const AUTH_TOKEN = 'twilio-test-token';
const FROM = '+14155550100';

let fake: TwilioFake;

beforeEach(async () => {
  fake = await TwilioFake.start({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    invalidNumbers: ['+15005550001'],
    landlineNumbers: ['+14155550199'],
    stoppedNumbers: ['+14155550142'],
  });
});

afterEach(async () => {
  await fake.close();
});

function deps(secrets: Record<string, string> = { TWILIO_AUTH_TOKEN: AUTH_TOKEN }) {
  return { secrets, now: () => T0, fetch } satisfies ProviderDependencies;
}

function settings(overrides: Record<string, unknown> = {}): TwilioSettings {
  return twilioProvider.settings.parse({
    base_url: fake.baseUrl,
    account_sid: ACCOUNT_SID,
    from: FROM,
    ...overrides,
  });
}

/** With a status callback, so the fake can file each message under its Waymark id. */
function provider(overrides: Record<string, unknown> = {}): DeliveryProvider {
  const callback = { status_callback_url: 'https://hooks.example.com/twilio' };
  return twilioProvider.create(settings({ ...callback, ...overrides }), deps());
}

function message(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: 'msg_1',
    idempotencyKey: 'idem_1',
    customerId: 'cust_1',
    channel: 'sms',
    priority: 'normal',
    to: ['+14155550123'],
    body: 'Your code is 123456',
    data: {},
    headers: {},
    ...overrides,
  };
}

const never = new AbortController().signal;

describe('twilio provider', () => {
  it('sends one form-encoded request per recipient with every field Twilio reads', async () => {
    const sms = provider({ status_callback_url: 'https://hooks.example.com/twilio?src=sms' });

    const result = await sms.send(message(), never);

    const [sent] = fake.accepted.get('msg_1') ?? [];
    expect(result).toEqual({ status: 'accepted', providerMessageId: sent?.sid });
    expect(sent?.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(sent?.request.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(sent?.request.form).toEqual({
      To: '+14155550123',
      From: FROM,
      Body: 'Your code is 123456',
      StatusCallback: 'https://hooks.example.com/twilio?src=sms&waymark_message_id=msg_1',
    });
    expect(sent?.request.headers['i-twilio-idempotency-token']).toBe('idem_1:+14155550123');
    expect(sent?.request.headers['idempotency-key']).toBe('idem_1:+14155550123');
    expect(fake.count('msg_1')).toBe(1);
  });

  it('sends through a Messaging Service instead of a number', async () => {
    const sms = provider({
      from: undefined,
      messaging_service_sid: SERVICE_SID,
      status_callback_url: undefined,
    });

    const result = await sms.send(message(), never);

    expect(result.status).toBe('accepted');
    const request = fake.requests[0];
    expect(request?.form['MessagingServiceSid']).toBe(SERVICE_SID);
    expect(request?.form['From']).toBeUndefined();
    expect(request?.form['StatusCallback']).toBeUndefined();
  });

  it('reports partial when some recipients are accepted and others refused', async () => {
    const result = await provider().send(
      message({ to: ['+14155550123', '+15005550001', '+14155550142'] }),
      never,
    );

    expect(result).toMatchObject({
      status: 'partial',
      accepted: ['+14155550123'],
      failed: [
        { to: '+15005550001', category: 'permanent', reason: 'invalid_recipient' },
        { to: '+14155550142', category: 'permanent', reason: 'unsubscribed' },
      ],
    });
    // Each recipient has its own token, or Twilio could take the second for a replay.
    const tokens = fake.requests.map((r) => r.headers['i-twilio-idempotency-token']);
    expect(new Set(tokens).size).toBe(3);
  });

  it('fails as a whole when every recipient fails alike', async () => {
    const result = await provider().send(message({ to: ['+15005550001', 'not-a-number'] }), never);

    expect(result).toMatchObject({
      status: 'failed',
      category: 'permanent',
      reason: 'invalid_recipient',
      code: '21211',
    });
  });

  it.each([
    ['+15005550001', '21211', 'invalid_recipient'],
    ['+14155550199', '21614', 'invalid_recipient'],
    ['+14155550142', '21610', 'unsubscribed'],
  ] as const)('maps Twilio error for %s to %s / %s', async (to, code, reason) => {
    const result = await provider().send(message({ to: [to] }), never);

    expect(result).toMatchObject({ status: 'failed', category: 'permanent', reason, code });
    expect(result.status === 'failed' && result.error).toContain(`Twilio ${code}`);
    expect(fake.count('msg_1')).toBe(0);
  });

  it('maps refused credentials (20003) to system', async () => {
    const sms = twilioProvider.create(settings(), deps({ TWILIO_AUTH_TOKEN: 'wrong' }));

    const result = await sms.send(message(), never);

    expect(result).toMatchObject({ status: 'failed', category: 'system', code: '20003' });
  });

  it('maps 429 to transient with Retry-After, and the retry goes through once', async () => {
    fake.rateLimitNext(1, 7);
    const sms = provider();

    const first = await sms.send(message(), never);
    const second = await sms.send(message(), never);

    expect(first).toMatchObject({
      status: 'failed',
      category: 'transient',
      code: '20429',
      retryAfterMs: 7000,
    });
    expect(second.status).toBe('accepted');
    expect(fake.count('msg_1')).toBe(1);
  });

  it('maps 500 to transient and 503 to system', async () => {
    fake.failNext(1, 500);
    fake.failNext(1, 503);
    const sms = provider();

    expect(await sms.send(message(), never)).toMatchObject({
      status: 'failed',
      category: 'transient',
    });
    expect(await sms.send(message(), never)).toMatchObject({
      status: 'failed',
      category: 'system',
    });
    expect(fake.count('msg_1')).toBe(0);
  });

  it('maps a hung request aborted by the signal to transient; the retry carries the same token', async () => {
    fake.hangNext(1);
    const sms = provider();

    const first = await sms.send(message(), AbortSignal.timeout(200));
    const second = await sms.send(message(), never);

    expect(first).toMatchObject({ status: 'failed', category: 'transient', code: 'ABORTED' });
    expect(second.status).toBe('accepted');
    // Twilio took the message before the answer was lost: the duplicate is visible here, and
    // both requests carried the same idempotency token for a service that honours it.
    expect(fake.count('msg_1')).toBe(2);
    const tokens = fake.requests.map((r) => r.headers['i-twilio-idempotency-token']);
    expect(tokens).toEqual(['idem_1:+14155550123', 'idem_1:+14155550123']);
  });

  it('maps an unreachable service to system, and sends again once it is back', async () => {
    const sms = provider();
    await fake.down();

    const down = await sms.send(message(), never);
    await fake.up();
    const up = await sms.send(message(), never);

    expect(down).toMatchObject({ status: 'failed', category: 'system', code: 'ECONNREFUSED' });
    expect(up.status).toBe('accepted');
  });

  it('resolves an already aborted send to transient without a request', async () => {
    const controller = new AbortController();
    controller.abort();

    const result = await provider().send(message(), controller.signal);

    expect(result).toMatchObject({ status: 'failed', category: 'transient' });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('twilio settings', () => {
  it('applies the defaults', () => {
    expect(twilioProvider.settings.parse({ account_sid: ACCOUNT_SID, from: FROM })).toEqual({
      base_url: 'https://api.twilio.com',
      account_sid: ACCOUNT_SID,
      auth_token_env: 'TWILIO_AUTH_TOKEN',
      from: FROM,
    });
  });

  it.each([
    ['a malformed account SID', { account_sid: 'AC123', from: FROM }],
    ['a sender that is not E.164', { account_sid: ACCOUNT_SID, from: '0415 555 0100' }],
    [
      'both sender settings',
      { account_sid: ACCOUNT_SID, from: FROM, messaging_service_sid: SERVICE_SID },
    ],
    ['neither sender setting', { account_sid: ACCOUNT_SID }],
    ['an unknown key', { account_sid: ACCOUNT_SID, from: FROM, auth_token: 'inline' }],
    [
      'a non-http callback',
      { account_sid: ACCOUNT_SID, from: FROM, status_callback_url: 'ftp://x' },
    ],
    ['no account SID', { from: FROM }],
  ])('rejects %s', (_what, input) => {
    expect(twilioProvider.settings.safeParse(input).success).toBe(false);
  });

  it('names the unknown key', () => {
    const result = twilioProvider.settings.safeParse({
      account_sid: ACCOUNT_SID,
      from: FROM,
      auth_token: 'inline',
    });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('auth_token');
  });

  it('throws ProviderConfigError when the auth token variable is not set', () => {
    expect(() => twilioProvider.create(settings(), deps({}))).toThrow(ProviderConfigError);
    expect(() => twilioProvider.create(settings(), deps({}))).toThrow(/TWILIO_AUTH_TOKEN/);
  });
});

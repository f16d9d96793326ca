import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// The fakes are shared test infrastructure, not a component with an index.
import { FcmFake } from '../../../test/fakes/index.js';
import {
  ProviderConfigError,
  type DeliveryProvider,
  type OutgoingMessage,
  type ProviderDependencies,
} from '../provider.js';
import { fcmProvider, firebaseProvider, type FcmSettings } from './fcm.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const PROJECT = 'waymark-test';
const CLIENT_EMAIL = 'sender@waymark-test.iam.gserviceaccount.com';
const PHONE = 'phone:APA91bH-phone-token-0001';
const TABLET = 'tablet:APA91bH-tablet-token-0002';
const GONE = 'gone:APA91bH-uninstalled-0003';

/** One RSA pair for the whole file: generating keys is the slowest thing here. */
let keys: { publicKey: KeyObject; privateKey: KeyObject };
/** A key the fake does not trust. */
let strangerKey: KeyObject;
let now: number;
let fake: FcmFake;

beforeAll(() => {
  keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
});

beforeEach(async () => {
  now = T0;
  fake = await FcmFake.start({
    projectId: PROJECT,
    clientEmail: CLIENT_EMAIL,
    publicKey: keys.publicKey,
    now: () => now,
  });
  fake.unregistered.add(GONE);
});

afterEach(async () => {
  await fake.close();
});

function serviceAccountJson(privateKey: KeyObject = keys.privateKey): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: PROJECT,
    private_key_id: 'key-1',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: CLIENT_EMAIL,
    token_uri: fake.tokenUri,
  });
}

function deps(secrets: Record<string, string> = {}): ProviderDependencies {
  return {
    secrets: { GOOGLE_APPLICATION_CREDENTIALS_JSON: serviceAccountJson(), ...secrets },
    now: () => now,
    fetch,
  };
}

function settings(overrides: Record<string, unknown> = {}): FcmSettings {
  return fcmProvider.settings.parse({ base_url: fake.baseUrl, project_id: PROJECT, ...overrides });
}

function provider(overrides: Record<string, unknown> = {}): DeliveryProvider {
  return fcmProvider.create(settings(overrides), deps());
}

function message(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: 'msg_1',
    idempotencyKey: 'idem_1',
    customerId: 'cust_1',
    channel: 'push',
    priority: 'high',
    to: [PHONE],
    title: 'Your order shipped',
    body: 'It arrives Thursday.',
    data: { order_id: 'o-42' },
    headers: {},
    ...overrides,
  };
}

const never = new AbortController().signal;

describe('fcm provider', () => {
  it('signs in with the service account and sends every field FCM reads', async () => {
    const push = provider({
      platforms: { android: { priority: 'high' }, apns: { headers: { 'apns-priority': '10' } } },
    });

    const result = await push.send(message(), never);

    const [sent] = fake.accepted.get('msg_1') ?? [];
    expect(result).toEqual({ status: 'accepted', providerMessageId: sent?.name });
    expect(sent?.name).toMatch(new RegExp(`^projects/${PROJECT}/messages/`));
    expect(sent?.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
    expect(sent?.message).toEqual({
      token: PHONE,
      notification: { title: 'Your order shipped', body: 'It arrives Thursday.' },
      data: { order_id: 'o-42', waymark_message_id: 'msg_1' },
      android: { priority: 'high' },
      apns: { headers: { 'apns-priority': '10' } },
    });
    expect(fake.tokensIssued).toBe(1);
  });

  it('caches the access token until a minute before it expires', async () => {
    const push = provider();

    await push.send(message(), never);
    now = T0 + 3_600_000 - 60_001;
    await push.send(message(), never);
    expect(fake.tokensIssued).toBe(1);

    now = T0 + 3_600_000 - 60_000;
    const late = await push.send(message(), never);
    expect(late.status).toBe('accepted');
    expect(fake.tokensIssued).toBe(2);
  });

  it('shares one token request between concurrent sends', async () => {
    const push = provider();

    const results = await Promise.all([
      push.send(message(), never),
      push.send(message({ id: 'msg_2' }), never),
    ]);

    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    expect(fake.tokensIssued).toBe(1);
  });

  it('fetches a new token once when FCM refuses the cached one', async () => {
    const push = provider();
    await push.send(message(), never);
    fake.revokeAccessTokens();

    const result = await push.send(message({ id: 'msg_2' }), never);

    expect(result.status).toBe('accepted');
    expect(fake.tokensIssued).toBe(2);
    expect(fake.count('msg_2')).toBe(1);
  });

  it('maps a refused token request to system', async () => {
    const stranger = fcmProvider.create(
      settings(),
      deps({ GOOGLE_APPLICATION_CREDENTIALS_JSON: serviceAccountJson(strangerKey) }),
    );

    const result = await stranger.send(message(), never);

    expect(result).toMatchObject({ status: 'failed', category: 'system', code: 'invalid_grant' });
    expect(result.status === 'failed' && result.error).toContain('Invalid JWT Signature');
    expect(fake.tokenRefusals).toEqual(['invalid_grant']);
    expect(fake.sendRequests).toBe(0);
  });

  it('sends one request per device and reports partial when one is unregistered', async () => {
    const result = await provider().send(message({ to: [PHONE, GONE, TABLET] }), never);

    expect(result).toMatchObject({
      status: 'partial',
      accepted: [PHONE, TABLET],
      failed: [{ to: GONE, category: 'permanent', reason: 'invalid_recipient' }],
    });
    expect(fake.count('msg_1')).toBe(2);
    expect(fake.tokensIssued).toBe(1);
  });

  it.each([
    ['unregistered', GONE, 'UNREGISTERED', 'invalid_recipient'],
    ['malformed', 'not a token', 'INVALID_ARGUMENT', 'invalid_recipient'],
    ['another sender’s', 'other:APA91bH-other-sender', 'SENDER_ID_MISMATCH', 'invalid_recipient'],
  ] as const)('maps an %s device token to permanent %s', async (_what, token, code, reason) => {
    fake.otherSender.add('other:APA91bH-other-sender');

    const result = await provider().send(message({ to: [token] }), never);

    expect(result).toMatchObject({ status: 'failed', category: 'permanent', code, reason });
  });

  it('maps a payload FCM refuses to permanent rejected, not to a bad device', async () => {
    const result = await provider().send(message({ data: { from: 'shop' } }), never);

    expect(result).toMatchObject({
      status: 'failed',
      category: 'permanent',
      code: 'INVALID_ARGUMENT',
      reason: 'rejected',
    });
  });

  it('maps QUOTA_EXCEEDED to transient with Retry-After', async () => {
    fake.rateLimitNext(1, 30);

    const result = await provider().send(message(), never);

    expect(result).toMatchObject({
      status: 'failed',
      category: 'transient',
      code: 'QUOTA_EXCEEDED',
      retryAfterMs: 30_000,
    });
  });

  it.each([
    [503, 'UNAVAILABLE'],
    [500, 'INTERNAL'],
  ] as const)('maps %s %s to transient', async (status, code) => {
    fake.failNext(1, status);
    const push = provider();

    const failed = await push.send(message(), never);
    const retried = await push.send(message(), never);

    expect(failed).toMatchObject({ status: 'failed', category: 'transient', code });
    expect(retried.status).toBe('accepted');
    expect(fake.count('msg_1')).toBe(1);
  });

  it('maps a hung send aborted by the signal to transient', async () => {
    const push = provider();
    await push.send(message({ id: 'warm-up' }), never);
    fake.hangNext(1);

    const result = await push.send(message(), AbortSignal.timeout(200));

    expect(result).toMatchObject({ status: 'failed', category: 'transient', code: 'ABORTED' });
    // FCM took it before the answer was lost; a retry would deliver a second notification.
    expect(fake.count('msg_1')).toBe(1);
  });

  it('maps an unreachable service to system, and sends again once it is back', async () => {
    const push = provider();
    await push.send(message({ id: 'warm-up' }), never);
    await fake.down();

    const down = await push.send(message(), never);
    await fake.up();
    const up = await push.send(message(), never);

    expect(down).toMatchObject({ status: 'failed', category: 'system', code: 'ECONNREFUSED' });
    expect(up.status).toBe('accepted');
  });

  it('maps an unreachable token endpoint to system', async () => {
    const push = fcmProvider.create(settings({ token_uri: 'http://127.0.0.1:9/token' }), deps());

    const result = await push.send(message(), never);

    expect(result).toMatchObject({ status: 'failed', category: 'system' });
    expect(fake.sendRequests).toBe(0);
  });
});

describe('fcm settings', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-fcm-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies the defaults', () => {
    expect(fcmProvider.settings.parse({ project_id: PROJECT })).toEqual({
      base_url: 'https://fcm.googleapis.com',
      project_id: PROJECT,
    });
  });

  it.each([
    ['no project id', {}],
    ['an unknown key', { project_id: PROJECT, server_key: 'legacy' }],
    ['an unknown platform', { project_id: PROJECT, platforms: { ios: {} } }],
    [
      'both credential sources',
      { project_id: PROJECT, credentials_env: 'A', credentials_file: '/k.json' },
    ],
    ['a non-http token_uri', { project_id: PROJECT, token_uri: 'file:///etc/token' }],
    ['a project id with a slash', { project_id: 'a/b' }],
  ])('rejects %s', (_what, input) => {
    expect(fcmProvider.settings.safeParse(input).success).toBe(false);
  });

  it('reads the key from credentials_file when the provider is built', async () => {
    const file = join(dir, 'key.json');
    writeFileSync(file, serviceAccountJson());
    const push = fcmProvider.create(settings({ credentials_file: file }), {
      secrets: {},
      now: () => now,
      fetch,
    });

    expect((await push.send(message(), never)).status).toBe('accepted');
  });

  it('throws ProviderConfigError for a missing variable, file, or malformed key', () => {
    const build =
      (overrides: Record<string, unknown>, secrets: Record<string, string> = {}) =>
      () =>
        fcmProvider.create(settings(overrides), { secrets, now: () => now, fetch });

    expect(build({})).toThrow(ProviderConfigError);
    expect(build({})).toThrow(/GOOGLE_APPLICATION_CREDENTIALS_JSON/);
    expect(build({ credentials_env: 'FCM_KEY' })).toThrow(/FCM_KEY/);
    expect(build({ credentials_file: join(dir, 'missing.json') })).toThrow(ProviderConfigError);
    expect(build({ credentials_env: 'FCM_KEY' }, { FCM_KEY: '{not json' })).toThrow(
      ProviderConfigError,
    );
    expect(build({ credentials_env: 'FCM_KEY' }, { FCM_KEY: '{"client_email":"x"}' })).toThrow(
      /private_key/,
    );
    const badPem = JSON.stringify({ client_email: 'x', private_key: 'nope' });
    expect(build({ credentials_env: 'FCM_KEY' }, { FCM_KEY: badPem })).toThrow(/PEM/);
  });

  it('is also available as provider kind firebase', async () => {
    expect(firebaseProvider.kind).toBe('firebase');
    expect(firebaseProvider.channelTypes).toEqual(['push']);
    const push = firebaseProvider.create(settings(), deps());
    expect(push.kind).toBe('firebase');
    expect((await push.send(message(), never)).status).toBe('accepted');
    expect(() =>
      firebaseProvider.create(settings(), { secrets: {}, now: () => now, fetch }),
    ).toThrow(/^firebase:/);
  });
});

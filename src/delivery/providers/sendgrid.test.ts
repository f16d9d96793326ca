import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { SendgridFake } from '../../../test/fakes/index.js';
import {
  ProviderConfigError,
  type OutgoingMessage,
  type ProviderDependencies,
} from '../provider.js';
import { sendgridProvider } from './sendgrid.js';

const API_KEY = 'SG.test-key';
/** A fixed "now" so `X-RateLimit-Reset` gives an exact delay. */
const NOW = 1_700_000_000_000;

const deps: ProviderDependencies = {
  secrets: { SENDGRID_API_KEY: API_KEY, OTHER_KEY: 'SG.wrong-key' },
  now: () => NOW,
  fetch: globalThis.fetch,
};

function message(id: string, overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id,
    idempotencyKey: `idem-${id}`,
    customerId: 'cust-42',
    channel: 'email',
    priority: 'high',
    to: ['ada@example.com'],
    subject: 'Your trial ends soon',
    body: 'Hello Ada, your trial ends on Friday.',
    html: '<p>Hello <b>Ada</b></p>',
    data: { campaign: 'trial-end' },
    headers: { 'List-Unsubscribe': '<mailto:unsubscribe@example.com>' },
    ...overrides,
  };
}

function never(): AbortSignal {
  return new AbortController().signal;
}

describe('sendgrid provider', () => {
  let fake: SendgridFake;

  function provider(settings: Record<string, unknown> = {}) {
    const parsed = sendgridProvider.settings.parse({
      base_url: fake.baseUrl,
      from: 'noreply@example.com',
      ...settings,
    });
    return sendgridProvider.create(parsed, deps);
  }

  beforeAll(async () => {
    fake = await SendgridFake.create({ apiKey: API_KEY });
  });
  afterEach(() => {
    fake.reset();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('sends the documented Mail Send body and takes X-Message-Id', async () => {
    const result = await provider({ from_name: 'Acme' }).send(
      message('msg-all-fields', { to: ['ada@example.com', 'bob@example.com'] }),
      never(),
    );
    const accepted = fake.accepted.find((a) => a.waymarkId === 'msg-all-fields')!;
    expect(result).toEqual({ status: 'accepted', providerMessageId: accepted.messageId });
    expect(accepted.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(accepted.headers['content-type']).toBe('application/json');
    expect(accepted.idempotencyKey).toBe('idem-msg-all-fields');
    expect(accepted.to).toEqual(['ada@example.com', 'bob@example.com']);
    expect(accepted.sandbox).toBe(false);
    expect(accepted.body).toEqual({
      personalizations: [
        {
          to: [{ email: 'ada@example.com' }, { email: 'bob@example.com' }],
          custom_args: { waymark_message_id: 'msg-all-fields', waymark_customer_id: 'cust-42' },
        },
      ],
      from: { email: 'noreply@example.com', name: 'Acme' },
      subject: 'Your trial ends soon',
      content: [
        { type: 'text/plain', value: 'Hello Ada, your trial ends on Friday.' },
        { type: 'text/html', value: '<p>Hello <b>Ada</b></p>' },
      ],
      headers: { 'List-Unsubscribe': '<mailto:unsubscribe@example.com>' },
      custom_args: { campaign: 'trial-end' },
    });
  });

  it('sends text only, without a display name, and drops headers SendGrid reserves', async () => {
    const result = await provider().send(
      message('msg-text-only', {
        html: undefined,
        data: {},
        headers: { 'Reply-To': 'x@example.com', 'X-Campaign': 'trial' },
      }),
      never(),
    );
    expect(result.status).toBe('accepted');
    const body = fake.accepted.find((a) => a.waymarkId === 'msg-text-only')!.body;
    expect(body['from']).toEqual({ email: 'noreply@example.com' });
    expect(body['content']).toEqual([
      { type: 'text/plain', value: 'Hello Ada, your trial ends on Friday.' },
    ]);
    expect(body['headers']).toEqual({ 'X-Campaign': 'trial' });
    expect(body['custom_args']).toBeUndefined();
  });

  it('asks for sandbox mode when configured', async () => {
    const result = await provider({ sandbox: true }).send(message('msg-sandbox'), never());
    expect(result).toEqual({ status: 'accepted', providerMessageId: undefined });
    const accepted = fake.accepted.find((a) => a.waymarkId === 'msg-sandbox')!;
    expect(accepted.sandbox).toBe(true);
    expect(accepted.body['mail_settings']).toEqual({ sandbox_mode: { enable: true } });
  });

  it('maps a 400 on a recipient field to permanent invalid_recipient, with SendGrid’s text', async () => {
    const result = await provider().send(
      message('msg-bad-to', { to: ['not-an-address'] }),
      never(),
    );
    expect(result).toEqual({
      status: 'failed',
      category: 'permanent',
      reason: 'invalid_recipient',
      code: 'HTTP 400',
      error: 'SendGrid HTTP 400: personalizations.0.to.0.email: Does not contain a valid address.',
    });
    expect(fake.countOf('msg-bad-to')).toBe(0);
  });

  it('maps any other 400 to permanent rejected', async () => {
    const result = await provider().send(
      message('msg-no-subject', { subject: undefined }),
      never(),
    );
    expect(result).toMatchObject({
      status: 'failed',
      category: 'permanent',
      reason: 'rejected',
      code: 'HTTP 400',
      error: expect.stringContaining('subject: The subject is required.'),
    });
  });

  it('maps a body over the size limit (413) to permanent rejected', async () => {
    const small = await SendgridFake.create({ apiKey: API_KEY, maxBodyBytes: 256 });
    try {
      const parsed = sendgridProvider.settings.parse({
        base_url: small.baseUrl,
        from: 'noreply@example.com',
      });
      const result = await sendgridProvider
        .create(parsed, deps)
        .send(message('msg-413', { html: `<p>${'x'.repeat(1_000)}</p>` }), never());
      expect(result).toMatchObject({
        status: 'failed',
        category: 'permanent',
        reason: 'rejected',
        code: 'HTTP 413',
      });
    } finally {
      await small.close();
    }
  });

  it('maps a wrong key (401) to system', async () => {
    const result = await provider({ api_key_env: 'OTHER_KEY' }).send(message('msg-401'), never());
    expect(result).toMatchObject({
      status: 'failed',
      category: 'system',
      code: 'HTTP 401',
      error: expect.stringContaining('authorization grant is invalid'),
    });
  });

  it('maps 429 to transient after Retry-After', async () => {
    fake.rateLimit(1, { retryAfterSeconds: 7, resetEpochSeconds: NOW / 1000 + 60 });
    const result = await provider().send(message('msg-429-retry-after'), never());
    expect(result).toMatchObject({
      status: 'failed',
      category: 'transient',
      code: 'HTTP 429',
      retryAfterMs: 7_000,
      error: 'SendGrid HTTP 429: too many requests',
    });
  });

  it('maps 429 without Retry-After to the X-RateLimit-Reset instant, from the injected now', async () => {
    const smtp = provider();
    fake.rateLimit(1, { resetEpochSeconds: NOW / 1000 + 42 });
    const limited = await smtp.send(message('msg-429-reset'), never());
    expect(limited).toMatchObject({
      status: 'failed',
      category: 'transient',
      retryAfterMs: 42_000,
    });
    // The limit was for one request: the retry goes through, once.
    const retried = await smtp.send(message('msg-429-reset'), never());
    expect(retried.status).toBe('accepted');
    expect(fake.counts().get('msg-429-reset')).toBe(1);
  });

  it('maps 500 to transient', async () => {
    fake.failWith(500, 1);
    const result = await provider().send(message('msg-500'), never());
    expect(result).toMatchObject({ status: 'failed', category: 'transient', code: 'HTTP 500' });
    expect(fake.countOf('msg-500')).toBe(0);
  });

  it('maps 503 to system', async () => {
    fake.failWith(503, 1);
    const result = await provider().send(message('msg-503'), never());
    expect(result).toMatchObject({ status: 'failed', category: 'system', code: 'HTTP 503' });
  });

  it('resolves a hung request to transient when the signal aborts', async () => {
    fake.hang();
    const result = await provider().send(message('msg-hang'), AbortSignal.timeout(200));
    expect(result).toMatchObject({ status: 'failed', category: 'transient', code: 'ABORT_ERR' });
    expect(fake.countOf('msg-hang')).toBe(0);
  });

  it('does not send when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const before = fake.requestCount;
    const result = await provider().send(message('msg-pre-aborted'), controller.signal);
    expect(result).toMatchObject({ status: 'failed', category: 'transient' });
    expect(fake.requestCount).toBe(before);
  });

  it('maps a refused connection to system, and sends again once the service is back', async () => {
    // A fake of its own: fetch holds no kept-alive socket to it, so the refusal is what is seen
    // (a kept-alive socket the server dropped is a different, transient failure).
    const down = await SendgridFake.create({ apiKey: API_KEY });
    try {
      const parsed = sendgridProvider.settings.parse({
        base_url: down.baseUrl,
        from: 'noreply@example.com',
      });
      const sendgrid = sendgridProvider.create(parsed, deps);
      await down.stop();
      const refused = await sendgrid.send(message('msg-down'), never());
      expect(refused).toMatchObject({ status: 'failed', category: 'system', code: 'ECONNREFUSED' });
      await down.start();
      expect((await sendgrid.send(message('msg-down'), never())).status).toBe('accepted');
      expect(down.countOf('msg-down')).toBe(1);
    } finally {
      await down.close();
    }
  });

  it('maps a base_url that is not SendGrid (404) to system', async () => {
    const result = await provider({ base_url: `${fake.baseUrl}/not-sendgrid` }).send(
      message('msg-404'),
      never(),
    );
    expect(result).toMatchObject({ status: 'failed', category: 'system', code: 'HTTP 404' });
  });

  describe('settings', () => {
    it('applies the defaults', () => {
      expect(sendgridProvider.settings.parse({ from: 'noreply@example.com' })).toEqual({
        base_url: 'https://api.sendgrid.com',
        api_key_env: 'SENDGRID_API_KEY',
        from: 'noreply@example.com',
        sandbox: false,
      });
    });

    it.each([
      ['missing from', {}, 'from'],
      [
        'from with a display name (from_name is separate)',
        { from: 'Acme <a@example.com>' },
        'from',
      ],
      ['base_url that is not http(s)', { from: 'a@example.com', base_url: 'ftp://x' }, 'base_url'],
      ['unknown key', { from: 'a@example.com', apikey: 'x' }, ''],
    ])('rejects %s', (_name, input, path) => {
      const parsed = sendgridProvider.settings.safeParse(input);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
    });

    it('throws ProviderConfigError when the key variable is not set', () => {
      const settings = sendgridProvider.settings.parse({
        from: 'a@example.com',
        api_key_env: 'SENDGRID_KEY_MISSING',
      });
      expect(() => sendgridProvider.create(settings, deps)).toThrow(ProviderConfigError);
      expect(() => sendgridProvider.create(settings, deps)).toThrow(/SENDGRID_KEY_MISSING/);
    });
  });
});

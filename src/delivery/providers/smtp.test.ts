import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { SmtpFake } from '../../../test/fakes/index.js';
import {
  ProviderConfigError,
  type DeliveryProvider,
  type OutgoingMessage,
  type ProviderDependencies,
} from '../provider.js';
import { smtpProvider, type SmtpSettings } from './smtp.js';

const deps: ProviderDependencies = {
  secrets: { SMTP_PASSWORD: 'correct horse' },
  now: () => 1_700_000_000_000,
  fetch: globalThis.fetch,
};

function message(
  id: string,
  to: string[],
  overrides: Partial<OutgoingMessage> = {},
): OutgoingMessage {
  return {
    id,
    idempotencyKey: `idem-${id}`,
    customerId: 'cust-1',
    channel: 'email',
    priority: 'normal',
    to,
    subject: 'Your trial ends soon',
    body: 'Hello Ada, your trial ends on Friday.',
    html: '<p>Hello <b>Ada</b>, your trial ends on Friday.</p>',
    data: {},
    headers: { 'List-Unsubscribe': '<mailto:unsubscribe@example.com>' },
    ...overrides,
  };
}

function never(): AbortSignal {
  return new AbortController().signal;
}

describe('smtp provider', () => {
  let fake: SmtpFake;
  const providers: DeliveryProvider[] = [];

  /** A provider against the fake; closed after the test. */
  function provider(settings: Record<string, unknown> = {}) {
    const parsed: SmtpSettings = smtpProvider.settings.parse({
      host: '127.0.0.1',
      port: fake.port,
      from: 'Waymark <noreply@example.com>',
      ...settings,
    });
    const created = smtpProvider.create(parsed, deps);
    providers.push(created);
    return created;
  }

  beforeAll(async () => {
    fake = await SmtpFake.create();
  });
  afterEach(async () => {
    for (const created of providers.splice(0)) await created.close?.();
    fake.reset();
    await fake.start();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('delivers every field in one transaction to all recipients', async () => {
    const result = await provider().send(
      message('msg-all-fields', ['ada@example.com', 'bob@example.com']),
      never(),
    );
    expect(result).toEqual({ status: 'accepted', providerMessageId: '<msg-all-fields@waymark>' });
    expect(fake.countOf('msg-all-fields')).toBe(1);
    const mail = fake.received.find((m) => m.waymarkId === 'msg-all-fields')!;
    expect(mail.from).toBe('noreply@example.com');
    expect(mail.to).toEqual(['ada@example.com', 'bob@example.com']);
    expect(mail.headers.get('from')).toBe('Waymark <noreply@example.com>');
    expect(mail.headers.get('to')).toBe('ada@example.com, bob@example.com');
    expect(mail.headers.get('subject')).toBe('Your trial ends soon');
    expect(mail.headers.get('message-id')).toBe('<msg-all-fields@waymark>');
    expect(mail.headers.get('x-waymark-idempotency-key')).toBe('idem-msg-all-fields');
    expect(mail.headers.get('list-unsubscribe')).toBe('<mailto:unsubscribe@example.com>');
    expect(mail.text).toBe('Hello Ada, your trial ends on Friday.');
    expect(mail.html).toBe('<p>Hello <b>Ada</b>, your trial ends on Friday.</p>');
  });

  it('sends a text-only message without pooling', async () => {
    const result = await provider({ pool: false }).send(
      message('msg-text-only', ['ada@example.com'], { html: undefined }),
      never(),
    );
    expect(result.status).toBe('accepted');
    const mail = fake.received.find((m) => m.waymarkId === 'msg-text-only')!;
    expect(mail.text).toBe('Hello Ada, your trial ends on Friday.');
    expect(mail.html).toBeUndefined();
  });

  it('does not let template headers override the envelope or the Message-ID', async () => {
    const result = await provider().send(
      message('msg-headers', ['ada@example.com'], {
        headers: { Bcc: 'spy@example.com', 'Message-ID': '<other@x>', 'X-Campaign': 'trial' },
      }),
      never(),
    );
    expect(result.status).toBe('accepted');
    const mail = fake.received.find((m) => m.waymarkId === 'msg-headers')!;
    expect(mail.to).toEqual(['ada@example.com']);
    expect(mail.headers.get('message-id')).toBe('<msg-headers@waymark>');
    expect(mail.headers.get('x-campaign')).toBe('trial');
  });

  it('reports refused recipients as partial, with the others accepted', async () => {
    fake.rejectRecipients('gone@example.com');
    const result = await provider().send(
      // Mixed case: the relay's view of the address is matched back to the message's own spelling.
      message('msg-partial', ['ada@example.com', 'Gone@Example.COM']),
      never(),
    );
    expect(result).toMatchObject({
      status: 'partial',
      providerMessageId: '<msg-partial@waymark>',
      accepted: ['ada@example.com'],
      failed: [
        {
          to: 'Gone@Example.COM',
          category: 'permanent',
          reason: 'invalid_recipient',
          error: expect.stringContaining('550'),
        },
      ],
    });
    const mail = fake.received.find((m) => m.waymarkId === 'msg-partial')!;
    expect(mail.to).toEqual(['ada@example.com']);
  });

  it('names each refused recipient with its own category', async () => {
    fake.rejectRecipients('gone@example.com');
    fake.deferRecipients('busy@example.com');
    const result = await provider().send(
      message('msg-mixed', ['ada@example.com', 'gone@example.com', 'busy@example.com']),
      never(),
    );
    expect(result).toMatchObject({
      status: 'partial',
      accepted: ['ada@example.com'],
      failed: [
        { to: 'gone@example.com', category: 'permanent', reason: 'invalid_recipient' },
        { to: 'busy@example.com', category: 'transient', error: expect.stringContaining('450') },
      ],
    });
  });

  it('reports all recipients refused for different reasons as partial with none accepted', async () => {
    fake.rejectRecipients('gone@example.com');
    fake.deferRecipients('busy@example.com');
    const result = await provider().send(
      message('msg-none', ['gone@example.com', 'busy@example.com']),
      never(),
    );
    expect(result).toMatchObject({
      status: 'partial',
      accepted: [],
      failed: [
        { to: 'gone@example.com', category: 'permanent', reason: 'invalid_recipient' },
        { to: 'busy@example.com', category: 'transient' },
      ],
    });
    expect(fake.countOf('msg-none')).toBe(0);
  });

  it('maps a refused sole recipient (550) to permanent invalid_recipient', async () => {
    fake.rejectRecipients('gone@example.com');
    const result = await provider().send(message('msg-550', ['gone@example.com']), never());
    expect(result).toMatchObject({
      status: 'failed',
      category: 'permanent',
      reason: 'invalid_recipient',
      code: '550',
    });
    expect(fake.countOf('msg-550')).toBe(0);
  });

  it('maps 451 to transient, and the retry is delivered once', async () => {
    const smtp = provider();
    fake.failTemporarily(1);
    const first = await smtp.send(message('msg-451', ['ada@example.com']), never());
    expect(first).toMatchObject({ status: 'failed', category: 'transient', code: '451' });
    const second = await smtp.send(message('msg-451', ['ada@example.com']), never());
    expect(second.status).toBe('accepted');
    expect(fake.counts().get('msg-451')).toBe(1);
  });

  it('authenticates with the password from the secret source', async () => {
    fake.requireAuth({ user: 'mailer', pass: 'correct horse' });
    const result = await provider({ user: 'mailer', password_env: 'SMTP_PASSWORD' }).send(
      message('msg-auth', ['ada@example.com']),
      never(),
    );
    expect(result.status).toBe('accepted');
    expect(fake.received.find((m) => m.waymarkId === 'msg-auth')?.user).toBe('mailer');
  });

  it('maps refused credentials (535) to system', async () => {
    fake.requireAuth({ user: 'mailer', pass: 'another password' });
    const result = await provider({ user: 'mailer', password_env: 'SMTP_PASSWORD' }).send(
      message('msg-535', ['ada@example.com']),
      never(),
    );
    expect(result).toMatchObject({ status: 'failed', category: 'system', code: '535' });
  });

  it('maps "authentication required" (530) to system', async () => {
    fake.requireAuth({ user: 'mailer', pass: 'correct horse' });
    const result = await provider().send(message('msg-530', ['ada@example.com']), never());
    expect(result).toMatchObject({ status: 'failed', category: 'system', code: '530' });
  });

  it('maps require_tls against a relay without STARTTLS to system', async () => {
    const result = await provider({ require_tls: true }).send(
      message('msg-notls', ['ada@example.com']),
      never(),
    );
    expect(result).toMatchObject({ status: 'failed', category: 'system' });
    expect(fake.countOf('msg-notls')).toBe(0);
  });

  it('resolves a hung transaction to transient when the signal aborts', async () => {
    fake.hang();
    const result = await provider().send(
      message('msg-hang', ['ada@example.com']),
      AbortSignal.timeout(200),
    );
    expect(result).toMatchObject({ status: 'failed', category: 'transient', code: 'ABORT_ERR' });
    // The server never said 250, so nothing was delivered; releasing it must not throw anywhere.
    fake.hang(false);
    expect(fake.countOf('msg-hang')).toBe(0);
  });

  it('maps a connection dropped mid-transaction to transient', async () => {
    fake.hang();
    const sending = provider().send(message('msg-dropped', ['ada@example.com']), never());
    // Wait until the message is with the server, then take the server away under it.
    await expect.poll(() => fake.pendingCount).toBe(1);
    await fake.stop();
    expect(await sending).toMatchObject({
      status: 'failed',
      category: 'transient',
      code: 'ECONNECTION',
    });
    expect(fake.countOf('msg-dropped')).toBe(0);
  });

  it('does not contact the server when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await provider().send(
      message('msg-pre-aborted', ['ada@example.com']),
      controller.signal,
    );
    expect(result).toMatchObject({ status: 'failed', category: 'transient' });
    expect(fake.countOf('msg-pre-aborted')).toBe(0);
  });

  it('maps a refused connection to system', async () => {
    await fake.stop();
    const result = await provider().send(message('msg-down', ['ada@example.com']), never());
    expect(result).toMatchObject({ status: 'failed', category: 'system', code: 'ECONNREFUSED' });
  });

  it('maps an unknown host to system', async () => {
    const result = await provider({ host: 'no-such-host.invalid' }).send(
      message('msg-dns', ['ada@example.com']),
      never(),
    );
    expect(result).toMatchObject({ status: 'failed', category: 'system' });
  });

  it('answers system after close instead of waiting forever', async () => {
    const smtp = provider();
    await smtp.close?.();
    await smtp.close?.();
    const result = await smtp.send(message('msg-closed', ['ada@example.com']), never());
    expect(result).toMatchObject({ status: 'failed', category: 'system' });
  });

  describe('settings', () => {
    const base = { host: 'smtp.example.com', from: 'noreply@example.com' };

    it('applies the defaults', () => {
      expect(smtpProvider.settings.parse(base)).toEqual({
        ...base,
        port: 587,
        secure: false,
        require_tls: false,
        pool: true,
        max_connections: 5,
        tls_reject_unauthorized: true,
      });
    });

    it('accepts a display name in from', () => {
      expect(
        smtpProvider.settings.safeParse({ ...base, from: 'Acme <a@example.com>' }).success,
      ).toBe(true);
    });

    it.each([
      ['missing from', { host: 'smtp.example.com' }, 'from'],
      ['malformed from', { ...base, from: 'not an address' }, 'from'],
      ['port out of range', { ...base, port: 70_000 }, 'port'],
      ['port as text', { ...base, port: 'twenty-five' }, 'port'],
      ['unknown key', { ...base, hostname: 'x' }, ''],
      ['user without password_env', { ...base, user: 'mailer' }, 'password_env'],
    ])('rejects %s', (_name, input, path) => {
      const parsed = smtpProvider.settings.safeParse(input);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
    });

    it('throws ProviderConfigError when the password variable is not set', () => {
      const settings = smtpProvider.settings.parse({
        ...base,
        user: 'mailer',
        password_env: 'SMTP_PASSWORD_MISSING',
      });
      expect(() => smtpProvider.create(settings, deps)).toThrow(ProviderConfigError);
      expect(() => smtpProvider.create(settings, deps)).toThrow(/SMTP_PASSWORD_MISSING/);
    });
  });
});

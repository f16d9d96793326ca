/**
 * Delivery under provider faults, end to end: the engine on a real store, journeys sending through
 * the configured providers to loopback fakes that speak SendGrid's and Twilio's formats. Time is
 * virtual (retries and circuit breakers read the engine's clock); the HTTP is real.
 *
 * Every scenario ends with the same ledger check: each message is delivered, fallen back or
 * dead-lettered — none lost — and no fake received any message id twice.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../src/config/index.js';
import { VirtualClock, sequentialIds, type MessageRecord, type Store } from '../src/core/index.js';
import { retryDeadLetter } from '../src/delivery/index.js';
import { Engine } from '../src/engine/index.js';
import { openStore } from '../src/store/index.js';
import { SendgridFake, TwilioFake } from './fakes/index.js';

const T0 = Date.parse('2026-04-01T12:00:00Z');
const ACCOUNT = `AC${'0'.repeat(32)}`;
const SECRETS = { PRIMARY_KEY: 'sg-primary', BACKUP_KEY: 'sg-backup', TWILIO_TOKEN: 'tw-token' };

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function sendgrid(apiKey: string): Promise<SendgridFake> {
  const fake = await SendgridFake.create({ apiKey });
  open.push(fake);
  return fake;
}

async function twilio(
  options: { invalidNumbers?: string[]; stoppedNumbers?: string[] } = {},
): Promise<TwilioFake> {
  const fake = await TwilioFake.start({
    accountSid: ACCOUNT,
    authToken: SECRETS.TWILIO_TOKEN,
    ...options,
  });
  open.push(fake);
  return fake;
}

function config(channels: string): string {
  return `
channels:
${channels}
journeys:
  - id: welcome
    entry: { event: signed_up }
    stages:
      - id: start
        steps:
          - { id: hello, type: send, channel: email, content: { subject: "Welcome", body: "Hello {{customer.id}}" } }
`;
}

async function engineFor(
  yaml: string,
): Promise<{ engine: Engine; clock: VirtualClock; store: Store }> {
  const clock = new VirtualClock(T0);
  const store = await openStore({ file: ':memory:' });
  const engine = await Engine.open({
    config: loadConfigFromString(yaml, 'faults.yaml'),
    store,
    clock,
    ids: sequentialIds(),
    delivery: 'configured',
    secrets: SECRETS,
  });
  open.push(engine);
  return { engine, clock, store };
}

async function signUp(engine: Engine, clock: VirtualClock, ids: string[], phone = true) {
  await engine.ingest(
    ids.map((id) => ({
      type: 'customer.created',
      customerId: id,
      occurredAt: clock.now(),
      payload: {
        properties: {
          email: `${id}@example.com`,
          ...(phone ? { phone: `+1555${id.replace(/\D/g, '').padStart(7, '0')}` } : {}),
        },
      },
    })),
  );
  await engine.ingest(
    ids.map((id) => ({ type: 'signed_up', customerId: id, occurredAt: clock.now(), payload: {} })),
  );
}

/** Runs the engine, jumping the clock to each next retry, until nothing is left to send. */
async function settle(engine: Engine, clock: VirtualClock, store: Store): Promise<void> {
  for (let round = 0; round < 500; round++) {
    await engine.runUntilIdle();
    const next = await store.nextOutboxAvailableAt();
    if (next === null) return;
    clock.set(Math.max(next, clock.now()));
  }
  throw new Error('delivery did not settle');
}

async function allMessages(store: Store): Promise<MessageRecord[]> {
  return (await store.listMessages({ limit: 1000 })).items;
}

async function eventsOf(store: Store, type: string) {
  return (await store.listJourneyEvents({ type, limit: 1000 })).items;
}

/** Every message id reached the fakes at most once, summed over all of them. */
function expectNoDuplicates(...counts: Map<string, number>[]): void {
  const total = new Map<string, number>();
  for (const c of counts) for (const [id, n] of c) total.set(id, (total.get(id) ?? 0) + n);
  expect([...total].filter(([, n]) => n > 1)).toEqual([]);
}

function twilioCounts(fake: TwilioFake, messages: MessageRecord[]): Map<string, number> {
  return new Map(messages.map((m) => [m.id, fake.count(m.id)]));
}

describe('delivery under provider faults', () => {
  it('fails over while the primary is down, opens its circuit, and goes back to it after recovery', async () => {
    const primary = await sendgrid('sg-primary');
    const backup = await sendgrid('sg-backup');
    const { engine, clock, store } = await engineFor(
      config(`
  email:
    providers:
      - { name: primary, provider: sendgrid, settings: { base_url: "${primary.baseUrl}", api_key_env: PRIMARY_KEY, from: "hi@acme.example" } }
      - { name: backup, provider: sendgrid, settings: { base_url: "${backup.baseUrl}", api_key_env: BACKUP_KEY, from: "hi@acme.example" } }
    circuit_breaker: { consecutive_failures: 3, half_open_after: 60s }
`),
    );
    const route = engine.routes.get('email');
    await primary.stop();
    await signUp(engine, clock, ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    await settle(engine, clock, store);
    expect(route?.health().map((p) => [p.provider, p.circuit])).toEqual([
      ['primary', 'open'],
      ['backup', 'closed'],
    ]);
    expect(backup.receivedIds()).toHaveLength(6);
    expect(primary.receivedIds()).toHaveLength(0);

    // A minute later the primary is back; the first send after the open period is the probe.
    await primary.start();
    clock.advance(60_000);
    await signUp(engine, clock, ['b1']);
    await settle(engine, clock, store);
    expect(route?.health().map((p) => p.circuit)).toEqual(['closed', 'closed']);
    await signUp(engine, clock, ['c1', 'c2', 'c3']);
    await settle(engine, clock, store);
    expect(primary.receivedIds()).toHaveLength(4);

    const messages = await allMessages(store);
    expect(messages).toHaveLength(10);
    expect(messages.every((m) => m.status === 'sent')).toBe(true);
    const byProvider = (name: string) => messages.filter((m) => m.provider === name).length;
    expect([byProvider('primary'), byProvider('backup')]).toEqual([4, 6]);
    expectNoDuplicates(primary.counts(), backup.counts());
  });

  it('retries 429 after Retry-After, 500s by the backoff and timeouts, and sends each message once', async () => {
    const provider = await sendgrid('sg-primary');
    const { engine, clock, store } = await engineFor(
      config(`
  email:
    provider: sendgrid
    settings: { base_url: "${provider.baseUrl}", api_key_env: PRIMARY_KEY, from: "hi@acme.example" }
    timeout: 1s
    retry_policy: { max_attempts: 6, backoff: { type: exponential, initial_delay: 30s, multiplier: 2 } }
    circuit_breaker: { consecutive_failures: 100 }
`),
    );
    provider.rateLimit(1, { retryAfterSeconds: 20 });
    await signUp(engine, clock, ['r1']);
    await settle(engine, clock, store);
    provider.failWith(500, 2);
    await signUp(engine, clock, ['s1']);
    await settle(engine, clock, store);
    provider.hang(true);
    await signUp(engine, clock, ['h1']);
    await engine.runUntilIdle();
    provider.hang(false);
    await settle(engine, clock, store);

    const retries = await eventsOf(store, 'message.retry_scheduled');
    const gaps = retries.map((e) => [
      e.customerId,
      e.data['category'],
      Date.parse(e.data['next_attempt_at'] as string) - e.timestamp,
    ]);
    expect(gaps).toEqual([
      ['r1', 'transient', 20_000],
      ['s1', 'transient', 30_000],
      ['s1', 'transient', 60_000],
      ['h1', 'transient', 30_000],
    ]);
    const messages = await allMessages(store);
    expect(messages.map((m) => [m.customerId, m.status, m.attempts])).toEqual([
      ['r1', 'sent', 2],
      ['s1', 'sent', 3],
      ['h1', 'sent', 2],
    ]);
    expectNoDuplicates(provider.counts());
    expect(provider.receivedIds().sort()).toEqual(messages.map((m) => m.id).sort());
  });

  /** SendGrid falling back to Twilio, which refuses the phone number +15550000002. */
  async function emailFallingBackToSms() {
    const email = await sendgrid('sg-primary');
    const sms = await twilio({ invalidNumbers: ['+15550000002'] });
    const opened = await engineFor(
      config(`
  email:
    provider: sendgrid
    settings: { base_url: "${email.baseUrl}", api_key_env: PRIMARY_KEY, from: "hi@acme.example" }
    fallback: sms
  sms:
    provider: twilio
    settings: { base_url: "${sms.baseUrl}", account_sid: "${ACCOUNT}", auth_token_env: TWILIO_TOKEN, from: "+15550009999", status_callback_url: "http://127.0.0.1:9/status" }
`),
    );
    return { email, sms, ...opened };
  }

  it('falls back to SMS on a permanent e-mail failure, dead-letters what SMS cannot send, and retries it after the data is fixed', async () => {
    const { email, sms, engine, clock, store } = await emailFallingBackToSms();
    // u1: a malformed address SendGrid refuses, a good phone. u2: both bad.
    await engine.ingest([
      {
        type: 'customer.created',
        customerId: 'u1',
        occurredAt: T0,
        payload: { properties: { email: 'not-an-address', phone: '+15550000001' } },
      },
      {
        type: 'customer.created',
        customerId: 'u2',
        occurredAt: T0,
        payload: { properties: { email: 'also bad', phone: '+15550000002' } },
      },
      { type: 'signed_up', customerId: 'u1', occurredAt: T0, payload: {} },
      { type: 'signed_up', customerId: 'u2', occurredAt: T0, payload: {} },
    ]);
    await settle(engine, clock, store);

    const messages = await allMessages(store);
    expect(messages.map((m) => [m.customerId, m.channel, m.status])).toEqual([
      ['u1', 'email', 'failed'],
      ['u2', 'email', 'failed'],
      ['u1', 'sms', 'sent'],
      ['u2', 'sms', 'dead_lettered'],
    ]);
    const failed = await eventsOf(store, 'message.failed');
    expect(failed.map((e) => [e.customerId, e.data['category'], e.data['fallback']])).toEqual([
      ['u1', 'permanent', 'sms'],
      ['u2', 'permanent', 'sms'],
    ]);
    const [dead] = (await store.listDeadLetters({ limit: 10 })).items;
    expect(dead).toMatchObject({ customerId: 'u2', channel: 'sms', status: 'pending_review' });
    expect(dead?.originalMessage['tried']).toEqual(['email', 'sms']);
    const alerts = await store.listAlerts({ limit: 10 });
    expect(alerts.map((a) => a.data['type'])).toEqual(['dead_letter']);
    // The refusals taught the profiles: a bounce stamp per refused channel (cooldowns read it).
    const fatigueOf = async (id: string) => (await store.getCustomer(id))?.attributes['fatigue'];
    expect(Object.keys((await fatigueOf('u1')) as object)).toEqual(['email']);
    expect(Object.keys((await fatigueOf('u2')) as object).sort()).toEqual(['email', 'sms']);

    // Fix the phone number, then retry: the processor reads the profile afresh.
    await engine.ingest([
      {
        type: 'customer.updated',
        customerId: 'u2',
        occurredAt: clock.now(),
        payload: { changes: { phone: '+15550000003' } },
      },
    ]);
    await settle(engine, clock, store);
    const { retryMessageId } = await retryDeadLetter(store, dead?.id ?? '', {
      now: clock.now(),
      ids: engine.ids,
    });
    await settle(engine, clock, store);
    const retried = (await allMessages(store)).find((m) => m.id === retryMessageId);
    expect(retried).toMatchObject({ customerId: 'u2', channel: 'sms', status: 'sent' });
    expect(sms.count(retryMessageId)).toBe(1);
    expect((await store.getDeadLetter(dead?.id ?? ''))?.status).toBe('retrying');
    const all = await allMessages(store);
    expectNoDuplicates(email.counts(), twilioCounts(sms, all));
  });

  it('refuses to retry a dead letter whose customer was deleted since, and leaves it to be abandoned', async () => {
    const { engine, clock, store } = await emailFallingBackToSms();
    await engine.ingest([
      {
        type: 'customer.created',
        customerId: 'u2',
        occurredAt: T0,
        payload: { properties: { email: 'also bad', phone: '+15550000002' } },
      },
      { type: 'signed_up', customerId: 'u2', occurredAt: T0, payload: {} },
    ]);
    await settle(engine, clock, store);
    const [dead] = (await store.listDeadLetters({ limit: 10 })).items;
    expect(dead).toMatchObject({ customerId: 'u2', status: 'pending_review' });
    await engine.ingest([
      { type: 'customer.deleted', customerId: 'u2', occurredAt: clock.now(), payload: {} },
    ]);
    await settle(engine, clock, store);
    await expect(
      retryDeadLetter(store, dead?.id ?? '', { now: clock.now(), ids: engine.ids }),
    ).rejects.toMatchObject({ code: 'DEAD_LETTER_CUSTOMER_DELETED' });
    expect((await store.getDeadLetter(dead?.id ?? ''))?.status).toBe('pending_review');
    expect((await allMessages(store)).filter((m) => m.status === 'queued')).toEqual([]);
  });

  it('a recipient who replied STOP (Twilio 21610) loses SMS consent: the next message never reaches Twilio', async () => {
    const sms = await twilio({ stoppedNumbers: ['+15550000007'] });
    const { engine, clock, store } = await engineFor(`
channels:
  sms:
    provider: twilio
    settings: { base_url: "${sms.baseUrl}", account_sid: "${ACCOUNT}", auth_token_env: TWILIO_TOKEN, from: "+15550009999", status_callback_url: "http://127.0.0.1:9/status" }
journeys:
  - id: texts
    entry: { event: ping, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: t, type: send, channel: sms, content: { body: "Hello" } }
`);
    const ping = () =>
      engine.ingest([{ type: 'ping', customerId: 'stop', occurredAt: clock.now(), payload: {} }]);
    await engine.ingest([
      {
        type: 'customer.created',
        customerId: 'stop',
        occurredAt: T0,
        payload: { properties: { phone: '+15550000007' } },
      },
    ]);
    await ping();
    await settle(engine, clock, store);
    expect((await store.getCustomer('stop'))?.attributes['consents']).toEqual({ sms: false });
    clock.advance(60_000);
    await ping();
    await settle(engine, clock, store);
    const messages = await allMessages(store);
    expect(messages.map((m) => [m.status, m.error])).toEqual([
      // An opt-out is skipped and logged, not dead-lettered: no retry can fix it.
      ['failed', expect.stringContaining('21610') as unknown as string],
      ['suppressed', 'opted_out'],
    ]);
    expect(sms.count(messages[1]?.id ?? '')).toBe(0);
  });
});

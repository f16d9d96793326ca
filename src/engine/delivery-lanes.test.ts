/**
 * The bulkhead between channels in server mode: each channel's messages are claimed and sent by
 * a loop of their own, so a provider that hangs holds back only its own channel — neither the
 * other channels nor the worker that runs journeys.
 */
import { describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import { systemClock, type NewEvent } from '../core/index.js';
import {
  RecordingProvider,
  type DeliveryProvider,
  type OutgoingMessage,
  type ProviderResult,
} from '../delivery/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';

/** A provider whose sends hang until released. */
class HangingProvider implements DeliveryProvider {
  readonly kind = 'hanging';
  readonly #waiting: (() => void)[] = [];
  started = 0;

  send(_message: OutgoingMessage, signal: AbortSignal): Promise<ProviderResult> {
    this.started++;
    return new Promise((resolve) => {
      const done = () => {
        resolve({ status: 'accepted' });
      };
      this.#waiting.push(done);
      signal.addEventListener('abort', () => {
        resolve({ status: 'failed', category: 'transient', error: 'timed out' });
      });
    });
  }

  release(): void {
    for (const done of this.#waiting.splice(0)) done();
  }
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('delivery lanes (server mode)', () => {
  it('a hanging e-mail provider holds back neither SMS nor the journeys', async () => {
    const config = loadConfigFromString(
      `
channels:
  email: { provider: sendgrid, timeout: 30s }
  sms: { provider: twilio }
journeys:
  - id: both
    entry: { event: signed_up, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: mail, type: send, channel: email, content: { subject: Hi, body: Hello } }
          - { id: text, type: send, channel: sms, content: { body: Hello } }
`,
      'lanes.yaml',
    );
    const email = new HangingProvider();
    const sms = new RecordingProvider();
    const engine = await Engine.open({
      config,
      store: await openStore({ file: ':memory:' }),
      clock: systemClock,
      providers: new Map<string, DeliveryProvider>([
        ['email', email],
        ['sms', sms],
      ]),
      worker: { idlePollMs: 20 },
    });
    engine.start();
    try {
      const signUp = (id: string): NewEvent[] => [
        {
          type: 'customer.created',
          customerId: id,
          occurredAt: Date.now(),
          payload: { properties: { email: `${id}@example.com`, phone: '+15550001111' } },
        },
        { type: 'signed_up', customerId: id, occurredAt: Date.now(), payload: {} },
      ];
      await engine.ingest(signUp('a'));
      await until(() => Promise.resolve(sms.messages.length === 1), 'the first SMS');
      expect(email.started).toBe(1);
      // The e-mail is still in flight; the next customer's journey runs and their SMS goes out.
      await engine.ingest(signUp('b'));
      await until(() => Promise.resolve(sms.messages.length === 2), 'the second SMS');
      const emails = (await engine.store.listMessages({ channel: 'email', limit: 10 })).items;
      expect(emails.map((m) => m.status)).toEqual(['queued', 'queued']);
      email.release();
      await until(async () => {
        const sent = (await engine.store.listMessages({ channel: 'email', limit: 10 })).items;
        return sent.filter((m) => m.status === 'sent').length >= 1;
      }, 'the first e-mail to be recorded');
    } finally {
      email.release();
      await engine.close();
    }
  });
});

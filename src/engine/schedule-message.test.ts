/**
 * The spec's `optimal_send_time` prediction (`output: timestamp`, `use: schedule_message`): a
 * `schedule_message` action goes at the moment the send-time optimizer picks, within a day; a
 * `send_message` goes at once.
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import { VirtualClock, sequentialIds } from '../core/index.js';
import { recordFeedback } from '../delivery/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';

const CONFIG = loadConfigFromString(
  `
defaults: { timezone: UTC }
channels:
  email: { provider: smtp }
predictions:
  optimal_send_time: { model: engagement_optimizer, output: timestamp, use: schedule_message }
journeys:
  - id: news
    entry: { event: news, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: n, type: send, channel: email, content: { subject: News, body: News } }
triggers:
  - name: offer_scheduled
    event: offer
    action: schedule_offer
  - name: alert_now
    event: alert
    action: send_alert
actions:
  schedule_offer:
    - { type: schedule_message, params: { channel: email, content: { subject: Offer, body: Hi } } }
  send_alert:
    - { type: send_message, params: { channel: email, content: { subject: Alert, body: Now } } }
`,
  'schedule-message.yaml',
);

const ZONE = 'America/New_York';
const START = DateTime.fromISO('2026-06-01T00:00', { zone: ZONE });

describe('schedule_message with the optimal_send_time prediction', () => {
  it('holds the message for the optimizer’s moment; send_message goes at once', async () => {
    const store = await openStore({ file: ':memory:' });
    const clock = new VirtualClock(START.toMillis());
    const engine = await Engine.open({ config: CONFIG, store, clock, ids: sequentialIds() });
    await store.upsertCustomers([
      {
        id: 'nia',
        attributes: { timezone: ZONE, email: 'nia@example.com' },
        createdAt: clock.now(),
        updatedAt: clock.now(),
      },
    ]);
    // Two weeks of news at 08:00 and 12:00 (ignored) and 19:00 (opened at once), New York time.
    for (let day = 0; day < 14; day++) {
      for (const hour of [8, 12, 19]) {
        clock.set(START.plus({ days: day }).set({ hour }).toMillis());
        await engine.ingest([
          { type: 'news', customerId: 'nia', occurredAt: clock.now(), payload: {} },
        ]);
        await engine.runUntilIdle();
        if (hour !== 19) continue;
        const page = await store.listMessages({ customerId: 'nia', limit: 500 });
        const latest = page.items.filter((m) => m.sendAt === clock.now()).at(-1);
        clock.advance(10 * 60_000);
        await recordFeedback(
          store,
          [{ messageId: latest?.id ?? '', kind: 'opened', at: clock.now() }],
          clock.now(),
        );
        await engine.runUntilIdle();
      }
    }
    const asked = START.plus({ days: 14 }).set({ hour: 8 }).toMillis();
    clock.set(asked);
    await engine.ingest([
      { type: 'offer', customerId: 'nia', occurredAt: asked, payload: {} },
      { type: 'alert', customerId: 'nia', occurredAt: asked, payload: {} },
    ]);
    await engine.runUntilIdle();
    const messages = (await store.listMessages({ customerId: 'nia', limit: 500 })).items;
    const offer = messages.find((m) => m.content['subject'] === 'Offer');
    const alert = messages.find((m) => m.content['subject'] === 'Alert');
    expect(alert?.status).toBe('sent');
    expect(offer?.status).toBe('deferred');
    const until = DateTime.fromMillis(offer?.sendAt ?? 0, { zone: ZONE });
    expect(until.hour).toBeGreaterThanOrEqual(17);
    expect(until.hour).toBeLessThanOrEqual(21);
    expect(offer?.sendAt ?? 0).toBeLessThanOrEqual(asked + 86_400_000);
    const events = (await store.listJourneyEvents({ customerId: 'nia', limit: 1000 })).items;
    const deferred = events.find(
      (e) => e.type === 'message.deferred' && e.data['reason'] === 'optimal_send_time',
    );
    expect(deferred?.data['reasoning']).toMatch(/^Optimal send time/u);
    await engine.close();
  });
});

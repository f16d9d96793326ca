/**
 * `channel: auto` through the engine: the spec's selectChannel order (preference, urgency,
 * engagement), only among channels that can reach the customer, explained by a
 * `message.channel_selected` journey event, and learning from what the customer ignores.
 */
import { describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import type { NewEvent } from '../core/index.js';
import { openStore } from '../store/index.js';
import { simulate } from './simulation.js';

const CONFIG = loadConfigFromString(
  `
channels:
  email: { provider: sendgrid, fallback: sms }
  sms: { provider: twilio, fallback: in_app }
  in_app: { provider: internal }
  push: { provider: firebase }
journeys:
  - id: notify
    entry: { event: ping, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: note, type: send, channel: auto, content: { subject: "Hi", body: "News" } }
  - id: alarm
    entry: { event: breach, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: warn, type: send, channel: auto, urgency: high, priority: critical, content: { body: "Act now" } }
`,
  'auto.yaml',
);

const T0 = Date.parse('2026-03-02T12:00:00Z');
const at = (minutes: number) => T0 + minutes * 60_000;
const event = (type: string, customerId: string, time: number): NewEvent => ({
  type,
  customerId,
  occurredAt: time,
  payload: {},
});

describe('channel selection (channel: auto)', () => {
  it('follows preference, then urgency, then the channel bandit, among reachable channels', async () => {
    const DAY = 86_400_000;
    const result = await simulate({
      config: CONFIG,
      openStore: () => openStore({ file: ':memory:' }),
      customers: [
        {
          id: 'pref',
          attributes: { email: 'p@example.com', phone: '+15550000001', channel_preference: 'sms' },
        },
        { id: 'urgent', attributes: { email: 'u@example.com', phone: '+15550000002' } },
        // No address for e-mail or SMS, opted out of push: only in-app can reach them.
        { id: 'inbox', attributes: { push_tokens: ['t'], consents: { push: false } } },
        // Gets a message a day for ten days and ignores every one of them.
        { id: 'learner', attributes: { email: 'l@example.com', phone: '+15550000003' } },
      ],
      events: [
        event('ping', 'pref', at(0)),
        event('breach', 'urgent', at(0)),
        event('ping', 'inbox', at(0)),
        ...Array.from({ length: 10 }, (_, day) => event('ping', 'learner', T0 + day * DAY)),
      ],
      until: T0 + 10 * DAY,
    });
    const selected = result.journeyEvents.filter((e) => e.type === 'message.channel_selected');
    const rules = selected
      .filter((e) => e.customerId !== 'learner')
      .map((e) => [e.customerId, e.data['primary'], e.data['fallback'], e.data['reasoning']]);
    expect(rules).toEqual([
      ['pref', 'sms', ['in_app'], 'Customer preference'],
      ['urgent', 'sms', ['email', 'in_app'], 'High urgency message'],
      [
        'inbox',
        'in_app',
        [],
        expect.stringMatching(/^AI confidence: 1\.00 that in_app engages best/u),
      ],
    ]);
    // The learner: each ignored message counts against its channel once it is a day old, the
    // ranking shows it, and Thompson sampling spreads the messages over the channels.
    const learner = selected.filter((e) => e.customerId === 'learner');
    expect(learner).toHaveLength(10);
    const last = learner.at(-1)?.data['ranking'] as { channel: string; sent: number }[];
    const sentBefore = last.reduce((sum, r) => sum + r.sent, 0);
    expect(sentBefore).toBe(9); // every earlier message: each is a full day old
    const tried = new Set(learner.map((e) => e.data['primary']));
    expect(tried.size).toBeGreaterThan(1);
    for (const e of learner) {
      expect(e.data['reasoning']).toMatch(/^AI confidence: 0\.\d\d that \w+ engages best/u);
      expect(e.data['confidence']).toBeGreaterThan(0);
    }
    const channels = result.messages
      .filter((m) => m.customerId !== 'learner')
      .map((m) => [m.customerId, m.channel, m.status]);
    expect(channels).toEqual([
      ['pref', 'sms', 'sent'],
      ['urgent', 'sms', 'sent'],
      ['inbox', 'in_app', 'delivered'],
    ]);
  });
});

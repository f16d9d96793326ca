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
  it('follows preference, then urgency, then engagement, among reachable channels', async () => {
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
        // E-mail ties with the others at first and wins by config order; ignored twice, it drops
        // below channels never tried.
        { id: 'learner', attributes: { email: 'l@example.com', phone: '+15550000003' } },
      ],
      events: [
        event('ping', 'pref', at(0)),
        event('breach', 'urgent', at(0)),
        event('ping', 'inbox', at(0)),
        event('ping', 'learner', at(0)),
        event('ping', 'learner', at(10)),
        event('ping', 'learner', at(20)),
      ],
      until: at(60),
    });
    const selected = result.journeyEvents
      .filter((e) => e.type === 'message.channel_selected')
      .map((e) => [e.customerId, e.data['primary'], e.data['fallback'], e.data['reasoning']]);
    expect(selected).toEqual([
      ['pref', 'sms', ['in_app'], 'Customer preference'],
      ['urgent', 'sms', ['email', 'in_app'], 'High urgency message'],
      [
        'inbox',
        'in_app',
        [],
        'AI confidence: 0.50 (engagement rate on in_app: 0 of 0 messages in the last month)',
      ],
      [
        'learner',
        'email',
        ['sms', 'in_app'],
        'AI confidence: 0.50 (engagement rate on email: 0 of 0 messages in the last month)',
      ],
      [
        'learner',
        'sms',
        ['in_app', 'email'],
        'AI confidence: 0.50 (engagement rate on sms: 0 of 0 messages in the last month)',
      ],
      [
        'learner',
        'in_app',
        // E-mail and SMS each 1/3 now: a tie, in config order.
        ['email', 'sms'],
        'AI confidence: 0.50 (engagement rate on in_app: 0 of 0 messages in the last month)',
      ],
    ]);
    const channels = result.messages.map((m) => [m.customerId, m.channel, m.status]);
    expect(channels).toEqual([
      ['pref', 'sms', 'sent'],
      ['urgent', 'sms', 'sent'],
      ['inbox', 'in_app', 'delivered'],
      ['learner', 'email', 'sent'],
      ['learner', 'sms', 'sent'],
      ['learner', 'in_app', 'delivered'],
    ]);
  });
});

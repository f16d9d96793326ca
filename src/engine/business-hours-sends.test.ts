/**
 * `business_hours: true` on a send step or `send_message` holds the message to the customer's next
 * business hours (`defaults.business_hours`, holidays included), and contact caps are counted for
 * the window it goes out in.
 */
import { describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import { openStore } from '../store/index.js';
import { simulate } from './simulation.js';

const CONFIG = loadConfigFromString(
  `
defaults:
  business_hours: { days: [mon, tue, wed, thu, fri], hours: "09:00-17:00", holidays: ["2026-05-04"] }
channels:
  sms: { provider: twilio }
rate_limits:
  customer:
    sms: { daily: 1 }
journeys:
  - id: callback
    entry: { event: callback.requested, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: confirm, type: send, channel: sms, business_hours: true, content: { body: "We will call you" } }
`,
  'business-hours.yaml',
);

describe('sends held to business hours', () => {
  it("waits for the next open day in the customer's zone, past weekends and holidays, and the daily cap of that day", async () => {
    const result = await simulate({
      config: CONFIG,
      openStore: () => openStore({ file: ':memory:' }),
      customers: [
        { id: 'berlin', attributes: { timezone: 'Europe/Berlin', phone: '+4915100000000' } },
      ],
      events: [
        // Saturday 2026-05-02 10:00 in Berlin; Monday 05-04 is a holiday: Tuesday 09:00.
        {
          type: 'callback.requested',
          customerId: 'berlin',
          occurredAt: Date.parse('2026-05-02T08:00:00Z'),
          payload: {},
        },
        // A second request the same Saturday: Tuesday is then full (1 SMS a day), so Wednesday.
        {
          type: 'callback.requested',
          customerId: 'berlin',
          occurredAt: Date.parse('2026-05-02T09:00:00Z'),
          payload: {},
        },
      ],
      until: Date.parse('2026-05-08T00:00:00Z'),
    });
    expect(result.messages.map((m) => [m.status, new Date(m.sendAt ?? 0).toISOString()])).toEqual([
      ['sent', '2026-05-05T07:00:00.000Z'],
      ['sent', '2026-05-06T07:00:00.000Z'],
    ]);
    const reasons = result.journeyEvents
      .filter((e) => e.type === 'message.deferred')
      .map((e) => [e.data['reason'], e.data['until']]);
    expect(reasons).toEqual([
      ['business_hours', '2026-05-05T07:00:00.000Z'],
      ['business_hours', '2026-05-05T07:00:00.000Z'],
      ['rate_limit', '2026-05-05T22:00:00.000Z'],
      ['business_hours', '2026-05-06T07:00:00.000Z'],
    ]);
  });
});

/**
 * Quiet hours in virtual time: a message that falls inside a channel's `silent_hours` (or the
 * global `defaults.quiet_hours`) in the customer's local time is held to the window's end, with a
 * `message.deferred` journey event saying so, and sent then.
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import type { JourneyEventRecord, NewEvent } from '../core/index.js';
import { openStore } from '../store/index.js';
import { simulate } from './simulation.js';

/** Addresses for every channel, so only quiet hours decide when messages go. */
const ADDRESSES = { email: 'c@example.com', push_tokens: ['device-1'] };

const CONFIG = loadConfigFromString(
  `
defaults:
  quiet_hours: "21:00-07:00"
channels:
  push: { provider: firebase, silent_hours: "22:00-08:00" }
  in_app: { provider: internal }
  email: { provider: smtp }
journeys:
  - id: nudge
    entry: { event: signed_up }
    stages:
      - id: main
        steps:
          - { id: p, type: send, channel: push, content: { body: hi } }
          - { id: e, type: send, channel: email, content: { subject: hi, body: hi } }
          - { id: i, type: send, channel: in_app, content: { body: hi } }
          - { id: alarm, type: send, channel: push, priority: critical, content: { body: now } }
`,
  'quiet.yaml',
);

function signedUp(customerId: string, localIso: string, zone: string): NewEvent {
  return {
    type: 'signed_up',
    customerId,
    occurredAt: DateTime.fromISO(localIso, { zone }).toMillis(),
    payload: {},
  };
}

const local = (ms: number, zone: string) =>
  DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true });

function timeline(events: JourneyEventRecord[], zone: string): string[] {
  return events
    .filter((e) => e.type === 'message.sent' || e.type === 'message.deferred')
    .map(
      (e) =>
        `${e.type} ${JSON.stringify(e.data['step_id'])} ${local(e.timestamp, zone) ?? ''}${
          e.type === 'message.deferred' ? ` until ${JSON.stringify(e.data['until'])}` : ''
        }`,
    );
}

describe('quiet hours', () => {
  it('holds push and email to the end of their windows over midnight, in the customer zone', async () => {
    const zone = 'Europe/Berlin';
    const result = await simulate({
      config: CONFIG,
      openStore: () => openStore({ file: ':memory:' }),
      customers: [{ id: 'c1', attributes: { timezone: zone, ...ADDRESSES } }],
      events: [signedUp('c1', '2026-06-10T23:10', zone)],
      until: Date.parse('2026-06-12T00:00:00Z'),
    });
    expect(timeline(result.journeyEvents, zone)).toEqual([
      'message.deferred "p" 2026-06-10T23:10:00+02:00 until "2026-06-11T06:00:00.000Z"',
      'message.deferred "e" 2026-06-10T23:10:00+02:00 until "2026-06-11T05:00:00.000Z"',
      // In-app is not held by the global quiet hours; a critical push is never held.
      'message.sent "i" 2026-06-10T23:10:00+02:00',
      'message.sent "alarm" 2026-06-10T23:10:00+02:00',
      'message.sent "e" 2026-06-11T07:00:00+02:00',
      'message.sent "p" 2026-06-11T08:00:00+02:00',
    ]);
  });

  it('sends at once outside the window: the same UTC instant is daytime in New York', async () => {
    const zone = 'America/New_York';
    const result = await simulate({
      config: CONFIG,
      openStore: () => openStore({ file: ':memory:' }),
      customers: [{ id: 'c2', attributes: { timezone: zone, ...ADDRESSES } }],
      events: [signedUp('c2', '2026-06-10T17:10', zone)],
      until: Date.parse('2026-06-12T00:00:00Z'),
    });
    expect(
      timeline(result.journeyEvents, zone).every((line) => line.startsWith('message.sent')),
    ).toBe(true);
  });
});

describe('customer time zones', () => {
  it('an invalid zone is reported once as a decision and the default zone is used', async () => {
    const store = await openStore({ file: ':memory:' });
    let decisions: string[] = [];
    const result = await simulate({
      config: CONFIG,
      openStore: () => Promise.resolve(store),
      customers: [],
      events: [
        {
          type: 'customer.created',
          customerId: 'c3',
          occurredAt: Date.parse('2026-06-10T12:00:00Z'),
          payload: { properties: { timezone: 'Mars/Olympus_Mons', ...ADDRESSES } },
        },
        {
          type: 'customer.updated',
          customerId: 'c3',
          occurredAt: Date.parse('2026-06-10T12:01:00Z'),
          payload: { changes: { plan: 'pro' } },
        },
        // 23:10 in the default zone (UTC): quiet hours hold the push as for any UTC customer.
        signedUp('c3', '2026-06-10T23:10', 'UTC'),
      ],
      until: Date.parse('2026-06-12T00:00:00Z'),
      // The simulation closes its store at the end; read the decisions after each step instead.
      stopWhen: async () => {
        decisions = (await store.listDecisions({ customerId: 'c3', limit: 50 }))
          .filter((d) => d.kind === 'invalid_timezone')
          .map((d) => JSON.stringify(d.explanation));
        return false;
      },
    });
    expect(decisions).toEqual(['{"value":"Mars/Olympus_Mons","used":"UTC"}']);
    expect(timeline(result.journeyEvents, 'UTC')[0]).toBe(
      'message.deferred "p" 2026-06-10T23:10:00Z until "2026-06-11T08:00:00.000Z"',
    );
  });
});

/**
 * The spec's customer-level limits and fatigue rules through the engine, in virtual time: messages
 * sent by rules are capped per local calendar day, deferred (not lost) to when the cap allows, and
 * go out then; critical messages bypass; disengaged customers get only critical messages; when a
 * cap bites, the more important of two simultaneous messages gets the last slot.
 */
import { describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import type { MessageRecord, NewEvent } from '../core/index.js';
import { openStore } from '../store/index.js';
import { simulate, type SimulatedCustomer } from './simulation.js';

const CONFIG = loadConfigFromString(
  `
channels:
  email: { provider: sendgrid }
  sms: { provider: twilio }
rate_limits:
  customer:
    email: { daily: 3, weekly: 10, monthly: 30 }
    sms: { daily: 1, weekly: 3, monthly: 10 }
    total: { daily: 5, weekly: 15 }
fatigue:
  engagement_based:
    disengaged: { suppress: true }
rules:
  - id: promo
    name: promo
    priority: 10
    conditions: { logic: AND, conditions: [{ field: event.type, operator: eq, value: promo }] }
    actions:
      - { type: send_message, params: { channel: email, priority: low, content: { subject: Promo, body: "Buy" } } }
  - id: security
    name: security
    priority: 10
    conditions: { logic: AND, conditions: [{ field: event.type, operator: eq, value: login.new_device }] }
    actions:
      - { type: send_message, params: { channel: email, priority: critical, content: { subject: "New sign-in", body: "Was it you?" } } }
  - id: invoice
    name: invoice
    priority: 10
    conditions: { logic: AND, conditions: [{ field: event.type, operator: eq, value: invoice.ready }] }
    actions:
      - { type: send_message, params: { channel: email, priority: high, content: { subject: Invoice, body: "Attached" } } }
`,
  'limits.yaml',
);

const memoryStore = () => openStore({ file: ':memory:' });

function event(type: string, customerId: string, iso: string): NewEvent {
  return { type, customerId, occurredAt: Date.parse(iso), payload: {} };
}

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

function ledger(messages: MessageRecord[], customerId: string) {
  return messages
    .filter((m) => m.customerId === customerId)
    .map((m) => [m.content['subject'], m.status, iso(m.sendAt)]);
}

describe('messages sent by rules', () => {
  it('two events of one customer in one batch send two messages (keys come from the input)', async () => {
    const result = await simulate({
      config: CONFIG,
      openStore: memoryStore,
      customers: [{ id: 'c1', attributes: { email: 'c@example.com' } }],
      events: [
        event('invoice.ready', 'c1', '2026-03-02T09:00:00Z'),
        event('invoice.ready', 'c1', '2026-03-02T09:00:00Z'),
      ],
      until: Date.parse('2026-03-02T10:00:00Z'),
    });
    expect(ledger(result.messages, 'c1')).toEqual([
      ['Invoice', 'sent', '2026-03-02T09:00:00.000Z'],
      ['Invoice', 'sent', '2026-03-02T09:00:00.000Z'],
    ]);
    expect(new Set(result.messages.map((m) => m.idempotencyKey)).size).toBe(2);
  });
});

describe('a tasks channel', () => {
  it("turns a message into a task for the customer's success manager, outside caps and quiet hours", async () => {
    const config = loadConfigFromString(
      `
defaults: { quiet_hours: "00:00-23:59" }
channels:
  csm: { type: tasks }
rate_limits:
  customer:
    total: { daily: 0 }
rules:
  - id: handoff
    name: handoff
    priority: 10
    conditions: { logic: AND, conditions: [{ field: event.type, operator: eq, value: churn.signal }] }
    actions:
      - { type: send_message, params: { channel: csm, content: { title: "Call {{customer.id}}", body: "Churn signal" } } }
`,
      'tasks.yaml',
    );
    const result = await simulate({
      config,
      openStore: memoryStore,
      customers: [{ id: 'acme', attributes: { csm_id: 'dana' } }],
      events: [event('churn.signal', 'acme', '2026-03-02T09:00:00Z')],
      until: Date.parse('2026-03-02T10:00:00Z'),
    });
    expect(result.messages.map((m) => [m.channel, m.status])).toEqual([['csm', 'delivered']]);
    const created = result.journeyEvents.filter((e) => e.type === 'task.created');
    expect(created.map((e) => [e.data['title'], e.data['assignee']])).toEqual([
      ['Call acme', 'dana'],
    ]);
  });
});

describe('templates sent by rules', () => {
  it('renders the template against the customer and keeps one variant per customer', async () => {
    const config = loadConfigFromString(
      `
channels:
  email: { provider: sendgrid }
templates:
  promo:
    channel: email
    subject: "For {{customer.first_name}}"
    body: "unused"
    variants:
      - { name: short, body: "Hi {{customer.first_name}}", weight: 1 }
      - { name: long, body: "Hello {{customer.first_name}}, a long note", weight: 1 }
rules:
  - id: promo
    name: promo
    priority: 10
    conditions: { logic: AND, conditions: [{ field: event.type, operator: eq, value: promo }] }
    actions:
      - { type: send_message, params: { channel: email, template: promo } }
`,
      'templates.yaml',
    );
    const customers = Array.from({ length: 6 }, (_, i) => ({
      id: `c${i}`,
      attributes: { email: `c${i}@example.com`, first_name: `Name${i}` },
    }));
    const result = await simulate({
      config,
      openStore: memoryStore,
      customers,
      events: customers.flatMap((c) => [
        event('promo', c.id, '2026-03-02T09:00:00Z'),
        event('promo', c.id, '2026-03-03T09:00:00Z'),
      ]),
      until: Date.parse('2026-03-04T00:00:00Z'),
    });
    for (const c of customers) {
      const bodies = result.messages
        .filter((m) => m.customerId === c.id)
        .map((m) => [m.content['subject'], m.content['body']]);
      expect(bodies).toHaveLength(2);
      expect(bodies[0]).toEqual(bodies[1]);
      expect(bodies[0]?.[0]).toBe(`For Name${c.id.slice(1)}`);
      expect(bodies[0]?.[1] as string).toContain(`Name${c.id.slice(1)}`);
    }
    // Both variants are in use across customers.
    const variants = new Set(
      result.messages.map((m) => (m.content['body'] as string).split(' ')[0]),
    );
    expect(variants).toEqual(new Set(['Hi', 'Hello']));
  });
});

describe('customer contact limits in virtual time', () => {
  it('holds three e-mails per local day for customers in Tokyo and New York, deferring the rest to their own midnight', async () => {
    const customers = [
      { id: 'tokyo', attributes: { email: 't@example.com', timezone: 'Asia/Tokyo' } },
      { id: 'ny', attributes: { email: 'n@example.com', timezone: 'America/New_York' } },
    ];
    // Five promos at 12:00Z on Monday 2026-03-02: 21:00 in Tokyo, 07:00 in New York.
    const events = customers.flatMap((c) =>
      Array.from({ length: 5 }, (_, i) => event('promo', c.id, `2026-03-02T12:00:0${i}Z`)),
    );
    const result = await simulate({
      config: CONFIG,
      openStore: memoryStore,
      customers,
      events,
      until: Date.parse('2026-03-05T00:00:00Z'),
    });
    expect(ledger(result.messages, 'tokyo')).toEqual([
      ['Promo', 'sent', '2026-03-02T12:00:00.000Z'],
      ['Promo', 'sent', '2026-03-02T12:00:01.000Z'],
      ['Promo', 'sent', '2026-03-02T12:00:02.000Z'],
      // Tokyo midnight is 15:00Z.
      ['Promo', 'sent', '2026-03-02T15:00:00.000Z'],
      ['Promo', 'sent', '2026-03-02T15:00:00.000Z'],
    ]);
    expect(ledger(result.messages, 'ny')).toEqual([
      ['Promo', 'sent', '2026-03-02T12:00:00.000Z'],
      ['Promo', 'sent', '2026-03-02T12:00:01.000Z'],
      ['Promo', 'sent', '2026-03-02T12:00:02.000Z'],
      // New York midnight (EST) is 05:00Z the next day.
      ['Promo', 'sent', '2026-03-03T05:00:00.000Z'],
      ['Promo', 'sent', '2026-03-03T05:00:00.000Z'],
    ]);
    const deferred = result.journeyEvents.filter((e) => e.type === 'message.deferred');
    expect(deferred.map((e) => [e.customerId, e.data['reason'], e.data['limit']]).sort()).toEqual([
      ['ny', 'rate_limit', 'email.daily'],
      ['ny', 'rate_limit', 'email.daily'],
      ['tokyo', 'rate_limit', 'email.daily'],
      ['tokyo', 'rate_limit', 'email.daily'],
    ]);
  });

  it('a critical message bypasses a full day and still counts; a disengaged customer gets only critical ones', async () => {
    const customers: SimulatedCustomer[] = [
      { id: 'busy', attributes: { email: 'b@example.com' } },
      { id: 'quiet', attributes: { email: 'q@example.com', engagement_level: 'disengaged' } },
    ];
    const events = [
      event('promo', 'busy', '2026-03-02T09:00:00Z'),
      event('promo', 'busy', '2026-03-02T09:00:01Z'),
      event('promo', 'busy', '2026-03-02T09:00:02Z'),
      event('login.new_device', 'busy', '2026-03-02T10:00:00Z'),
      event('promo', 'quiet', '2026-03-02T09:00:00Z'),
      event('invoice.ready', 'quiet', '2026-03-02T09:00:01Z'),
      event('login.new_device', 'quiet', '2026-03-02T10:00:00Z'),
    ];
    const result = await simulate({
      config: CONFIG,
      openStore: memoryStore,
      customers,
      events,
      until: Date.parse('2026-03-02T23:00:00Z'),
    });
    expect(ledger(result.messages, 'busy')).toEqual([
      ['Promo', 'sent', '2026-03-02T09:00:00.000Z'],
      ['Promo', 'sent', '2026-03-02T09:00:01.000Z'],
      ['Promo', 'sent', '2026-03-02T09:00:02.000Z'],
      ['New sign-in', 'sent', '2026-03-02T10:00:00.000Z'],
    ]);
    expect(ledger(result.messages, 'quiet')).toEqual([
      ['Promo', 'suppressed', null],
      ['Invoice', 'suppressed', null],
      ['New sign-in', 'sent', '2026-03-02T10:00:00.000Z'],
    ]);
    const suppressed = result.journeyEvents.filter((e) => e.type === 'message.suppressed');
    expect(
      suppressed.map((e) => [e.customerId, e.data['reason'], e.data['recommendation']]),
    ).toEqual([
      ['quiet', 'disengaged', 'Consider re-engagement campaign'],
      ['quiet', 'disengaged', 'Consider re-engagement campaign'],
    ]);
  });

  it('when one slot is left, the more important of two simultaneous messages takes it', async () => {
    const customers = [{ id: 'c1', attributes: { email: 'c@example.com', timezone: 'UTC' } }];
    const events = [
      event('promo', 'c1', '2026-03-02T09:00:00Z'),
      event('promo', 'c1', '2026-03-02T09:00:01Z'),
      // One event that fires both the low-priority promo and the high-priority invoice.
      { ...event('promo', 'c1', '2026-03-02T09:00:02Z'), payload: {} },
    ];
    const both = loadConfigFromString(
      `
channels:
  email: { provider: sendgrid }
rate_limits:
  customer:
    email: { daily: 3 }
rules:
  - id: promo
    name: promo
    priority: 10
    conditions: { logic: AND, conditions: [{ field: event.type, operator: eq, value: promo }] }
    actions:
      - { type: send_message, params: { channel: email, priority: low, content: { subject: Promo, body: "Buy" } } }
  - id: invoice
    name: invoice
    priority: 10
    conditions: { logic: AND, conditions: [{ field: event.properties.last, operator: eq, value: true }] }
    actions:
      - { type: send_message, params: { channel: email, priority: high, content: { subject: Invoice, body: "Attached" } } }
`,
      'both.yaml',
    );
    const last = events[2];
    if (last) last.payload = { properties: { last: true } };
    const result = await simulate({
      config: both,
      openStore: memoryStore,
      customers,
      events,
      until: Date.parse('2026-03-03T12:00:00Z'),
    });
    expect(ledger(result.messages, 'c1')).toEqual([
      ['Promo', 'sent', '2026-03-02T09:00:00.000Z'],
      ['Promo', 'sent', '2026-03-02T09:00:01.000Z'],
      // Created first by the same event, but low priority: it waits for tomorrow.
      ['Promo', 'sent', '2026-03-03T00:00:00.000Z'],
      ['Invoice', 'sent', '2026-03-02T09:00:02.000Z'],
    ]);
  });
});

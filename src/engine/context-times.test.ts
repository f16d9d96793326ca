/**
 * `event.timestamp` and `journey.enrolled_at` are formatted only when a condition or template reads
 * them (the contexts hold them as accessors, a hot-path saving); this pins that rules, templates
 * and journey steps still see them as ISO-8601 text.
 */
import { describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import { openStore } from '../store/index.js';
import { simulate } from './simulation.js';

const CONFIG = loadConfigFromString(
  `
templates:
  order_note:
    channel: in_app
    body: 'rule saw {{ event.timestamp }}'
rules:
  - id: note_order
    name: 'Note the order'
    priority: 1
    conditions:
      logic: AND
      conditions:
        - { field: event.type, operator: eq, value: order.placed }
        - { field: event.timestamp, operator: eq, value: '2026-05-02T08:00:00.000Z' }
    actions:
      - type: send_message
        params: { channel: in_app, template: order_note }
journeys:
  - id: orders
    entry: { event: order.placed, re_entry: never }
    stages:
      - id: s
        steps:
          - id: wait_for_shipping
            type: wait_for_event
            events: [{ event: order.shipped }]
            timeout: 1 day
          - id: shipped
            type: send
            channel: in_app
            content: { body: 'shipped {{ event.timestamp }}, enrolled {{ journey.enrolled_at }}' }
`,
  'context-times.yaml',
);

describe('times in condition and template contexts', () => {
  it('rules, templates and journey steps read event.timestamp and journey.enrolled_at as ISO text', async () => {
    const at = Date.parse('2026-05-02T08:00:00Z');
    const result = await simulate({
      config: CONFIG,
      openStore: () => openStore({ file: ':memory:' }),
      customers: [{ id: 'c1', attributes: {} }],
      events: [
        { type: 'order.placed', customerId: 'c1', occurredAt: at, payload: {} },
        // The step after the wait sees the awaited event.
        { type: 'order.shipped', customerId: 'c1', occurredAt: at + 60_000, payload: {} },
        // Another order later: the rule's condition on the timestamp does not hold for it.
        { type: 'order.placed', customerId: 'c1', occurredAt: at + 120_000, payload: {} },
      ],
      until: at + 3_600_000,
    });
    expect(result.messages.map((m) => m.content['body']).sort()).toEqual([
      'rule saw 2026-05-02T08:00:00.000Z',
      'shipped 2026-05-02T08:01:00.000Z, enrolled 2026-05-02T08:00:00.000Z',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../core/index.js';
import {
  compileJourney,
  eventView,
  JourneyScenario,
  type JourneyDefinition,
  type JourneyEffect,
  type JourneyInputEvent,
} from './index.js';
import { readState, writeState } from './state.js';

const START = Date.parse('2026-02-27T10:00:00Z');
const DAY = 86_400_000;
const days = (n: number) => ({ text: `${n} days`, amount: n, unit: 'day', ms: n * DAY });
const customer = { id: 'cus_1', attributes: { first_name: 'Ada' } };

function orderPlaced(payload: JsonObject): JourneyInputEvent {
  return {
    type: 'order.placed',
    customerId: 'cus_1',
    occurredAt: START,
    receivedAt: START,
    payload,
    seq: 1,
  };
}

function bodies(effects: readonly JourneyEffect[]): string[] {
  return effects.flatMap((e) =>
    e.type === 'send_message' ? [e.message.content['body'] as string] : [],
  );
}

/** Thanks for the order, then a follow-up when no second order came within three days. */
function followUp(secondBody: string): JourneyDefinition {
  return {
    id: 'order_follow_up',
    entry: { event: 'order.placed' },
    goals: [{ name: 'reordered', event: 'order.placed', window: days(30) }],
    stages: [
      {
        id: 'thanks',
        steps: [
          {
            id: 'big_order',
            type: 'branch',
            branches: [
              {
                name: 'big',
                conditions: {
                  logic: 'AND',
                  conditions: [{ field: 'event.properties.total', operator: 'gt', value: 100 }],
                },
                next: 'vip',
              },
            ],
          },
          {
            id: 'thank_you',
            type: 'send',
            channel: 'email',
            content: { body: 'Thanks for order {{ event.properties.order_id }}' },
          },
          {
            id: 'wait_for_reorder',
            type: 'wait_for_event',
            events: [{ event: 'order.placed', next: 'complete' }],
            timeout: days(3),
          },
          { id: 'follow_up', type: 'send', channel: 'email', content: { body: secondBody } },
          { id: 'done', type: 'goto', stage: 'complete' },
        ],
      },
      {
        id: 'vip',
        steps: [
          {
            id: 'vip_thanks',
            type: 'send',
            channel: 'email',
            content: { body: 'VIP order {{ event.properties.order_id }}' },
          },
        ],
      },
    ],
  };
}

describe('the enrolling event in journey steps', () => {
  it('steps up to the first wait read it as event; it satisfies no wait and no goal', () => {
    const journey = compileJourney(followUp('Still thinking it over?'), 1);
    const s = new JourneyScenario(journey, customer, { start: START });
    const result = s.enroll({
      source: 'event',
      event: orderPlaced({ properties: { order_id: 'A-17', total: 40 } }),
    });
    expect(result.decision).toBe('enrolled');
    expect(bodies(s.effects)).toEqual(['Thanks for order A-17']);
    // An order.placed enrolled the customer: the wait for the next order and the goal still wait.
    expect(s.enrollment).toMatchObject({ status: 'active', stepId: 'wait_for_reorder' });
    expect(s.eventTypes).not.toContain('journey.goal_reached');

    const big = new JourneyScenario(journey, customer, { start: START });
    big.enroll({
      source: 'event',
      event: orderPlaced({ properties: { order_id: 'B-9', total: 250 } }),
    });
    expect(bodies(big.effects)).toEqual(['VIP order B-9']);
  });

  it('is not kept when nothing reads journey.entry_event: steps after a wait see no event', () => {
    const journey = compileJourney(
      followUp('Order {{ event.properties.order_id | default: "unknown" }}'),
      1,
    );
    expect(journey.keepsEntryEvent).toBe(false);
    const s = new JourneyScenario(journey, customer, { start: START });
    s.enroll({
      source: 'event',
      event: orderPlaced({ properties: { order_id: 'A-17', total: 40 } }),
    });
    expect(s.enrollment?.state).not.toHaveProperty('entry_event');
    s.wait(3 * DAY);
    expect(bodies(s.effects)).toEqual(['Thanks for order A-17', 'Order unknown']);
  });

  it('journey.entry_event is kept in the state and read by every later step', () => {
    const journey = compileJourney(
      followUp(
        'Still thinking about {{ journey.entry_event.properties.order_id }} ({{ journey.entry_event.type }})?',
      ),
      1,
    );
    expect(journey.keepsEntryEvent).toBe(true);
    const s = new JourneyScenario(journey, customer, { start: START });
    s.enroll({
      source: 'event',
      event: orderPlaced({ properties: { order_id: 'A-17', total: 40 } }),
    });
    expect(s.enrollment?.state['entry_event']).toEqual({
      type: 'order.placed',
      occurred_at: START,
      payload: { properties: { order_id: 'A-17', total: 40 } },
    });
    // The state is all a later run has (as after a restart): the timeout reads the kept copy.
    s.wait(3 * DAY);
    expect(bodies(s.effects)).toEqual([
      'Thanks for order A-17',
      'Still thinking about A-17 (order.placed)?',
    ]);
    expect(s.enrollment).toMatchObject({ status: 'completed' });
  });

  it('a template the journey sends can be what reads journey.entry_event', () => {
    const definition = followUp('unused');
    const stage = definition.stages[0];
    if (stage === undefined) throw new Error('no stage');
    const withTemplate: JourneyDefinition = {
      ...definition,
      stages: [
        {
          ...stage,
          steps: stage.steps.map((step) =>
            step.id === 'follow_up'
              ? { id: 'follow_up', type: 'send', channel: 'email', template: 'reminder' }
              : step,
          ),
        },
        ...definition.stages.slice(1),
      ],
    };
    const templates = {
      reminder: { body: 'About {{ journey.entry_event.properties.order_id }}' },
      unrelated: { body: 'Hello' },
    };
    const journey = compileJourney(withTemplate, 1, { templates });
    expect(journey.keepsEntryEvent).toBe(true);
    const s = new JourneyScenario(journey, customer, { start: START });
    s.enroll({
      source: 'event',
      event: orderPlaced({ properties: { order_id: 'C-3', total: 5 } }),
    });
    s.wait(3 * DAY);
    expect(bodies(s.effects)).toEqual(['Thanks for order C-3', 'About C-3']);
  });

  it('an enrollment without an event (API, schedule) has neither', () => {
    const journey = compileJourney(
      followUp('Entry: {{ journey.entry_event.type | default: "none" }}'),
      1,
    );
    const s = new JourneyScenario(journey, customer, { start: START });
    s.enroll({ source: 'api' });
    expect(s.enrollment?.state).not.toHaveProperty('entry_event');
    s.wait(3 * DAY);
    expect(bodies(s.effects)).toEqual(['Thanks for order ', 'Entry: none']);
  });

  it('a malformed stored entry_event reads as none', () => {
    for (const entry of [null, 'x', { type: 1, occurred_at: START }, { type: 'a' }]) {
      expect(readState({ layout: 1, entry_event: entry as JsonObject }).entryEvent).toBeNull();
    }
    const kept = readState({
      layout: 1,
      entry_event: { type: 'a', occurred_at: START, payload: 'not an object' },
    });
    expect(kept.entryEvent).toEqual({ type: 'a', occurredAt: START, payload: {} });
    expect(writeState(kept)['entry_event']).toEqual({ type: 'a', occurred_at: START, payload: {} });
  });
});

describe('eventView', () => {
  it("lists the event's own fields, then type, id, customer_id and timestamp (which win)", () => {
    const view = eventView({
      type: 'order.placed',
      customerId: 'cus_1',
      occurredAt: START,
      id: 'evt_1',
      payload: { properties: { total: 5 }, type: 'spoofed', timestamp: 'spoofed', extra: null },
    });
    expect(Object.keys(view)).toEqual([
      'properties',
      'type',
      'timestamp',
      'extra',
      'id',
      'customer_id',
    ]);
    expect({ ...view }).toEqual({
      properties: { total: 5 },
      type: 'order.placed',
      timestamp: '2026-02-27T10:00:00.000Z',
      extra: null,
      id: 'evt_1',
      customer_id: 'cus_1',
    });
  });

  it('copies an own __proto__ field as data, never as the prototype', () => {
    const payload = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as JsonObject;
    const view = eventView({ type: 't', customerId: 'c', occurredAt: START, payload });
    expect(Object.getPrototypeOf(view)).toBe(Object.prototype);
    expect((view as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.hasOwn(view, '__proto__')).toBe(true);
    expect(view['a']).toBe(1);
  });

  it('formats a timestamp outside what a Date holds as null instead of throwing', () => {
    const view = eventView({ type: 't', customerId: 'c', occurredAt: 9e15, payload: {} });
    expect(view['timestamp']).toBeNull();
  });
});

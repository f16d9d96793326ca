import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/index.js';
import {
  BatchTooLargeError,
  parseEventBatch,
  parseEventInput,
  parseInstant,
} from './event-input.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('parseEventInput', () => {
  it('accepts the guide CustomerEvent shape and keeps changes in the payload', () => {
    const r = parseEventInput(
      {
        type: 'customer.updated',
        customer_id: 'c1',
        timestamp: '2026-02-28T10:00:00Z',
        changes: { health_score: 40 },
      },
      NOW,
    );
    expect(r.problems).toEqual([]);
    expect(r.event).toEqual({
      id: undefined,
      type: 'customer.updated',
      customerId: 'c1',
      occurredAt: Date.parse('2026-02-28T10:00:00Z'),
      idempotencyKey: undefined,
      payload: { changes: { health_score: 40 } },
    });
  });

  it('keeps unknown fields such as service_id in the payload', () => {
    const r = parseEventInput(
      { type: 'service.completed', customer_id: 'c1', service_id: 's9' },
      NOW,
    );
    expect(r.event?.payload).toEqual({ service_id: 's9' });
    expect(r.event?.occurredAt).toBe(NOW);
  });

  it('stores hostile ids literally', () => {
    const id = `o'brien"); DROP TABLE customers;--`;
    const r = parseEventInput({ type: 'page.viewed', customer_id: id }, NOW);
    expect(r.event?.customerId).toBe(id);
  });

  it('locates every problem by path', () => {
    const r = parseEventInput(
      { type: 'bad type!', customer_id: 5.5, timestamp: 'yesterday', properties: [1] },
      NOW,
      'events[2]',
    );
    expect(r.event).toBeNull();
    expect(r.problems.map((p) => p.path)).toEqual([
      'events[2].type',
      'events[2].customer_id',
      'events[2].timestamp',
      'events[2].properties',
    ]);
  });

  it('uses the header idempotency key only when the body has none', () => {
    expect(
      parseEventInput({ type: 'a', customer_id: 'c' }, NOW, '', 'h').event?.idempotencyKey,
    ).toBe('h');
    expect(
      parseEventInput({ type: 'a', customer_id: 'c', idempotency_key: 'b' }, NOW, '', 'h').event
        ?.idempotencyKey,
    ).toBe('b');
  });

  it('refuses payloads nested deeper than 64 levels, located, without overflowing the stack', () => {
    let nested: unknown = 1;
    for (let i = 0; i < 100_000; i++) nested = { n: nested };
    const r = parseEventInput(
      { type: 'a', customer_id: 'c', properties: nested },
      NOW,
      'events[0]',
    );
    expect(r.event).toBeNull();
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]?.path).toMatch(/^events\[0\]\.properties(\.n)+$/);
    expect(r.problems[0]?.message).toBe('nested deeper than 64 levels');
    let ok: unknown = 1;
    for (let i = 0; i < 60; i++) ok = { n: ok };
    expect(
      parseEventInput({ type: 'a', customer_id: 'c', properties: ok }, NOW).event,
    ).not.toBeNull();
  });

  it('refuses NUL characters in identifiers', () => {
    const r = parseEventInput({ type: 'a', customer_id: 'c\u0000d' }, NOW);
    expect(r.problems).toEqual([
      { path: 'customer_id', message: 'must not contain the NUL character' },
    ]);
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = parseEventInput(value, NOW);
        expect(r.event !== null || r.problems.length > 0).toBe(true);
      }),
    );
  });
});

describe('parseEventBatch', () => {
  it('accepts a single event or an events array', () => {
    expect(parseEventBatch({ type: 'a', customer_id: 'c' }, NOW)).toHaveLength(1);
    expect(
      parseEventBatch(
        {
          events: [
            { type: 'a', customer_id: 'c' },
            { type: 'b', customer_id: 'd' },
          ],
        },
        NOW,
      ),
    ).toHaveLength(2);
  });

  it('rejects the whole batch when one event is invalid', () => {
    expect(() =>
      parseEventBatch({ events: [{ type: 'a', customer_id: 'c' }, { type: 'b' }] }, NOW),
    ).toThrow(/events\[1\]\.customer_id: is required/);
  });

  it('refuses more than 1,000 events with BATCH_TOO_LARGE', () => {
    const events = Array.from({ length: 1001 }, () => ({ type: 'a', customer_id: 'c' }));
    try {
      parseEventBatch({ events }, NOW);
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(BatchTooLargeError);
      expect((e as BatchTooLargeError).code).toBe('BATCH_TOO_LARGE');
    }
  });

  it('rejects non-array and empty events with INVALID_INPUT', () => {
    expect(() => parseEventBatch({ events: 'x' }, NOW)).toThrow(InvalidInputError);
    expect(() => parseEventBatch({ events: [] }, NOW)).toThrow(/empty/);
  });
});

describe('parseInstant', () => {
  it('reads ISO date-times, dates and epoch ms; treats zone-less times as UTC', () => {
    expect(parseInstant('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseInstant('2024-02-29T10:00:00')).toBe(Date.UTC(2024, 1, 29, 10));
    expect(parseInstant('2024-02-29T10:00:00+02:00')).toBe(Date.UTC(2024, 1, 29, 8));
    expect(parseInstant(1_700_000_000_000)).toBe(1_700_000_000_000);
  });
  it('rejects what is not a date', () => {
    expect(parseInstant('2023-02-29')).toBeNull();
    expect(parseInstant('tomorrow')).toBeNull();
    expect(parseInstant(Number.NaN)).toBeNull();
    expect(parseInstant(true)).toBeNull();
  });
});

describe('NUL characters in payloads', () => {
  it('are refused wherever they are, located, on every backend alike', () => {
    const r = parseEventInput(
      { type: 'a', customer_id: 'c', properties: { notes: ['ok', 'bad\u0000byte'] } },
      NOW,
    );
    expect(r.problems).toEqual([
      { path: 'properties.notes[1]', message: 'must not contain the NUL character' },
    ]);
    const key = parseEventInput({ type: 'a', customer_id: 'c', properties: { 'k\u0000': 1 } }, NOW);
    expect(key.problems).toEqual([
      { path: 'properties.k\u0000', message: 'must not contain the NUL character' },
    ]);
    expect(
      parseEventInput({ type: 'a', customer_id: 'c', properties: { n: 'fine' } }, NOW).problems,
    ).toEqual([]);
  });
});

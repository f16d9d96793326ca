import { describe, expect, it } from 'vitest';
import { decodeMessage, type StreamMessage } from './message-events.js';

const STORED_AT = Date.parse('2026-03-02T12:00:00Z');

function message(body: unknown, extra: Partial<StreamMessage> = {}): StreamMessage {
  return {
    data: body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body)),
    subject: 'events.signup',
    stream: 'EVENTS',
    streamEpoch: 'm1abc',
    sequence: 17,
    msgId: undefined,
    storedAt: STORED_AT,
    ...extra,
  };
}

function keysOf(result: ReturnType<typeof decodeMessage>): (string | undefined)[] {
  if (!result.ok) throw new Error(result.rejection.message);
  return result.events.map((e) => e.idempotencyKey);
}

describe('decodeMessage', () => {
  it('reads one event as POST /v1/events does, defaulting its time to when the stream stored it', () => {
    const result = decodeMessage(
      message({ type: 'signed_up', customer_id: 'c1', properties: { plan: 'pro' } }),
    );
    expect(result).toEqual({
      ok: true,
      events: [
        {
          id: undefined,
          type: 'signed_up',
          customerId: 'c1',
          occurredAt: STORED_AT,
          idempotencyKey: 'nats:EVENTS:m1abc:17',
          payload: { properties: { plan: 'pro' } },
        },
      ],
    });
  });

  it('derives keys from stream, epoch and sequence, indexed within a batch', () => {
    expect(
      keysOf(
        decodeMessage(
          message({
            events: [
              { type: 'a', customer_id: 'c1' },
              { type: 'b', customer_id: 'c1' },
            ],
          }),
        ),
      ),
    ).toEqual(['nats:EVENTS:m1abc:17:0', 'nats:EVENTS:m1abc:17:1']);
  });

  it('prefers Nats-Msg-Id, and an event’s own idempotency_key over both', () => {
    expect(
      keysOf(decodeMessage(message({ type: 'a', customer_id: 'c1' }, { msgId: 'order-7' }))),
    ).toEqual(['order-7']);
    expect(
      keysOf(
        decodeMessage(
          message(
            {
              events: [
                { type: 'a', customer_id: 'c1', idempotency_key: 'mine' },
                { type: 'b', customer_id: 'c1' },
              ],
            },
            { msgId: 'order-7' },
          ),
        ),
      ),
    ).toEqual(['mine', 'order-7:1']);
  });

  it('hashes a derived key longer than an idempotency key may be, stably', () => {
    const long = 'x'.repeat(300);
    const [first] = keysOf(
      decodeMessage(message({ type: 'a', customer_id: 'c1' }, { msgId: long })),
    );
    const [again] = keysOf(
      decodeMessage(message({ type: 'a', customer_id: 'c1' }, { msgId: long })),
    );
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/u);
    expect(again).toBe(first);
  });

  it('refuses what is not UTF-8, not JSON, or not valid events, with located problems', () => {
    expect(decodeMessage(message(new Uint8Array([0xff, 0xfe])))).toMatchObject({
      ok: false,
      rejection: { code: 'INVALID_ENCODING' },
    });
    const notJson = decodeMessage(message(new TextEncoder().encode('{"type": ')));
    expect(notJson).toMatchObject({ ok: false, rejection: { code: 'INVALID_JSON' } });
    expect(notJson.ok ? '' : notJson.rejection.message).toMatch(/^the message body is not JSON: /u);

    expect(
      decodeMessage(
        message({
          events: [
            { type: 'a', customer_id: 'c1' },
            { type: 'a', timestamp: 'soon' },
          ],
        }),
      ),
    ).toEqual({
      ok: false,
      rejection: {
        code: 'INVALID_INPUT',
        message: 'invalid event: events[1].customer_id: is required (and 1 more problems)',
        problems: [
          { path: 'events[1].customer_id', message: 'is required' },
          {
            path: 'events[1].timestamp',
            message: 'expected an ISO-8601 date-time or epoch milliseconds, got the string "soon"',
          },
        ],
      },
    });
    expect(
      decodeMessage(
        message({ events: Array.from({ length: 1001 }, () => ({ type: 'a', customer_id: 'c' })) }),
      ),
    ).toMatchObject({ ok: false, rejection: { code: 'BATCH_TOO_LARGE' } });
  });
});

/**
 * Global throughput caps (`rate_limits.global`, a channel's `rate_limit`) hold across processes:
 * two engines on one database file share the token buckets, and what is over the cap waits (not
 * an attempt) and goes out as the buckets refill.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import { VirtualClock, randomIds, type MessageRecord, type NewEvent } from '../core/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const MINUTE = 60_000;

const CONFIG = loadConfigFromString(
  `
channels:
  email: { provider: sendgrid }
rate_limits:
  global:
    email: { per_minute: 10, per_hour: 100 }
journeys:
  - id: hello
    entry: { event: signed_up }
    stages:
      - id: s
        steps:
          - { id: hi, type: send, channel: email, content: { subject: Hi, body: Hello } }
`,
  'throughput.yaml',
);

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('global throughput caps', () => {
  it('two processes on one database never exceed the per-minute cap together', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'waymark-throughput-'));
    dirs.push(dir);
    const clock = new VirtualClock(T0);
    const open = async () =>
      Engine.open({
        config: CONFIG,
        store: await openStore({ dataDir: dir }),
        clock,
        ids: randomIds(() => clock.now()),
      });
    const a = await open();
    const b = await open();
    try {
      await a.ingest(
        Array.from({ length: 35 }, (_, i): NewEvent[] => [
          {
            type: 'customer.created',
            customerId: `c${i}`,
            occurredAt: T0,
            payload: { properties: { email: `c${i}@example.com` } },
          },
          { type: 'signed_up', customerId: `c${i}`, occurredAt: T0, payload: {} },
        ]).flat(),
      );
      // Both engines work the same outbox, turn about, jumping to each next availability.
      for (let round = 0; round < 200; round++) {
        await a.runUntilIdle();
        await b.runUntilIdle();
        const next = await a.store.nextOutboxAvailableAt();
        if (next === null) break;
        clock.set(Math.max(next, clock.now()));
      }
      const messages: MessageRecord[] = (await a.store.listMessages({ limit: 100 })).items;
      expect(messages).toHaveLength(35);
      expect(messages.every((m) => m.status === 'sent')).toBe(true);
      // Waiting for tokens is not an attempt.
      expect(messages.every((m) => m.attempts === 1)).toBe(true);
      const sentAt = messages.map((m) => m.sentAt ?? 0).sort((x, y) => x - y);
      // No sliding minute holds more than the bucket's capacity plus what refills within it.
      for (const start of sentAt) {
        const inWindow = sentAt.filter((t) => t >= start && t < start + MINUTE).length;
        expect(inWindow).toBeLessThanOrEqual(20);
      }
      // The first minute starts with a full bucket (10) and refills one token per 6 s.
      expect(sentAt.filter((t) => t < T0 + MINUTE).length).toBeLessThanOrEqual(20);
      expect(sentAt.filter((t) => t === T0).length).toBe(10);
      expect(Math.max(...sentAt) - T0).toBeGreaterThanOrEqual(2 * MINUTE);
      const recorded = a.recording.messages.length + b.recording.messages.length;
      expect(recorded).toBe(35);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

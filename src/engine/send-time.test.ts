/**
 * `send_time: optimal` through the real engine on a SQLite file, in virtual time: a customer who
 * reads the evening messages and ignores the morning ones gets the next optimal-time message in the
 * evening, held until then with a `message.deferred` event carrying the optimizer's reasoning; and
 * a template with `selection: bandit` puts its choice into a `message.personalized` event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import {
  VirtualClock,
  sequentialIds,
  type JourneyEventRecord,
  type MessageRecord,
  type Store,
} from '../core/index.js';
import { recordFeedback } from '../delivery/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';

const CONFIG = loadConfigFromString(
  `
defaults:
  timezone: UTC
  quiet_hours: "22:00-08:00"
channels:
  email: { provider: smtp }
templates:
  offer:
    subject: An offer
    body: default
    selection: bandit
    variants:
      - { name: short, body: "Short" }
      - { name: long, body: "A longer text" }
journeys:
  - id: news
    entry: { event: news, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: n, type: send, channel: email, content: { subject: News, body: News } }
  - id: offer
    entry: { event: offer, re_entry: always }
    stages:
      - id: s
        steps:
          - { id: o, type: send, channel: email, template: offer, send_time: { mode: optimal, within: 24 hours } }
rules:
  - id: rule_offer
    name: rule_offer
    conditions: { logic: AND, conditions: [{ field: event.type, operator: eq, value: rule_offer }] }
    actions:
      - { type: send_message, params: { channel: email, content: { subject: Hi, body: Offer }, send_time: optimal } }
  - id: rule_now
    name: rule_now
    conditions: { logic: AND, conditions: [{ field: event.type, operator: eq, value: rule_now }] }
    actions:
      - { type: send_message, params: { channel: email, content: { subject: Now, body: Now } } }
`,
  'send-time.yaml',
);

const ZONE = 'Europe/Berlin';
const START = DateTime.fromISO('2026-06-01T00:00', { zone: ZONE });

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

async function everything<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const got = await page(cursor);
    all.push(...got.items);
    if (got.nextCursor === null) return all;
    cursor = got.nextCursor;
  }
}

async function open(): Promise<{ engine: Engine; store: Store; clock: VirtualClock }> {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-send-time-'));
  const store = await openStore({ file: join(dir, 'waymark.db') });
  const clock = new VirtualClock(START.toMillis());
  const engine = await Engine.open({
    config: CONFIG,
    store,
    clock,
    ids: sequentialIds(),
    seed: 'send-time-test',
  });
  cleanup = async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  };
  await store.upsertCustomers([
    {
      id: 'eve',
      attributes: { timezone: ZONE, email: 'eve@example.com' },
      createdAt: clock.now(),
      updatedAt: clock.now(),
    },
  ]);
  return { engine, store, clock };
}

/** Two weeks of news at 09:00, 13:00 and 17:00 (ignored) and 20:00 (opened half an hour later), Berlin time. */
async function learnEvenings(engine: Engine, store: Store, clock: VirtualClock): Promise<void> {
  for (let day = 0; day < 14; day++) {
    for (const hour of [9, 13, 17, 20]) {
      clock.set(START.plus({ days: day }).set({ hour }).toMillis());
      await engine.ingest([
        { type: 'news', customerId: 'eve', occurredAt: clock.now(), payload: {} },
      ]);
      await engine.runUntilIdle();
      if (hour !== 20) continue;
      const messages = await everything((cursor) => store.listMessages({ limit: 100, cursor }));
      const latest = messages.filter((m) => m.sendAt === clock.now()).at(-1) as MessageRecord;
      clock.advance(30 * 60_000);
      await recordFeedback(
        store,
        [{ messageId: latest.id, kind: 'opened', at: clock.now() }],
        clock.now(),
      );
      await engine.runUntilIdle();
    }
  }
}

describe('send_time: optimal through the engine', () => {
  it('sends to a customer with an evening engagement history in the evening', async () => {
    const { engine, store, clock } = await open();
    await learnEvenings(engine, store, clock);
    // Day 15, 09:00: an offer that may go any time in the next 24 hours.
    const asked = START.plus({ days: 14 }).set({ hour: 9 }).toMillis();
    clock.set(asked);
    await engine.ingest([{ type: 'offer', customerId: 'eve', occurredAt: asked, payload: {} }]);
    await engine.runUntilIdle();
    const events = await everything<JourneyEventRecord>((cursor) =>
      store.listJourneyEvents({ limit: 1000, cursor }),
    );
    const deferred = events.filter(
      (e) => e.type === 'message.deferred' && e.data['reason'] === 'optimal_send_time',
    );
    expect(deferred).toHaveLength(1);
    const decision = deferred[0]?.data ?? {};
    const until = Date.parse(decision['until'] as string);
    const local = DateTime.fromMillis(until, { zone: ZONE });
    expect(local.hour).toBeGreaterThanOrEqual(18);
    expect(local.hour).toBeLessThanOrEqual(21);
    expect(until).toBeLessThanOrEqual(asked + 86_400_000);
    expect(decision['reasoning']).toMatch(
      /^Optimal send time Mon (18|19|20|21):00 local \(Europe\/Berlin\)/u,
    );
    expect(decision['expected_rate']).toBeGreaterThan(decision['default_rate'] as number);
    // Yesterday's ignored 13:00 and 17:00 messages are not a day old: not evidence yet.
    expect(decision['evidence']).toBe(54);
    // The message waits in the outbox until then and goes out at that moment.
    const offer = (await everything((cursor) => store.listMessages({ limit: 100, cursor }))).find(
      (m) => m.journeyId === 'offer',
    );
    expect(offer).toMatchObject({ status: 'deferred', sendAt: until });
    clock.set(until);
    await engine.runUntilIdle();
    const sent = await store.getMessage(offer?.id ?? '');
    expect(sent?.status).toBe('sent');
    // The template's variant was chosen by the personalizer, and the event says why.
    const personalized = events.find((e) => e.type === 'message.personalized');
    expect(personalized?.data).toMatchObject({
      template: 'offer',
      basis: 'allocation',
      reasoning: expect.stringMatching(/^Variant (short|long): no engagement data yet/u),
    });
    // Re-entering the journey the next day: the same variant again.
    clock.set(asked + 86_400_000);
    await engine.ingest([
      { type: 'offer', customerId: 'eve', occurredAt: clock.now(), payload: {} },
    ]);
    await engine.runUntilIdle();
    const variants = (
      await everything<JourneyEventRecord>((cursor) =>
        store.listJourneyEvents({ limit: 1000, cursor }),
      )
    )
      .filter((e) => e.type === 'message.personalized')
      .map((e) => e.data['variant']);
    expect(variants).toHaveLength(2);
    expect(variants[1]).toBe(variants[0]);
  });

  it('holds a send_message action with send_time: optimal to the evening too; without it, sends now', async () => {
    const { engine, store, clock } = await open();
    await learnEvenings(engine, store, clock);
    const asked = START.plus({ days: 14 }).set({ hour: 9 }).toMillis();
    clock.set(asked);
    await engine.ingest([
      { type: 'rule_offer', customerId: 'eve', occurredAt: asked, payload: {} },
      { type: 'rule_now', customerId: 'eve', occurredAt: asked, payload: {} },
    ]);
    await engine.runUntilIdle();
    const messages = await everything((cursor) => store.listMessages({ limit: 100, cursor }));
    const held = messages.find((m) => m.content['subject'] === 'Hi');
    const now = messages.find((m) => m.content['subject'] === 'Now');
    expect(now?.status).toBe('sent');
    expect(held?.status).toBe('deferred');
    const local = DateTime.fromMillis(held?.sendAt ?? 0, { zone: ZONE });
    expect(local.hour).toBeGreaterThanOrEqual(18);
    expect(local.hour).toBeLessThanOrEqual(21);
    const events = await everything<JourneyEventRecord>((cursor) =>
      store.listJourneyEvents({ limit: 1000, cursor }),
    );
    expect(
      events.filter(
        (e) => e.type === 'message.deferred' && e.data['reason'] === 'optimal_send_time',
      ),
    ).toHaveLength(1);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import {
  emptyDeliveryOutcomes,
  silentLogger,
  type JourneyEventRecord,
  type Store,
} from '../core/index.js';
import { openStore } from '../store/index.js';
import { OutboxDispatcher } from './dispatcher.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');

function journeyEvent(i: number): JourneyEventRecord {
  return {
    type: 'journey.enrolled',
    journeyId: 'onboarding',
    customerId: `c${i}`,
    timestamp: T0 + i,
    data: { i },
  };
}

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

function dispatcher(s: Store, sink: (events: readonly JourneyEventRecord[]) => Promise<void>) {
  return new OutboxDispatcher({
    store: s,
    sinks: [sink],
    callWebhook: () => Promise.resolve(),
    log: silentLogger,
    batchSize: 2,
  });
}

async function drainAll(d: OutboxDispatcher): Promise<void> {
  for (let pass = 0; pass < 100; pass++) if ((await d.drain(T0)) === 0) return;
  throw new Error('drain never finished');
}

describe('publishing journey events from the log', () => {
  it('publishes every logged event in order, in batches, although the outbox is empty', async () => {
    store = await openStore({ file: ':memory:' });
    // Journey events are written without outbox rows: an empty outbox must not stop the log reader.
    await store.recordDeliveryOutcomes({
      ...emptyDeliveryOutcomes(),
      journeyEvents: Array.from({ length: 7 }, (_, i) => journeyEvent(i)),
    });
    const seen: string[] = [];
    const batches: number[] = [];
    await drainAll(
      dispatcher(store, (events) => {
        batches.push(events.length);
        seen.push(...events.map((e) => e.customerId));
        return Promise.resolve();
      }),
    );
    expect(seen).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    expect(batches).toEqual([2, 2, 2, 1]);
    expect(await store.readJourneyEventsFor('sinks', 10)).toEqual([]);
  });

  it('hands a batch a failing sink refused to it again, and moves on only once it is accepted', async () => {
    store = await openStore({ file: ':memory:' });
    await store.recordDeliveryOutcomes({
      ...emptyDeliveryOutcomes(),
      journeyEvents: [journeyEvent(1), journeyEvent(2)],
    });
    let failures = 1;
    const seen: string[] = [];
    const d = dispatcher(store, (events) => {
      if (failures-- > 0) return Promise.reject(new Error('sink down'));
      seen.push(...events.map((e) => e.customerId));
      return Promise.resolve();
    });
    expect(await d.drain(T0)).toBe(0);
    await drainAll(d);
    expect(seen).toEqual(['c1', 'c2']);
  });
});

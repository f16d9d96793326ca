/**
 * A wait set up and satisfied within one batch leaves no timer behind: the batch neither inserts
 * the timeout timer nor cancels it. A wait the batch leaves open keeps its timer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../config/index.js';
import { VirtualClock, sequentialIds, type NewEvent } from '../core/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function events(customerId: string, upTo: number): NewEvent[] {
  return [
    { type: 'signed_up', customerId, occurredAt: T0, payload: {} },
    ...Array.from({ length: upTo }, (_, i) => ({
      type: 'step_done',
      customerId,
      occurredAt: T0,
      payload: { properties: {}, n: i + 1 },
    })),
  ];
}

describe('timers of waits inside one batch', () => {
  it('are never written when the awaited event is in the same batch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'waymark-batch-timers-'));
    dirs.push(dir);
    const clock = new VirtualClock(T0);
    const engine = await Engine.open({
      config: await loadConfig(join(import.meta.dirname, '../../test/fixtures/scaleout')),
      store: await openStore({ dataDir: dir }),
      clock,
      ids: sequentialIds(),
    });
    try {
      await engine.ingest([...events('a', 3), ...events('b', 9)]);
      await engine.runUntilIdle();
      // a: stages s0..s3 passed in the batch, waiting in s3 for n = 4: one pending timer, the
      // three satisfied waits left nothing.
      expect(await engine.store.listTimers({ customerId: 'a' })).toEqual([
        expect.objectContaining({ status: 'pending' }),
      ]);
      // b: completed; none of its ten waits' timers was ever stored.
      expect(await engine.store.listTimers({ customerId: 'b' })).toEqual([]);
      const b = await engine.store.listEnrollments({ customerId: 'b', limit: 10 });
      expect(b.items).toEqual([expect.objectContaining({ status: 'completed' })]);

      // The open wait still times out as before.
      clock.set(T0 + 31 * 86_400_000);
      await engine.runUntilIdle();
      const a = await engine.store.listEnrollments({ customerId: 'a', limit: 10 });
      expect(a.items).toEqual([expect.objectContaining({ status: 'exited' })]);
    } finally {
      await engine.close();
    }
  });
});

/**
 * The scheduler role among processes sharing a store: two engines on one database file (two
 * stores, two connections, as two processes would have), stepped on one virtual clock. What only
 * one process may do — batch triggers, journey-event publishing — happens once, and the role moves
 * to the other process when its holder stops renewing or gives it up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import { VirtualClock, silentLogger, type JourneyEventRecord, type Store } from '../core/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';
import { RoleLease } from './roles.js';

const T0 = Date.UTC(2026, 0, 1);
const LEASE_MS = 30_000;

const CONFIG = loadConfigFromString(
  `
triggers:
  - name: Nightly sweep
    conditions: [{ field: health_score, operator: lt, value: 30 }]
    evaluation: batch
    frequency: 24h
    action: notify_csm
actions:
  notify_csm: [{ type: create_task, params: { title: "Call {{customer.id}}" } }]
journeys:
  - id: welcome
    entry: { event: signed_up }
    stages:
      - id: main
        steps:
          - { id: hello, type: send, channel: in_app, content: { body: hi } }
`,
  'roles.yaml',
);

const dirs: string[] = [];
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A database file and a way to open another "process" on it. */
function sharedFile(): () => Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-roles-'));
  dirs.push(dir);
  return async () => {
    const store = await openStore({ dataDir: dir });
    opened.push(store);
    return store;
  };
}

describe('RoleLease', () => {
  it('is held by one process, renewed while it runs, and taken over when it stops renewing or gives up', async () => {
    const open = sharedFile();
    const [storeA, storeB] = [await open(), await open()];
    const a = new RoleLease({
      store: storeA,
      role: 'scheduler',
      holder: 'a',
      leaseMs: LEASE_MS,
      log: silentLogger,
    });
    const b = new RoleLease({
      store: storeB,
      role: 'scheduler',
      holder: 'b',
      leaseMs: LEASE_MS,
      log: silentLogger,
    });
    expect(await a.holds(T0)).toBe(true);
    expect(await b.holds(T0)).toBe(false);
    // A keeps renewing a third of the way through; B keeps asking and keeps being refused.
    for (let t = T0; t <= T0 + 3 * LEASE_MS; t += LEASE_MS / 3) {
      expect(await a.holds(t)).toBe(true);
      expect(await b.holds(t)).toBe(false);
    }
    // A stops asking (a hung process): once its lease runs out B takes over, and A, asking again,
    // learns it lost the role.
    const later = T0 + 5 * LEASE_MS;
    expect(await b.holds(later)).toBe(true);
    expect(await a.holds(later + 1)).toBe(false);
    // B gives the role up (shutdown): A takes it at its next ask, without waiting for a lease.
    await b.release();
    expect(await a.holds(later + LEASE_MS / 3 + 2)).toBe(true);
  });
});

describe('two engines on one store', () => {
  it('run batch triggers and publish journey events once between them, and hand over when one closes', async () => {
    const open = sharedFile();
    const clock = new VirtualClock(T0);
    const published: { engine: string; event: JourneyEventRecord }[] = [];
    const engines: Engine[] = [];
    for (const name of ['a', 'b']) {
      const engine = await Engine.open({
        config: CONFIG,
        store: await open(),
        clock,
        worker: { workerId: name, leaseMs: LEASE_MS },
        sinks: [
          (events) => {
            for (const event of events) published.push({ engine: name, event });
            return Promise.resolve();
          },
        ],
      });
      engines.push(engine);
    }
    const [a, b] = engines as [Engine, Engine];
    await a.store.upsertCustomers(
      ['low1', 'low2', 'fine'].map((id) => ({
        id,
        attributes: { health_score: id === 'fine' ? 90 : 10 },
        createdAt: T0,
        updatedAt: T0,
      })),
    );
    await a.ingest(
      ['low1', 'low2', 'fine'].map((customerId) => ({
        type: 'signed_up',
        customerId,
        occurredAt: T0,
        payload: {},
      })),
    );
    // Both step through their passes, as two worker processes would.
    for (let round = 0; round < 3; round++) {
      await a.runUntilIdle();
      await b.runUntilIdle();
    }
    const sweeps = await a.store.listTasks({ limit: 10 });
    expect(sweeps.map((task) => task.customerId).sort()).toEqual(['low1', 'low2']);
    const enrolled = published.filter((p) => p.event.type === 'journey.enrolled');
    expect(enrolled.map((p) => p.event.customerId).sort()).toEqual(['fine', 'low1', 'low2']);
    // Published by one engine, the role holder.
    expect(new Set(published.map((p) => p.engine))).toEqual(new Set(['a']));

    // Each matching customer's batch command was applied once: one evaluation each.
    const evaluations = await a.store.listTriggerExecutions({
      triggerName: 'Nightly sweep',
      limit: 100,
    });
    expect(evaluations.map((x) => x.customerId).sort()).toEqual(['low1', 'low2']);

    // A closes (shutdown gives the role up); B's next pass takes over the scheduled work: the next
    // day's sweep finds 'fine' fallen below the threshold.
    await a.close();
    await b.store.upsertCustomers([
      { id: 'fine', attributes: { health_score: 5 }, createdAt: T0, updatedAt: T0 },
    ]);
    clock.set(T0 + 86_400_000 + 1);
    await b.ingest([
      { type: 'signed_up', customerId: 'late', occurredAt: clock.now(), payload: {} },
    ]);
    await b.runUntilIdle();
    const late = published.filter((p) => p.event.customerId === 'late');
    expect(late.map((p) => [p.engine, p.event.type])).toContainEqual(['b', 'journey.enrolled']);
    const tasks = await b.store.listTasks({ limit: 10 });
    expect(tasks.map((task) => task.customerId).sort()).toEqual(['fine', 'low1', 'low2']);
  });
});

/**
 * Measuring uplift live: a journey's own holdout and the installation-wide global holdout, stable
 * per customer, and the reports of conversion lift with confidence intervals over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import { sequentialIds, VirtualClock, type JsonObject } from '../core/index.js';
import { Engine } from '../engine/index.js';
import { inGlobalHoldout } from '../journeys/index.js';
import { openStore } from '../store/index.js';
import { buildApi } from './index.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const DAY = 86_400_000;

const CONFIG = `
defaults:
  global_holdout: 20%
journeys:
  - id: upgrade_nudge
    holdout: 25%
    entry: { event: customer.created }
    goals:
      - { name: upgraded, event: plan.upgraded, window: 7 days }
    stages:
      - id: nudge
        steps:
          - { type: send, channel: in_app, content: { body: "Upgrade for more seats" } }
          - { type: wait, duration: 30 days }
  - id: receipts
    global_holdout: false
    entry: { event: customer.created }
    goals:
      - { name: paid, event: invoice.paid }
    stages:
      - id: receipt
        steps:
          - { type: send, channel: in_app, content: { body: "Your receipt" } }
`;

/** A seeded coin: the same answers every run. */
function coin(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('uplift reports', () => {
  it('measures a journey against its holdout and the journeys against the global holdout', async () => {
    const clock = new VirtualClock(T0);
    const engine = await Engine.open({
      config: loadConfigFromString(CONFIG),
      store: await openStore({ file: ':memory:' }),
      clock,
      ids: sequentialIds(),
    });
    const app = buildApi(engine);
    const customers = Array.from({ length: 600 }, (_, i) => `c${i}`);
    await engine.ingest(
      customers.map((id) => ({
        type: 'customer.created',
        customerId: id,
        occurredAt: T0,
        payload: { properties: { plan: 'team' } },
      })),
    );
    await engine.runUntilIdle();

    // Who is held out is a stable draw: the global holdout is the same customers in every journey.
    const enrollments = (
      await engine.store.listEnrollments({ journeyId: 'upgrade_nudge', limit: 1000 })
    ).items;
    expect(enrollments).toHaveLength(600);
    const globalMembers = customers.filter((id) => inGlobalHoldout(id, engine.seed, 0.2));
    expect(globalMembers.length).toBeGreaterThan(90);
    expect(globalMembers.length).toBeLessThan(150);
    for (const e of enrollments) {
      if (globalMembers.includes(e.customerId)) expect(e.holdout).toBe(true);
    }
    const receipts = (await engine.store.listEnrollments({ journeyId: 'receipts', limit: 1000 }))
      .items;
    expect(receipts.every((e) => !e.holdout)).toBe(true);
    const heldOut = new Set(enrollments.filter((e) => e.holdout).map((e) => e.customerId));
    // 20% global, then 25% of the rest: about 40% held out.
    expect(heldOut.size).toBeGreaterThan(190);
    expect(heldOut.size).toBeLessThan(290);

    // Treated customers upgrade 40% of the time, held-out ones 20%; upgrades after the 7-day
    // window do not count.
    const random = coin(11);
    const upgrades = customers.filter((id) => random() < (heldOut.has(id) ? 0.2 : 0.4));
    clock.set(T0 + 2 * DAY);
    await engine.ingest(
      upgrades.map((id) => ({
        type: 'plan.upgraded',
        customerId: id,
        occurredAt: clock.now(),
        payload: {},
      })),
    );
    await engine.runUntilIdle();

    // Inside the window every non-converted enrollment is pending.
    const early = (await app.inject({ url: '/v1/journeys/upgrade_nudge/uplift' })).json();
    expect(early.goals[0].pending).toBe(600 - upgrades.length);

    clock.set(T0 + 8 * DAY);
    await engine.ingest([
      { type: 'plan.upgraded', customerId: 'c0', occurredAt: clock.now(), payload: {} },
    ]);
    await engine.runUntilIdle();
    const response = await app.inject({ url: '/v1/journeys/upgrade_nudge/uplift' });
    expect(response.statusCode).toBe(200);
    const report = response.json();
    expect(report).toMatchObject({
      journey_id: 'upgrade_nudge',
      holdout: 0.25,
      global_holdout: 0.2,
      enrollments: 600,
    });
    const [goal] = report.goals;
    expect(goal).toMatchObject({ goal: 'upgraded', window_ms: 7 * DAY, pending: 0 });
    const treatedUpgrades = upgrades.filter((id) => !heldOut.has(id)).length;
    expect(goal.lift.treated).toMatchObject({
      customers: 600 - heldOut.size,
      conversions: treatedUpgrades,
    });
    expect(goal.lift.holdout).toMatchObject({
      customers: heldOut.size,
      conversions: upgrades.length - treatedUpgrades,
    });
    const [lo, hi] = goal.lift.ci95;
    expect(lo).toBeLessThan(goal.lift.absolute_lift);
    expect(hi).toBeGreaterThan(goal.lift.absolute_lift);
    // The true lift (0.2) is inside the interval, and zero is not.
    expect(lo).toBeLessThan(0.2);
    expect(hi).toBeGreaterThan(0.2);
    expect(lo).toBeGreaterThan(0);
    expect(goal.lift.p_value).toBeLessThan(0.001);

    const global = (await app.inject({ url: '/v1/uplift' })).json();
    expect(global.fraction).toBe(0.2);
    // Only the journey taking part; receipts opted out.
    expect(global.journeys.map((j: JsonObject) => j['journey_id'])).toEqual(['upgrade_nudge']);
    expect(global.pooled.holdout.customers).toBe(globalMembers.length);
    expect(global.pooled.holdout.conversions).toBe(
      upgrades.filter((id) => globalMembers.includes(id)).length,
    );
    // The journey-only holdout is in neither group of the global comparison.
    expect(global.pooled.treated.customers).toBe(600 - heldOut.size);

    expect((await app.inject({ url: '/v1/journeys/nope/uplift' })).statusCode).toBe(404);
    await app.close();
    await engine.close();
  });
});

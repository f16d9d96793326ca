/**
 * Behavioural features end to end: `defaults.activity` keeps counters on each profile as events
 * arrive, a model trains on the features derived from them, and live scoring derives the same
 * features at its own instant — so a customer who simply stops logging in becomes risky with time.
 */
import { describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import { VirtualClock, type JsonObject, type NewEvent } from '../core/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-02T10:00:00Z');

const CONFIG = loadConfigFromString(
  `
defaults:
  activity: { events: [login] }
models:
  churn_predictor_v2:
    train: { label: churned, features: [activity_login_days_since_last, activity_login_30d, plan], min_rows: 50 }
predictions:
  churn_risk: { model: churn_predictor_v2, threshold: 0.7, action: create_alert }
`,
  'activity.yaml',
);

describe('activity features', () => {
  it('are kept incrementally, trained on, and derived again at scoring time', async () => {
    const clock = new VirtualClock(T0 - 60 * DAY);
    const store = await openStore({ file: ':memory:' });
    const engine = await Engine.open({ config: CONFIG, store, clock });
    // 200 accounts over 60 days: the engaged half log in every 3 days and stay; the others stop
    // after their first fortnight and most of them churn.
    const events: NewEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const engaged = i % 2 === 0;
      const id = `a${i}`;
      events.push({
        type: 'customer.created',
        customerId: id,
        occurredAt: T0 - 60 * DAY,
        payload: { properties: { plan: i % 3 === 0 ? 'pro' : 'team' } },
      });
      for (let day = 1; day < 60; day += 3) {
        if (!engaged && day > 14) break;
        events.push({
          type: 'login',
          customerId: id,
          occurredAt: T0 - (60 - day) * DAY,
          payload: {},
        });
      }
      events.push({ type: 'page.viewed', customerId: id, occurredAt: T0 - 30 * DAY, payload: {} });
    }
    await engine.ingest(events);
    await engine.runUntilIdle();
    const sample = await store.getCustomer('a0');
    const activity = sample?.attributes['activity'] as Record<string, { total: number }>;
    expect(activity['login']?.total).toBe(20);
    expect(activity['all']?.total).toBe(21);

    // Outcomes become known; the model trains at T0.
    clock.set(T0);
    await engine.ingest(
      Array.from({ length: 200 }, (_, i) => ({
        type: 'customer.updated',
        customerId: `a${i}`,
        occurredAt: T0,
        payload: { changes: { churned: i % 2 === 0 ? i % 10 === 0 : i % 10 !== 1 } },
      })),
    );
    await engine.runUntilIdle();
    const model = await engine.retrainModel('churn_predictor_v2');
    const body = model.body as { columns: { column: string }[] };
    expect(body.columns.map((c) => c.column)).toEqual([
      'customer_id',
      'activity_login_days_since_last',
      'activity_login_30d',
      'plan',
      'churned',
    ]);
    expect((model.metrics as { rocAuc: { mean: number } }).rocAuc.mean).toBeGreaterThan(0.7);

    // A new account logs in every few days for a month: low risk now, high a month later without a login —
    // nothing was written to its profile in between; the features were derived at each instant.
    await engine.ingest([
      {
        type: 'customer.created',
        customerId: 'new',
        occurredAt: T0,
        payload: { properties: { plan: 'team' } },
      },
      ...[27, 24, 21, 18, 15, 12, 9, 6, 3, 0].map((ago) => ({
        type: 'login',
        customerId: 'new',
        occurredAt: T0 - ago * DAY,
        payload: {},
      })),
    ]);
    await engine.runUntilIdle();
    const [today] = await engine.scoreCustomer('new');
    clock.set(T0 + 30 * DAY);
    const [later] = await engine.scoreCustomer('new');
    expect(today?.probability).toBeLessThan(0.3);
    expect(later?.probability).toBeGreaterThan(0.6);
    expect(later?.factors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^activity_login_days_since_last=30 \(\+/u),
        expect.stringMatching(/^activity_login_30d=0 \(\+/u),
      ]),
    );
    const stored = (await store.getCustomer('new'))?.attributes as JsonObject;
    expect(Object.keys(stored).sort()).toEqual(['activity', 'plan']);
    await engine.close();
  });
});

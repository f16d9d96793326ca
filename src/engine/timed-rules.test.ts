/**
 * A rule whose `schedule` names a `schedules` entry (or has its own cron) runs on that schedule,
 * for every customer in the schedule's zone, instead of on events: the spec's "Morning Check-in"
 * at 9 AM each weekday in each customer's own time zone.
 */
import { describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';
import { simulate } from './simulation.js';

const CONFIG = loadConfigFromString(
  `
schedules:
  - name: "Morning Check-in"
    cron: "0 9 * * 1-5" # 9 AM weekdays
    timezone: "customer.timezone"
rules:
  - id: checkin
    name: Check in on struggling accounts
    priority: 10
    schedule: "Morning Check-in"
    conditions: { logic: AND, conditions: [{ field: customer.health_score, operator: lt, value: 50 }] }
    exceptions: { logic: OR, conditions: [{ field: customer.csm_engaged, operator: eq, value: true }] }
    actions:
      - { type: create_task, params: { title: "Check in with {{customer.id}}" } }
  - id: monthly
    name: Monthly note
    priority: 20
    schedule: { cron: "0 10 1 * *", timezone: UTC }
    conditions: { logic: AND, conditions: [{ field: customer.plan, operator: eq, value: pro }] }
    actions:
      - { type: create_alert, params: { severity: low, message: "Monthly review for {{customer.id}}" } }
`,
  'timed-rules.yaml',
);

describe('rules run on a schedule', () => {
  it("fires at 9 AM on weekdays in each customer's zone, only where conditions hold and no exception does", async () => {
    const result = await simulate({
      config: CONFIG,
      openStore: () => openStore({ file: ':memory:' }),
      customers: [
        { id: 'tokyo', attributes: { timezone: 'Asia/Tokyo', health_score: 30, plan: 'pro' } },
        { id: 'ny', attributes: { timezone: 'America/New_York', health_score: 40 } },
        { id: 'fine', attributes: { timezone: 'UTC', health_score: 90 } },
        { id: 'handled', attributes: { timezone: 'UTC', health_score: 10, csm_engaged: true } },
      ],
      events: [],
      // Thursday 23:00Z to Monday 23:00Z: Friday and Monday are weekdays.
      start: Date.parse('2026-04-30T23:00:00Z'),
      until: Date.parse('2026-05-04T23:00:00Z'),
    });
    const tasks = result.journeyEvents
      .filter((e) => e.type === 'task.created')
      .map((e) => [e.customerId, new Date(e.timestamp).toISOString()]);
    expect(tasks).toEqual([
      ['tokyo', '2026-05-01T00:00:00.000Z'], // Friday 09:00 in Tokyo
      ['ny', '2026-05-01T13:00:00.000Z'], // Friday 09:00 EDT
      ['tokyo', '2026-05-04T00:00:00.000Z'], // Monday 09:00 in Tokyo
      ['ny', '2026-05-04T13:00:00.000Z'],
    ]);
    const alerts = result.journeyEvents
      .filter((e) => e.type === 'alert.created')
      .map((e) => [e.customerId, new Date(e.timestamp).toISOString()]);
    expect(alerts).toEqual([['tokyo', '2026-05-01T10:00:00.000Z']]);
  });

  it('is not run by events, and an unknown schedule name is refused at start', async () => {
    const broken = loadConfigFromString(
      `
rules:
  - id: r
    name: r
    schedule: "Nope"
    conditions: { logic: AND, conditions: [{ field: customer.x, operator: eq, value: 1 }] }
    actions: [{ type: create_task, params: { title: t } }]
`,
      'broken.yaml',
    );
    const { VirtualClock } = await import('../core/index.js');
    await expect(
      Engine.open({
        config: broken,
        store: await openStore({ file: ':memory:' }),
        clock: new VirtualClock(0),
      }),
    ).rejects.toMatchObject({ code: 'PROJECT_INVALID' });
    const result = await simulate({
      config: CONFIG,
      openStore: () => openStore({ file: ':memory:' }),
      customers: [{ id: 'c', attributes: { timezone: 'UTC', health_score: 10 } }],
      events: [
        {
          type: 'ping',
          customerId: 'c',
          occurredAt: Date.parse('2026-05-02T12:00:00Z'),
          payload: {},
        },
      ],
      start: Date.parse('2026-05-02T00:00:00Z'),
      until: Date.parse('2026-05-03T23:00:00Z'),
    });
    // A weekend with an event: nothing fires.
    expect(result.journeyEvents.filter((e) => e.type === 'task.created')).toEqual([]);
  });
});

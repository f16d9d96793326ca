/**
 * Schedule triggers end to end in virtual time: per-customer zones, anchors that move or vanish,
 * misfires after downtime and a restart across a due fire. Fires are observed as the tasks the
 * triggers create (`task.created` journey events), in each customer's local time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import { VirtualClock, type JourneyEventRecord, type NewEvent } from '../core/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';
import { simulate } from './simulation.js';

const memoryStore = () => openStore({ file: ':memory:' });

function config(schedule: string, trigger = '') {
  return loadConfigFromString(
    `
schedules:
${schedule}
triggers:
  - name: Fire
    schedule: S
    action: create_task
${trigger}
`,
    'schedules.yaml',
  );
}

function updated(customerId: string, at: string, changes: Record<string, unknown>): NewEvent {
  return {
    type: 'customer.updated',
    customerId,
    occurredAt: Date.parse(at),
    payload: { changes } as NewEvent['payload'],
  };
}

/** Local fire times of the trigger per customer, ISO without milliseconds. */
function fires(
  events: JourneyEventRecord[],
  zones: Record<string, string>,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of events) {
    if (e.type !== 'task.created') continue;
    const zone = zones[e.customerId] ?? 'UTC';
    (out[e.customerId] ??= []).push(
      DateTime.fromMillis(e.timestamp, { zone }).toISO({ suppressMilliseconds: true }) ?? '',
    );
  }
  return out;
}

describe('cron schedules in each customer zone', () => {
  it('reaches Tokyo and New York at 9 AM local on weekdays, and UTC+14 / UTC−12 alike', async () => {
    const zones = {
      tokyo: 'Asia/Tokyo',
      ny: 'America/New_York',
      kiritimati: 'Pacific/Kiritimati',
      baker: 'Etc/GMT+12',
    };
    const result = await simulate({
      config: config(`  - { name: S, cron: "0 9 * * 1-5", timezone: customer.timezone }`),
      openStore: memoryStore,
      customers: Object.entries(zones).map(([id, timezone]) => ({ id, attributes: { timezone } })),
      events: [],
      // Friday 01:00 UTC to Monday 23:00 UTC. The same local 9 AM is a different UTC day at
      // UTC+14 and UTC−12: Kiritimati's Monday fire is Sunday 19:00 UTC, its Tuesday fire Monday
      // 19:00 UTC; Tokyo's Friday fire (00:00 UTC) was before the start.
      start: Date.parse('2026-06-05T01:00:00Z'),
      until: Date.parse('2026-06-08T23:00:00Z'),
    });
    expect(fires(result.journeyEvents, zones)).toEqual({
      ny: ['2026-06-05T09:00:00-04:00', '2026-06-08T09:00:00-04:00'],
      baker: ['2026-06-05T09:00:00-12:00', '2026-06-08T09:00:00-12:00'],
      kiritimati: ['2026-06-08T09:00:00+14:00', '2026-06-09T09:00:00+14:00'],
      tokyo: ['2026-06-08T09:00:00+09:00'],
    });
  });
});

describe('cron schedules across DST and month ends', () => {
  const zones = { ny: 'America/New_York' };
  const run = (cron: string, start: string, until: string) =>
    simulate({
      config: config(`  - { name: S, cron: "${cron}", timezone: America/New_York }`),
      openStore: memoryStore,
      customers: [{ id: 'ny', attributes: {} }],
      events: [],
      start: Date.parse(start),
      until: Date.parse(until),
    });

  it('a 02:30 fire on the spring-forward day happens once, at 03:30', async () => {
    const result = await run('30 2 * * *', '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z');
    expect(fires(result.journeyEvents, zones)['ny']).toEqual([
      '2026-03-08T03:30:00-04:00',
      '2026-03-09T02:30:00-04:00',
    ]);
  });

  it('a 01:30 fire on the fall-back day happens once although 01:30 comes twice', async () => {
    const result = await run('30 1 * * *', '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z');
    expect(fires(result.journeyEvents, zones)['ny']).toEqual([
      '2026-11-01T01:30:00-04:00',
      '2026-11-02T01:30:00-05:00',
    ]);
  });

  it('0 10 31 * * fires on the 31st of months that have one, and only then', async () => {
    const result = await run('0 10 31 * *', '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z');
    expect(fires(result.journeyEvents, zones)['ny']).toEqual([
      '2026-01-31T10:00:00-05:00',
      '2026-03-31T10:00:00-04:00',
      '2026-05-31T10:00:00-04:00',
    ]);
  });
});

describe('schedules relative to a date field', () => {
  const renewal = config(
    `  - { name: S, relative: "-30 days", anchor: contract.end_date, timezone: Europe/Paris }`,
  );
  const zones = { acme: 'Europe/Paris' };

  it('moves with a moved contract end, fires once per anchor value, and stops when it is removed', async () => {
    const result = await simulate({
      config: renewal,
      openStore: memoryStore,
      customers: [{ id: 'acme', attributes: { contract: { end_date: '2026-06-30' } } }],
      events: [
        // Extended before the first reminder: the reminder moves to 30 days before the new end.
        updated('acme', '2026-05-01T08:00:00Z', { contract: { end_date: '2026-09-30' } }),
        // Re-saved with the same date after it fired: no second reminder for that date.
        updated('acme', '2026-09-05T08:00:00Z', {
          contract: { end_date: '2026-09-30' },
          note: 'x',
        }),
        // Extended again, then the field is removed before the reminder: it is cancelled.
        updated('acme', '2026-09-10T08:00:00Z', { contract: { end_date: '2027-03-31' } }),
        updated('acme', '2026-12-01T08:00:00Z', { contract: {} }),
      ],
      start: Date.parse('2026-04-01T00:00:00Z'),
      until: Date.parse('2027-06-01T00:00:00Z'),
    });
    expect(fires(result.journeyEvents, zones)).toEqual({ acme: ['2026-08-31T09:00:00+02:00'] });
  });

  it('a Feb 29 anchor: a day before, at 09:00 local', async () => {
    const result = await simulate({
      config: config(`  - { name: S, relative: "-1 day", anchor: renewal_date, at: "10:30" }`),
      openStore: memoryStore,
      customers: [{ id: 'leap', attributes: { renewal_date: '2028-02-29' } }],
      events: [],
      start: Date.parse('2028-01-01T00:00:00Z'),
      until: Date.parse('2028-12-31T00:00:00Z'),
    });
    expect(fires(result.journeyEvents, {})).toEqual({ leap: ['2028-02-28T10:30:00Z'] });
  });

  it('7 days after an event, at 09:00 in the customer zone', async () => {
    const result = await simulate({
      config: config(`  - { name: S, relative: "7 days", after_event: customer.created }`),
      openStore: memoryStore,
      customers: [],
      events: [
        {
          type: 'customer.created',
          customerId: 'new',
          occurredAt: Date.parse('2026-05-04T15:00:00Z'),
          payload: { properties: { timezone: 'Asia/Tokyo' } },
        },
      ],
      until: Date.parse('2026-06-01T00:00:00Z'),
    });
    expect(fires(result.journeyEvents, { new: 'Asia/Tokyo' })).toEqual({
      new: ['2026-05-12T09:00:00+09:00'],
    });
  });
});

describe('downtime and restarts', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  async function restartAcross(misfire: string): Promise<{ fired: number[]; decisions: string[] }> {
    const dir = await mkdtemp(join(tmpdir(), 'waymark-schedule-'));
    dirs.push(dir);
    const file = join(dir, 'waymark.db');
    const cfg = config(`  - { name: S, cron: "0 * * * *", misfire: ${misfire} }`);
    const start = Date.parse('2026-06-01T10:30:00Z');
    const clock = new VirtualClock(start);
    const first = await Engine.open({ config: cfg, store: await openStore({ file }), clock });
    await first.store.upsertCustomers([
      { id: 'c1', attributes: {}, createdAt: start, updatedAt: start },
    ]);
    await first.runUntilIdle(); // plans 11:00
    await first.close();
    // Down from 10:30 to 15:10: four hourly fires missed.
    clock.set(Date.parse('2026-06-01T15:10:00Z'));
    const second = await Engine.open({ config: cfg, store: await openStore({ file }), clock });
    await second.runUntilIdle();
    await second.runUntilIdle();
    clock.set(Date.parse('2026-06-01T16:00:00Z'));
    await second.runUntilIdle();
    const tasks = await second.store.listJourneyEvents({
      customerId: 'c1',
      type: 'task.created',
      limit: 10,
    });
    const decisions = await second.store.listDecisions({ customerId: 'c1', limit: 10 });
    await second.close();
    return {
      fired: tasks.items.map((e) => new Date(e.timestamp).getUTCHours()),
      decisions: decisions.map((d) => d.kind).filter((k) => k.startsWith('schedule')),
    };
  }

  it('fires once for what it missed (fire_once), then on time', async () => {
    expect(await restartAcross('fire_once')).toEqual({ fired: [15, 16], decisions: [] });
  });

  it('skips what it missed (skip), then fires on time', async () => {
    expect(await restartAcross('skip')).toEqual({ fired: [16], decisions: ['schedule_missed'] });
  });
});

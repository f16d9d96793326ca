import { describe, expect, it } from 'vitest';
import { loadConfigFromString } from '../config/index.js';
import { VirtualClock, type JourneyEventRecord, type JsonObject } from '../core/index.js';
import { Engine } from '../engine/index.js';
import { openStore } from '../store/index.js';
import { createMetrics } from './index.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');

const CONFIG = `
journeys:
  - id: onboarding
    stages:
      - id: welcome
        steps: [{ type: wait, duration: 1 day }]
      - id: activation
        steps: [{ type: wait, duration: 1 day }]
`;

function journeyEvent(type: string, journeyId: string, data: JsonObject = {}): JourneyEventRecord {
  return { type, journeyId, customerId: 'c1', timestamp: T0, data };
}

describe('createMetrics', () => {
  it('counts committed journey events passed to the sink', async () => {
    const metrics = createMetrics();
    await metrics.sink([
      journeyEvent('journey.enrolled', 'onboarding'),
      journeyEvent('journey.enrolled', 'onboarding'),
      journeyEvent('journey.enrolled', 'renewal'),
      journeyEvent('step.completed', 'onboarding', { step_type: 'send' }),
      journeyEvent('step.completed', 'onboarding', { step_type: 'wait' }),
      journeyEvent('step.completed', 'onboarding', { step_type: 'send' }),
      journeyEvent('journey.completed', 'onboarding', { reason: 'end_of_journey' }),
      journeyEvent('journey.exited', 'onboarding', { reason: 'goal_reached' }),
      journeyEvent('journey.exited', 'renewal', {}),
      journeyEvent('message.sent', 'onboarding', { channel: 'email' }),
      journeyEvent('message.failed', 'onboarding', { channel: 'sms', error: 'bounced' }),
      journeyEvent('message.sent', '', { channel: 'in_app' }),
      journeyEvent('journey.stage_changed', 'onboarding', { from: 'a', to: 'b' }),
    ]);
    const text = await metrics.exposition();
    expect(text).toContain('journey_enrollments_total{journey_id="onboarding"} 2');
    expect(text).toContain('journey_enrollments_total{journey_id="renewal"} 1');
    expect(text).toContain(
      'journey_step_completions_total{journey_id="onboarding",step_type="send"} 2',
    );
    expect(text).toContain(
      'journey_step_completions_total{journey_id="onboarding",step_type="wait"} 1',
    );
    expect(text).toContain('journey_completions_total{journey_id="onboarding"} 1');
    expect(text).toContain('journey_exits_total{journey_id="onboarding",reason="goal_reached"} 1');
    expect(text).toContain('journey_exits_total{journey_id="renewal",reason="unknown"} 1');
    expect(text).toContain('messages_total{channel="email",status="sent"} 1');
    expect(text).toContain('messages_total{channel="sms",status="failed"} 1');
    expect(text).toContain('messages_total{channel="in_app",status="sent"} 1');
  });

  it('keeps each registry separate', async () => {
    const a = createMetrics();
    const b = createMetrics();
    await a.sink([journeyEvent('journey.enrolled', 'x')]);
    expect(await a.exposition()).toContain('journey_enrollments_total{journey_id="x"} 1');
    expect(await b.exposition()).not.toContain('journey_id="x"');
  });

  it('counts ingestion results and ignores zero counts', async () => {
    const metrics = createMetrics();
    metrics.countIngested('accepted', 3);
    metrics.countIngested('duplicate', 0);
    metrics.countIngested('rejected', 2);
    const text = await metrics.exposition();
    expect(text).toContain('events_ingested_total{result="accepted"} 3');
    expect(text).toContain('events_ingested_total{result="rejected"} 2');
    expect(text).not.toContain('events_ingested_total{result="duplicate"}');
  });

  it('reads gauges from the store at scrape time, dropping stages nobody is in', async () => {
    const engine = await Engine.open({
      config: loadConfigFromString(CONFIG),
      store: await openStore({ file: ':memory:' }),
      clock: new VirtualClock(T0),
    });
    try {
      const metrics = createMetrics({ journeyCountsRefreshMs: 0 });
      metrics.watchStore(engine.store);
      await engine.store.appendEvents(
        [{ type: 'page.viewed', customerId: 'x', occurredAt: T0, payload: {} }],
        T0,
      );
      expect(await metrics.exposition()).toMatch(/^queue_depth 1$/mu);
      await engine.enroll('onboarding', 'c1');
      await engine.enroll('onboarding', 'c2');
      expect(await metrics.exposition()).toMatch(/^queue_depth 0$/mu);
      expect(await metrics.exposition()).toContain(
        'journey_active_enrollments{journey_id="onboarding",stage="welcome"} 2',
      );
      await engine.advanceCustomer('onboarding', 'c1');
      await engine.unenroll('onboarding', 'c2');
      const text = await metrics.exposition();
      expect(text).not.toContain('stage="welcome"');
      expect(text).toContain(
        'journey_active_enrollments{journey_id="onboarding",stage="activation"} 1',
      );
    } finally {
      await engine.close();
    }
  });

  it('reads the per-stage counts again only once the refresh interval has passed', async () => {
    const clock = new VirtualClock(T0);
    const engine = await Engine.open({
      config: loadConfigFromString(CONFIG),
      store: await openStore({ file: ':memory:' }),
      clock,
    });
    try {
      const metrics = createMetrics({ clock, journeyCountsRefreshMs: 5_000 });
      metrics.watchStore(engine.store);
      await engine.enroll('onboarding', 'c1');
      const welcome = (n: number) =>
        `journey_active_enrollments{journey_id="onboarding",stage="welcome"} ${n}`;
      expect(await metrics.exposition()).toContain(welcome(1));
      await engine.enroll('onboarding', 'c2');
      // Within the interval the last counts are served.
      clock.advance(4_999);
      expect(await metrics.exposition()).toContain(welcome(1));
      clock.advance(1);
      expect(await metrics.exposition()).toContain(welcome(2));
    } finally {
      await engine.close();
    }
  });

  it('still answers a scrape when the store is down, without the store gauges', async () => {
    const store = await openStore({ file: ':memory:' });
    const warnings: string[] = [];
    const metrics = createMetrics({
      log: { info() {}, warn: (m) => warnings.push(m), error() {} },
    });
    metrics.watchStore(store);
    metrics.countIngested('accepted', 1);
    await store.close();
    const text = await metrics.exposition();
    expect(text).toContain('events_ingested_total{result="accepted"} 1');
    // prom-client writes "Nan"; Prometheus parses NaN case-insensitively.
    expect(text).toMatch(/^queue_depth nan$/imu);
    expect(text).not.toMatch(/^journey_active_enrollments\{/mu);
    expect(warnings.length).toBeGreaterThan(0);
  });
});

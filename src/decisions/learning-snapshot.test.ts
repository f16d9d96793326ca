/**
 * Snapshots of the population learning: a snapshot restored is the learning it was taken from
 * (the models read the same priors), increments merged onto a stored snapshot count once, and a
 * malformed body is refused with the path of the field, never accepted as NaN.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/index.js';
import {
  DAYPARTS,
  EngagementLearning,
  mergeLearningSnapshots,
  type LearnedSend,
} from './engagement-learning.js';
import { hourOfWeek } from './hour-of-week.js';
import { learningHeadline, learningMetrics } from './learning-metrics.js';
import { parseLearningSnapshot, type LearningSnapshot } from './learning-snapshot.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-06-15T12:00:00Z');
const HALF_LIFE = 14 * DAY;

/** One thing the learning is told, at a `now` that never goes back (as the engine's clock). */
type Step =
  | { kind: 'send'; send: LearnedSend; now: number }
  | {
      kind: 'engage';
      messageId: string;
      channel: string;
      sentAt: number;
      zone: string;
      now: number;
    }
  | {
      kind: 'ledger';
      customer: string;
      contacts: { channel: string; at: number; engaged: boolean }[];
      zone: string;
      now: number;
    };

// Names include ones that break naive objects (`__proto__`, `constructor`) and JSON ('"', '\\').
const names = fc.oneof(
  fc.constantFrom('email', 'sms', 'push', '__proto__', 'constructor', 'a"b\\c', '客户'),
  fc.string({ minLength: 1, maxLength: 6 }),
);
const zones = fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata');

/** A random history: sends (some personalised), engagements with them, ledgers, over ~3 weeks. */
const history: fc.Arbitrary<Step[]> = fc
  .array(
    fc.tuple(
      fc.nat(4),
      fc.integer({ min: 0, max: 6 * HOUR }),
      names,
      fc.option(fc.tuple(names, fc.constantFrom('a', 'b', 'c')), { nil: null }),
      zones,
      fc.integer({ min: -2 * DAY, max: 2 * DAY }),
      fc.array(fc.tuple(names, fc.integer({ min: 0, max: 30 * DAY }), fc.boolean()), {
        maxLength: 5,
      }),
    ),
    { maxLength: 60 },
  )
  .map((draws) => {
    let now = T0;
    const sent: { messageId: string; channel: string; at: number; zone: string }[] = [];
    return draws.map(([kind, step, channel, personalised, zone, offset, contacts], i): Step => {
      now += step;
      const earlier = sent[i % Math.max(sent.length, 1)];
      if (kind === 3 && earlier !== undefined) {
        return { kind: 'engage', ...earlier, sentAt: earlier.at, now };
      }
      if (kind === 4) {
        return {
          kind: 'ledger',
          customer: `c${i % 7}`,
          contacts: contacts.map(([ch, ago, engaged]) => ({ channel: ch, at: now - ago, engaged })),
          zone,
          now,
        };
      }
      // Sends go out at `now` or later (held for quiet hours or the optimal time) or were queued
      // a little earlier.
      const send: LearnedSend = {
        messageId: `m${i}`,
        channel,
        at: now + offset,
        zone,
        template: personalised?.[0] ?? null,
        variant: personalised?.[1] ?? null,
      };
      sent.push({ messageId: send.messageId, channel, at: send.at, zone });
      return { kind: 'send', send, now };
    });
  });

function feed(learning: EngagementLearning, steps: readonly Step[]): void {
  for (const step of steps) {
    if (step.kind === 'send') learning.recordSend(step.send, step.now);
    else if (step.kind === 'engage') learning.recordEngagement(step, step.now);
    else learning.observeLedger(step.customer, step.contacts, step.zone, step.now);
  }
}

function lastNow(steps: readonly Step[]): number {
  return steps.at(-1)?.now ?? T0;
}

/** Every channel and template a history names. */
function namesIn(steps: readonly Step[]): { channels: Set<string>; templates: Set<string> } {
  const channels = new Set<string>();
  const templates = new Set<string>();
  for (const step of steps) {
    if (step.kind === 'send') {
      channels.add(step.send.channel);
      if (step.send.template !== null) templates.add(step.send.template);
    } else if (step.kind === 'engage') channels.add(step.channel);
    else for (const c of step.contacts) channels.add(c.channel);
  }
  return { channels, templates };
}

/** What the models read from a learning at `now`. */
function priors(learning: EngagementLearning, steps: readonly Step[], now: number) {
  const { channels, templates } = namesIn(steps);
  return {
    hours: [...learning.sendTimeRates(now)],
    channels: [...channels, 'never-used'].map((ch) =>
      DAYPARTS.map((_, d) => learning.channelRate(ch, d, now)),
    ),
    variants: [...templates].map((t) => [...learning.variantCounts(t, now)]),
  };
}

/** Every number of a snapshot, in one order, for comparisons within a tolerance. */
function numbers(snapshot: LearningSnapshot): number[] {
  const out = [...snapshot.hours.sent, ...snapshot.hours.engaged];
  for (const key of Object.keys(snapshot.channels).sort()) {
    const cells = snapshot.channels[key];
    out.push(...(cells?.sent ?? []), ...(cells?.engaged ?? []));
  }
  for (const template of Object.keys(snapshot.variants).sort()) {
    const byVariant = snapshot.variants[template] ?? {};
    for (const variant of Object.keys(byVariant).sort()) {
      out.push(byVariant[variant]?.sent ?? 0, byVariant[variant]?.engaged ?? 0);
    }
  }
  return out;
}

function expectClose(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => {
    const e = expected[i] ?? 0;
    expect(Math.abs(v - e)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e)));
  });
}

describe('learning snapshots', () => {
  it('round-trip through JSON exactly: the restored learning gives the models the same priors', () => {
    fc.assert(
      fc.property(history, (steps) => {
        const learning = new EngagementLearning();
        feed(learning, steps);
        const now = lastNow(steps);
        const snapshot = learning.snapshot(now);
        const stored: unknown = JSON.parse(JSON.stringify(snapshot));
        const parsed = parseLearningSnapshot(stored, 'test');
        expect(parsed).toEqual(snapshot);
        const restored = EngagementLearning.fromSnapshot(parsed, {}, now);
        expect(restored.snapshot(now)).toEqual(snapshot);
        expect(priors(restored, steps, now)).toEqual(priors(learning, steps, now));
      }),
      { numRuns: 150 },
    );
  });

  it('restored later, decay as the learning would have had it kept running', () => {
    fc.assert(
      fc.property(history, fc.integer({ min: 0, max: 60 * DAY }), (steps, downtime) => {
        const learning = new EngagementLearning();
        feed(learning, steps);
        const stopped = lastNow(steps);
        const restarted = stopped + downtime;
        const restored = EngagementLearning.fromSnapshot(learning.snapshot(stopped), {}, restarted);
        expectClose(numbers(restored.snapshot(restarted)), numbers(learning.snapshot(restarted)));
      }),
      { numRuns: 100 },
    );
  });

  it('taking a snapshot changes nothing the models read', () => {
    fc.assert(
      fc.property(history, history, (before, after) => {
        const shifted = after.map((s) => ({ ...s, now: s.now + 30 * DAY }));
        const plain = new EngagementLearning();
        const saved = new EngagementLearning();
        feed(plain, before);
        feed(saved, before);
        saved.snapshot(lastNow(before) + DAY);
        saved.takeUnsaved(lastNow(before) + DAY);
        feed(plain, shifted);
        feed(saved, shifted);
        const now = lastNow(shifted) + 1;
        expect(priors(saved, shifted, now)).toEqual(priors(plain, shifted, now));
      }),
      { numRuns: 50 },
    );
  });

  it('merge two processes’ increments into what one process seeing both would know', () => {
    fc.assert(
      fc.property(
        history,
        fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }),
        (steps, split) => {
          // Two processes share the traffic; ledgers and engagements go with the send's process
          // only in part, as customers move between processes, so split each step at random.
          const a = new EngagementLearning();
          const b = new EngagementLearning();
          const both = new EngagementLearning();
          const first = steps.filter((_, i) => split[i] === true);
          const second = steps.filter((_, i) => split[i] !== true);
          // Ledger steps are once per customer per process: keep them out of this comparison.
          const counted = (s: Step) => s.kind !== 'ledger';
          feed(a, first.filter(counted));
          feed(b, second.filter(counted));
          feed(both, steps.filter(counted));
          const now = lastNow(steps);
          const stored = mergeLearningSnapshots(null, a.takeUnsaved(now).snapshot, now, HALF_LIFE);
          const merged = mergeLearningSnapshots(
            stored,
            b.takeUnsaved(now).snapshot,
            now,
            HALF_LIFE,
          );
          // Variant engagements are attributed through the sending process's memory of the send.
          const { variants: _a, ...mergedCounts } = merged;
          const { variants: _b, ...bothCounts } = both.snapshot(now);
          expectClose(
            numbers({ ...mergedCounts, variants: {} }),
            numbers({ ...bothCounts, variants: {} }),
          );
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('saving increments', () => {
  it('hands out only what was counted since the last save, and takes back a failed save’s', () => {
    const learning = new EngagementLearning();
    const send = (id: string, now: number) => {
      learning.recordSend(
        { messageId: id, channel: 'email', at: now, zone: 'UTC', template: 't', variant: 'a' },
        now,
      );
    };
    expect(learning.unsavedObservations).toBe(0);
    send('m1', T0);
    send('m2', T0);
    const first = learning.takeUnsaved(T0);
    expect(first.observations).toBe(2);
    expect(first.snapshot.variants['t']?.['a']).toEqual({ sent: 2, engaged: 0 });
    expect(learning.unsavedObservations).toBe(0);
    // The save fails: the increments go back and ride with the next ones.
    learning.returnUnsaved(first, T0 + HOUR);
    send('m3', T0 + HOUR);
    const second = learning.takeUnsaved(T0 + HOUR);
    expect(second.observations).toBe(3);
    expect(second.snapshot.hours.sent.reduce((a, b) => a + b)).toBeCloseTo(
      2 * Math.pow(2, -HOUR / HALF_LIFE) + 1,
      12,
    );
    // The models' view was the whole all along.
    expect(learning.variantCounts('t', T0 + HOUR).get('a')?.sent).toBeCloseTo(
      2 * Math.pow(2, -HOUR / HALF_LIFE) + 1,
      12,
    );
  });

  it('rebased on the stored version it saved, counts its own increments once', () => {
    // Process P saved v1 = its increments; process Q adds its own onto v1 as v2; P picks up v2.
    const p = new EngagementLearning();
    const q = new EngagementLearning();
    const email = (id: string, now: number) => ({
      messageId: id,
      channel: 'email',
      at: now,
      zone: 'UTC',
      template: null,
      variant: null,
    });
    p.recordSend(email('p1', T0), T0);
    const v1 = mergeLearningSnapshots(null, p.takeUnsaved(T0).snapshot, T0, HALF_LIFE);
    p.rebase(v1, T0);
    q.restore(v1, T0);
    q.recordSend(email('q1', T0), T0);
    p.recordSend(email('p2', T0), T0); // not saved yet
    const v2 = mergeLearningSnapshots(v1, q.takeUnsaved(T0).snapshot, T0, HALF_LIFE);
    q.rebase(v2, T0);
    p.restore(v2, T0);
    const sends = (l: EngagementLearning) =>
      l.channelRate('email', DAYPARTS.indexOf('afternoon'), T0).sends;
    expect(sends(q)).toBe(2);
    expect(sends(p)).toBe(3); // p1 and q1 stored, p2 its own and still unsaved
    const v3 = mergeLearningSnapshots(v2, p.takeUnsaved(T0).snapshot, T0, HALF_LIFE);
    expect(v3.channels['email']?.sent.reduce((a, b) => a + b)).toBe(3);
  });

  it('stops reading ledgers once a stored snapshot is restored', () => {
    const learning = new EngagementLearning();
    const ledger = [{ channel: 'email', at: T0 - 3 * DAY, engaged: true }];
    learning.observeLedger('c1', ledger, 'UTC', T0);
    expect(learning.warmingUp).toBe(true);
    // Another process's stored snapshot (empty here); c1's contact is this process's, unsaved.
    learning.restore(new EngagementLearning().snapshot(T0), T0);
    expect(learning.warmingUp).toBe(false);
    learning.observeLedger('c2', ledger, 'UTC', T0);
    expect(learning.snapshot(T0).hours.engaged.reduce((a, b) => a + b)).toBe(Math.pow(2, -3 / 14));
  });
});

describe('malformed snapshots', () => {
  const good = (): Record<string, unknown> =>
    JSON.parse(
      JSON.stringify(
        (() => {
          const l = new EngagementLearning();
          l.recordSend(
            { messageId: 'm', channel: 'email', at: T0, zone: 'UTC', template: 't', variant: 'a' },
            T0,
          );
          return l.snapshot(T0);
        })(),
      ),
    ) as Record<string, unknown>;

  const cases: [string, (body: Record<string, unknown>) => unknown, string][] = [
    ['not an object', () => [1, 2], '(the body) must be an object'],
    ['another format', (b) => ({ ...b, format: 2 }), 'format is 2; this Waymark reads format 1'],
    ['no format', (b) => ({ ...b, format: undefined }), 'format is nothing'],
    ['no instant', (b) => ({ ...b, at: '2026-06-15' }), 'at must be an instant'],
    ['a zero half-life', (b) => ({ ...b, halfLifeMs: 0 }), 'halfLifeMs must be a positive'],
    [
      'short hours',
      (b) => ({ ...b, hours: { sent: [1], engaged: [] } }),
      'hours.sent must be an array of 168',
    ],
    [
      'a negative count',
      (b) => ({
        ...b,
        channels: { email: { sent: [0, 0, -1, 0], engaged: [0, 0, 0, 0] } },
      }),
      'channels["email"].sent[2] must be a finite count ≥ 0, got -1',
    ],
    [
      'a text count',
      (b) => ({ ...b, variants: { t: { a: { sent: '3', engaged: 0 } } } }),
      'variants["t"]["a"].sent must be a finite count ≥ 0, got "3"',
    ],
    ['no channels', (b) => ({ ...b, channels: null }), 'channels must be an object'],
  ];

  it.each(cases)('refuses %s, naming the field', (_, change, message) => {
    const body = change(good());
    expect(() => parseLearningSnapshot(body, 'engagement_learning@7')).toThrow(InvalidInputError);
    try {
      parseLearningSnapshot(body, 'engagement_learning@7');
    } catch (error) {
      expect(error).toMatchObject({ code: 'LEARNING_SNAPSHOT_INVALID' });
      expect((error as Error).message).toContain('engagement_learning@7: ');
      expect((error as Error).message).toContain(message);
    }
  });

  it('accepts a good body and refuses anything else with its own error, never another', () => {
    expect(parseLearningSnapshot(good(), 'x').channels['email']?.sent).toHaveLength(4);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseLearningSnapshot(value, 'x');
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidInputError);
          expect(error).toMatchObject({ code: 'LEARNING_SNAPSHOT_INVALID' });
        }
      }),
    );
  });
});

describe('learning metrics', () => {
  it('say what was learned: rates by channel and daypart, the best hours, each variant', () => {
    const learning = new EngagementLearning();
    // 40 days of two e-mails a day, 20:00 (engaged) and 09:00 (ignored), UTC; an SMS now and then.
    for (let day = 40; day > 0; day--) {
      for (const hour of [9, 20]) {
        const at = Date.parse('2026-05-01T00:00:00Z') + (40 - day) * DAY + hour * HOUR;
        const id = `m${day}-${hour}`;
        learning.recordSend(
          {
            messageId: id,
            channel: 'email',
            at,
            zone: 'UTC',
            template: 'offer',
            variant: hour === 20 ? 'short' : 'long',
          },
          at,
        );
        if (hour === 20) {
          learning.recordEngagement(
            { messageId: id, channel: 'email', sentAt: at, zone: 'UTC' },
            at,
          );
        }
      }
    }
    const now = Date.parse('2026-06-10T00:00:00Z');
    learning.recordSend(
      { messageId: 's', channel: 'sms', at: now, zone: 'UTC', template: null, variant: null },
      now,
    );
    const snapshot = learning.snapshot(now);
    const metrics = learningMetrics(snapshot, learning.takeUnsaved(now));
    expect(JSON.parse(JSON.stringify(metrics))).toEqual(metrics);
    expect(metrics).toMatchObject({
      at: '2026-06-10T00:00:00.000Z',
      halfLifeDays: 14,
      rate: expect.closeTo(0.5, 1) as number,
      added: { observations: 121 },
      dayparts: {
        morning: { rate: 0 },
        afternoon: { sends: 0, rate: null },
        evening: { rate: 1 },
        night: { sends: 1, rate: 0 },
      },
      channels: { email: { rate: expect.closeTo(0.5, 1) as number }, sms: { sends: 1, rate: 0 } },
      templates: { offer: { short: { rate: 1 }, long: { rate: 0 } } },
    });
    const best = metrics['bestHours'] as { hour: string; cell: number; prior: number }[];
    expect(best).toHaveLength(5);
    expect(best.every((b) => b.hour.endsWith('20:00'))).toBe(true);
    expect(best.map((b) => b.cell)).toContain(
      hourOfWeek(Date.parse('2026-06-09T20:00:00Z'), 'UTC'),
    );
    expect(learningHeadline(metrics)).toMatch(/^engagement 4\d\.\d% of 3\d recent sends$/u);
    expect(learningHeadline({})).toBe('no metrics');
  });
});

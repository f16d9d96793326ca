import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { ContactRecord } from '../core/index.js';
import type { BusinessHours, DailyWindow } from '../scheduling/index.js';
import { insideWindow, nextOpenMoment, windowEnd } from '../scheduling/index.js';
import { betaMean, probabilityBest, randomFor, sampleBeta } from './beta.js';
import { rankChannels } from './channel-bandit.js';
import { chooseVariant, type VariantOption } from './content-bandit.js';
import { EngagementLearning, daypartOf } from './engagement-learning.js';
import { HOURS_PER_WEEK, hourOfWeek, smoothWeek } from './hour-of-week.js';
import { nextAllowedMoment, optimalSendTime, sendTimePosterior } from './send-time.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const FLAT = new Float64Array(HOURS_PER_WEEK).fill(0.2);
const QUIET: DailyWindow = { startMinute: 22 * 60, endMinute: 8 * 60 };
const OFFICE: BusinessHours = {
  days: [1, 2, 3, 4, 5],
  hours: { startMinute: 9 * 60, endMinute: 17 * 60 },
  holidays: new Set(),
};

/** A ledger of `days` daily messages at local `hour` in `zone`, before `now`, all engaged or not. */
function dailyLedger(
  now: number,
  zone: string,
  hour: number,
  days: number,
  engaged: boolean,
  channel = 'email',
): ContactRecord[] {
  const start = DateTime.fromMillis(now, { zone }).startOf('day');
  return Array.from({ length: days }, (_, i) => ({
    channel,
    at: start
      .minus({ days: i + 2 })
      .set({ hour })
      .toMillis(),
    engaged,
  }));
}

describe('Beta arithmetic', () => {
  it('draws average to the posterior mean (seeded, so the check is exact every run)', () => {
    const random = randomFor('draws');
    for (const p of [
      { alpha: 0.3, beta: 0.7 },
      { alpha: 2, beta: 8 },
      { alpha: 40, beta: 10 },
    ]) {
      let sum = 0;
      for (let i = 0; i < 20_000; i++) sum += sampleBeta(p, random);
      expect(sum / 20_000).toBeCloseTo(betaMean(p), 2);
    }
  });

  it('probability of being best: symmetric, decisive, normalised, and agrees with sampling', () => {
    expect(
      probabilityBest([
        { alpha: 3, beta: 5 },
        { alpha: 3, beta: 5 },
      ]),
    ).toEqual([expect.closeTo(0.5, 6), expect.closeTo(0.5, 6)]);
    const [strong, weak] = probabilityBest([
      { alpha: 300, beta: 700 },
      { alpha: 200, beta: 800 },
    ]);
    expect(strong).toBeGreaterThan(0.999);
    expect(weak).toBeLessThan(0.001);
    const arms = [
      { alpha: 4, beta: 10 },
      { alpha: 6, beta: 12 },
      { alpha: 1, beta: 1 },
    ];
    const exact = probabilityBest(arms);
    expect(exact.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    const random = randomFor('mc');
    const wins = [0, 0, 0];
    for (let i = 0; i < 40_000; i++) {
      const draws = arms.map((a) => sampleBeta(a, random));
      const best = draws.indexOf(Math.max(...draws));
      wins[best] = (wins[best] ?? 0) + 1;
    }
    exact.forEach((p, i) => {
      expect(p).toBeCloseTo((wins[i] ?? 0) / 40_000, 2);
    });
  });
});

describe('hour-of-week cells', () => {
  it('are local: Monday 00:00 is 0, Sunday 23:00 is 167, in any zone', () => {
    expect(hourOfWeek(Date.parse('2026-06-01T00:30:00Z'), 'UTC')).toBe(0);
    expect(hourOfWeek(Date.parse('2026-06-07T23:59:00Z'), 'UTC')).toBe(167);
    // UTC+14: Sunday 10:00 UTC is already Monday 00:00 on Kiritimati.
    expect(hourOfWeek(Date.parse('2026-05-31T10:00:00Z'), 'Pacific/Kiritimati')).toBe(0);
    // UTC−12 (Etc/GMT+12 in POSIX sign order): Monday 12:00 UTC is Monday 00:00 there.
    expect(hourOfWeek(Date.parse('2026-06-01T12:00:00Z'), 'Etc/GMT+12')).toBe(0);
  });

  it('keep 19:00 at 19:00 across a daylight-saving change', () => {
    const before = Date.parse('2026-03-06T19:00:00-05:00'); // Friday, EST
    const after = Date.parse('2026-03-13T19:00:00-04:00'); // Friday, EDT
    expect(hourOfWeek(before, 'America/New_York')).toBe(4 * 24 + 19);
    expect(hourOfWeek(after, 'America/New_York')).toBe(4 * 24 + 19);
  });

  it('smoothing is linear, so engaged never exceeds sent in any cell', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(167), fc.boolean()), { maxLength: 60 }), (contacts) => {
        const sent = new Float64Array(HOURS_PER_WEEK);
        const engaged = new Float64Array(HOURS_PER_WEEK);
        for (const [cell, hit] of contacts) {
          sent[cell] = (sent[cell] ?? 0) + 1;
          if (hit) engaged[cell] = (engaged[cell] ?? 0) + 1;
        }
        const s = smoothWeek(sent, { neighbours: [0.5, 0.2], daily: 1 });
        const e = smoothWeek(engaged, { neighbours: [0.5, 0.2], daily: 1 });
        for (let c = 0; c < HOURS_PER_WEEK; c++) {
          expect(e[c] ?? 0).toBeLessThanOrEqual((s[c] ?? 0) + 1e-9);
        }
      }),
    );
  });
});

describe('EngagementLearning (the population prior)', () => {
  const now = Date.parse('2026-06-15T12:00:00Z');

  it('learns the population hour profile from ledgers, once per customer, settled contacts only', () => {
    const learning = new EngagementLearning();
    for (let i = 0; i < 50; i++) {
      const ledger = [
        ...dailyLedger(now, 'UTC', 20, 10, true),
        ...dailyLedger(now, 'UTC', 9, 10, false),
        // Sent an hour ago, not engaged yet: not evidence.
        { channel: 'email', at: now - HOUR, engaged: false },
      ];
      learning.observeLedger(`c${i}`, ledger, 'UTC', now);
      learning.observeLedger(`c${i}`, ledger, 'UTC', now);
    }
    const rates = learning.sendTimeRates(now);
    const evening = rates[hourOfWeek(now - 2 * DAY + 8 * HOUR, 'UTC')] ?? 0;
    const morning = rates[hourOfWeek(now - 2 * DAY - 3 * HOUR, 'UTC')] ?? 0;
    expect(evening).toBeGreaterThan(0.5);
    expect(morning).toBeLessThan(0.2);
    // The customer seen twice counted once: an hour-12 cell only has smoothing's borrowings.
    expect(learning.channelRate('email', daypartOf(20), now).sends).toBeLessThan(500);
  });

  it('decays with the half-life and attributes engagements to the variant sent', () => {
    const learning = new EngagementLearning({ halfLifeMs: 10 * DAY });
    for (let i = 0; i < 100; i++) {
      learning.recordSend(
        {
          messageId: `m${i}`,
          channel: 'email',
          at: now,
          zone: 'UTC',
          template: 'welcome',
          variant: i % 2 === 0 ? 'a' : 'b',
        },
        now,
      );
      if (i % 4 === 0) {
        learning.recordEngagement(
          { messageId: `m${i}`, channel: 'email', sentAt: now, zone: 'UTC' },
          now + HOUR,
        );
      }
    }
    const later = learning.variantCounts('welcome', now + 10 * DAY);
    expect(later.get('a')?.sent).toBeCloseTo(25, 9);
    expect(later.get('a')?.engaged).toBeCloseTo(12.5, 9);
    expect(later.get('b')?.engaged).toBe(0);
    expect(learning.channelRate('sms', 0, now).sends).toBe(0);
  });
});

describe('send-time posterior', () => {
  const now = Date.parse('2026-06-15T12:00:00Z');

  it('is the population prior without history and shrinks toward the customer with it', () => {
    const population = new Float64Array(HOURS_PER_WEEK).fill(0.1);
    const empty = sendTimePosterior([], 'UTC', now, population);
    expect(empty.posteriors.every((p) => Math.abs(betaMean(p) - 0.1) < 1e-12)).toBe(true);
    // Without smoothing the posterior mean is (s·m + k) / (s + n) exactly.
    const ledger = dailyLedger(now, 'UTC', 19, 1, true);
    const cell = hourOfWeek(ledger[0]?.at ?? 0, 'UTC');
    const noSmoothing = { neighbours: [], daily: 0 };
    for (const n of [1, 4, 40]) {
      const contacts = Array.from({ length: n }, () => ledger[0] as ContactRecord);
      const { posteriors } = sendTimePosterior(contacts, 'UTC', now, population, {
        priorStrength: 3,
        smoothing: noSmoothing,
      });
      expect(betaMean(posteriors[cell] ?? { alpha: 1, beta: 1 })).toBeCloseTo(
        (3 * 0.1 + n) / (3 + n),
        12,
      );
    }
  });

  it('ignores contacts not yet settled and contacts in the future', () => {
    const ledger: ContactRecord[] = [
      { channel: 'email', at: now - HOUR, engaged: false },
      { channel: 'email', at: now + HOUR, engaged: false },
      { channel: 'email', at: now - 2 * HOUR, engaged: true },
    ];
    expect(sendTimePosterior(ledger, 'UTC', now, FLAT).evidence).toBe(1);
  });
});

describe('optimalSendTime', () => {
  const zone = 'Europe/Berlin';
  const from = Date.parse('2026-06-16T06:00:00Z'); // Tuesday 08:00 in Berlin

  const ask = (over: Partial<Parameters<typeof optimalSendTime>[0]> = {}) =>
    optimalSendTime({
      from,
      until: from + DAY,
      zone,
      ledger: [],
      now: from,
      population: FLAT,
      quietHours: QUIET,
      businessHours: null,
      random: randomFor('t'),
      ...over,
    });

  /** The local hour chosen under each of 40 seeds, most frequent first. */
  const hoursChosen = (over: Partial<Parameters<typeof optimalSendTime>[0]>, z = zone) => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 40; i++) {
      const d = ask({ ...over, random: randomFor('seed', String(i)) });
      const hour = DateTime.fromMillis(d.at, { zone: z }).hour;
      counts.set(hour, (counts.get(hour) ?? 0) + 1);
    }
    return [...counts].sort((a, b) => b[1] - a[1]);
  };

  it('sends a customer with an evening history in the evening, and explains why', () => {
    const ledger = [
      ...dailyLedger(from, zone, 20, 20, true),
      ...dailyLedger(from, zone, 9, 10, false),
      ...dailyLedger(from, zone, 13, 10, false),
    ];
    // Thompson sampling explores the neighbouring hours too, but stays in the evening.
    const chosen = hoursChosen({ ledger });
    const evening = chosen.filter(([hour]) => hour >= 19 && hour <= 21);
    expect(evening.reduce((sum, [, n]) => sum + n, 0)).toBeGreaterThanOrEqual(32);
    // The best posterior mean is 20:00.
    const { posteriors } = sendTimePosterior(ledger, zone, from, FLAT);
    const means = posteriors.map(betaMean);
    expect(means.indexOf(Math.max(...means)) % 24).toBe(20);
    const decision = Array.from({ length: 40 }, (_, i) =>
      ask({ ledger, random: randomFor('seed', String(i)) }),
    ).find((d) => DateTime.fromMillis(d.at, { zone }).hour === 20);
    expect(decision?.explored).toBe(false);
    expect(decision?.expectedRate).toBeGreaterThan(0.5);
    expect(decision?.defaultRate).toBeLessThan(0.3);
    expect(decision?.populationRate).toBeCloseTo(0.2, 6);
    expect(decision?.reasoning).toMatch(/^Optimal send time Tue 20:00 local \(Europe\/Berlin\)/u);
    expect(decision?.constrained).toBe(false);
  });

  it('follows the population where the customer has no history', () => {
    const population = new Float64Array(HOURS_PER_WEEK).fill(0.05);
    for (let day = 0; day < 7; day++) population[day * 24 + 12] = 0.6;
    const [mode] = hoursChosen({ population });
    expect(mode?.[0]).toBe(12);
    expect(mode?.[1]).toBeGreaterThan(20);
    expect(ask({ population }).evidence).toBe(0);
  });

  it('is reproducible under a seed and explores under different seeds', () => {
    const a = ask({ random: randomFor('s', '1') });
    const b = ask({ random: randomFor('s', '1') });
    expect(a).toEqual(b);
    const chosen = new Set(
      Array.from({ length: 30 }, (_, i) => ask({ random: randomFor('s', String(i)) }).cell),
    );
    // No history and a flat prior: every allowed hour is as good as any other.
    expect(chosen.size).toBeGreaterThan(5);
  });

  it('never picks quiet hours, and waits for business hours when asked', () => {
    // Loves 23:00, which is quiet: the best allowed moment is elsewhere.
    const night = ask({ ledger: dailyLedger(from, zone, 23, 20, true) });
    expect(insideWindow(QUIET, night.at, zone)).toBe(false);
    // Saturday 20:00 with business hours: the window holds Monday 09:00 at the earliest.
    const saturday = Date.parse('2026-06-20T18:00:00Z');
    const office = ask({
      from: saturday,
      until: saturday + 3 * DAY,
      now: saturday,
      businessHours: OFFICE,
    });
    expect(nextOpenMoment(OFFICE, office.at, zone)).toBe(office.at);
    expect(office.at).toBeGreaterThanOrEqual(Date.parse('2026-06-22T07:00:00Z'));
  });

  it('says so when no moment of the window is allowed', () => {
    const at = Date.parse('2026-06-16T21:00:00Z'); // 23:00 in Berlin
    const decision = ask({ from: at, until: at + 2 * HOUR, now: at });
    expect(decision).toMatchObject({ at, constrained: true, candidates: 0 });
  });

  it('considers the moment quiet hours end, not only whole hours', () => {
    const quiet: DailyWindow = { startMinute: 22 * 60, endMinute: 8 * 60 + 30 };
    const at = Date.parse('2026-06-16T04:00:00Z'); // 06:00 Berlin
    const decision = ask({
      from: at,
      until: at + 2 * HOUR + 45 * 60_000,
      now: at,
      quietHours: quiet,
    });
    expect(new Date(decision.at).toISOString()).toBe('2026-06-16T06:30:00.000Z');
  });

  it('handles daylight-saving days and the extreme zones UTC+14 and UTC−12', () => {
    // Spring forward in New York (2026-03-08 02:00 → 03:00): evening lover, window over the change.
    const ny = 'America/New_York';
    const spring = Date.parse('2026-03-08T05:00:00Z'); // 00:00 EST
    const ledgerNy = dailyLedger(spring, ny, 19, 20, true);
    const springRequest = {
      zone: ny,
      from: spring,
      until: spring + DAY,
      now: spring,
      ledger: ledgerNy,
    };
    expect(hoursChosen(springRequest, ny)[0]?.[0]).toBe(19);
    const onTheDay = Array.from({ length: 40 }, (_, i) =>
      ask({ ...springRequest, random: randomFor('seed', String(i)) }),
    ).find((d) => DateTime.fromMillis(d.at, { zone: ny }).hour === 19);
    expect(onTheDay?.at).toBe(Date.parse('2026-03-08T23:00:00Z')); // 19:00 EDT, not 19:00 EST
    for (const extreme of ['Pacific/Kiritimati', 'Etc/GMT+12']) {
      const ledger = dailyLedger(from, extreme, 18, 20, true);
      expect(hoursChosen({ zone: extreme, ledger }, extreme)[0]?.[0]).toBe(18);
      const d = ask({ zone: extreme, ledger });
      expect(d.at).toBeGreaterThanOrEqual(from);
      expect(d.at).toBeLessThanOrEqual(from + DAY);
    }
  });

  it('property: quiet hours end where windowEnd of scheduling says, across DST changes', () => {
    const zones = ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'America/St_Johns'];
    // Days around the 2026 changes of those zones, where a wall time can be skipped or repeated.
    const days = [
      '2026-03-08',
      '2026-03-29',
      '2026-04-05',
      '2026-10-04',
      '2026-10-25',
      '2026-11-01',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...days),
        fc.integer({ min: -DAY, max: 2 * DAY }),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 95 }),
        fc.integer({ min: 1, max: 96 }),
        (day, offset, zone, start, end) => {
          const window = { startMinute: start * 15, endMinute: end * 15 };
          if (window.startMinute === window.endMinute % 1440) return;
          const at = Date.parse(`${day}T00:00:00Z`) + offset;
          const finish = nextAllowedMoment(at, at + 3 * DAY, zone, window, null) ?? -1;
          // Outside the window, and windowEnd's answer, except on a night whose end time happens
          // twice (clocks set back), where windowEnd may name the second and this the first.
          expect(insideWindow(window, finish, zone)).toBe(false);
          const expected = windowEnd(window, at, zone);
          // (A window ending inside a spring-forward gap can make windowEnd answer a moment still
          // inside the window; then the next real end is taken.)
          if (finish !== expected && !insideWindow(window, expected, zone)) {
            // The same wall time, before and after the clocks went back (1 h; 30 min on Lord Howe).
            const offset = (t: number) => DateTime.fromMillis(t, { zone }).offset * 60_000;
            expect(expected - finish).toBe(offset(finish) - offset(expected));
            expect(expected - finish).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: the chosen moment lies in the window, outside quiet hours, inside business hours', () => {
    const zones = [
      'UTC',
      'Europe/Berlin',
      'America/New_York',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'Pacific/Kiritimati',
      'Etc/GMT+12',
      'America/St_Johns',
    ];
    fc.assert(
      fc.property(
        fc.integer({
          min: Date.parse('2026-01-01T00:00:00Z'),
          max: Date.parse('2026-12-31T00:00:00Z'),
        }),
        fc.integer({ min: 0, max: 3 * DAY }),
        fc.constantFrom(...zones),
        fc.option(
          fc.record({
            startMinute: fc.integer({ min: 0, max: 1439 }),
            endMinute: fc.integer({ min: 1, max: 1440 }),
          }),
        ),
        fc.boolean(),
        fc.array(
          fc.record({
            channel: fc.constant('email'),
            at: fc.integer({ min: -30 * DAY, max: 0 }),
            engaged: fc.boolean(),
          }),
          { maxLength: 40 },
        ),
        fc.nat(),
        (from, span, zone, quiet, business, past, seed) => {
          const ledger = past.map((c) => ({ ...c, at: from + c.at }));
          const quietHours = quiet !== null && quiet.startMinute !== quiet.endMinute ? quiet : null;
          const decision = optimalSendTime({
            from,
            until: from + span,
            zone,
            ledger,
            now: from,
            population: FLAT,
            quietHours,
            businessHours: business ? OFFICE : null,
            random: randomFor(String(seed)),
          });
          if (decision.constrained) {
            expect(decision.at).toBe(from);
            return;
          }
          expect(decision.at).toBeGreaterThanOrEqual(from);
          expect(decision.at).toBeLessThanOrEqual(from + span);
          if (quietHours !== null) expect(insideWindow(quietHours, decision.at, zone)).toBe(false);
          if (business) expect(nextOpenMoment(OFFICE, decision.at, zone)).toBe(decision.at);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('rankChannels', () => {
  const now = Date.parse('2026-06-16T18:00:00Z'); // Tuesday evening in UTC
  const channels = ['email', 'sms', 'push'];

  it('ranks the channel the customer engages with first, with probabilities', () => {
    const ledger = [
      ...dailyLedger(now, 'UTC', 18, 10, false, 'email'),
      ...dailyLedger(now, 'UTC', 19, 10, true, 'sms'),
    ];
    const ranking = rankChannels({
      channels,
      ledger,
      now,
      at: now,
      zone: 'UTC',
      population: null,
      random: randomFor('r'),
    });
    expect(ranking.ranked[0]).toMatchObject({ channel: 'sms', sent: 10, engaged: 10 });
    expect(ranking.ranked[0]?.probabilityBest).toBeGreaterThan(0.95);
    expect(ranking.ranked.reduce((s, r) => s + r.probabilityBest, 0)).toBeCloseTo(1, 9);
    expect(ranking.reasoning).toMatch(/^AI confidence: 0\.9\d that sms engages best/u);
    expect(ranking.daypart).toBe('evening');
  });

  it('uses the time of day where the data allows', () => {
    // Email read in the morning, push in the evening.
    const ledger = [
      ...dailyLedger(now, 'UTC', 8, 8, true, 'email'),
      ...dailyLedger(now, 'UTC', 20, 8, false, 'email'),
      ...dailyLedger(now, 'UTC', 20, 8, true, 'push'),
      ...dailyLedger(now, 'UTC', 8, 8, false, 'push'),
    ];
    const at = (hour: number) => Date.parse(`2026-06-17T${String(hour).padStart(2, '0')}:00:00Z`);
    const expected = (hour: number) =>
      Object.fromEntries(
        rankChannels({
          channels: ['email', 'push'],
          ledger,
          now,
          at: at(hour),
          zone: 'UTC',
          population: null,
          random: randomFor('x'),
        }).ranked.map((r) => [r.channel, r.expected]),
      );
    expect((expected(9)['email'] ?? 0) > (expected(9)['push'] ?? 0)).toBe(true);
    expect((expected(21)['push'] ?? 0) > (expected(21)['email'] ?? 0)).toBe(true);
  });

  it('starts an untried channel at the population rate and is reproducible under a seed', () => {
    const population = (channel: string) => ({ rate: channel === 'push' ? 0.3 : 0.15, sends: 100 });
    const run = (seed: string, exploration?: number) =>
      rankChannels({
        channels,
        ledger: [],
        now,
        at: now,
        zone: 'UTC',
        population,
        random: randomFor(seed),
        settings: { priorStrength: 2, ...(exploration === undefined ? {} : { exploration }) },
      });
    expect(run('a')).toEqual(run('a'));
    expect(run('a').ranked.find((r) => r.channel === 'push')?.expected).toBeCloseTo(0.3, 9);
    const share = (exploration?: number) =>
      Array.from({ length: 200 }, (_, i) => run(String(i), exploration).ranked[0]?.channel).filter(
        (c) => c === 'push',
      ).length / 200;
    // Plain Thompson sampling: mostly the population's best, often the others.
    expect(share(1)).toBeGreaterThan(0.4);
    expect(share(1)).toBeLessThan(0.9);
    // Tempered (the default): the others far less often, but still sometimes.
    expect(share()).toBeGreaterThan(share(1));
    expect(share()).toBeLessThan(1);
  });
});

describe('chooseVariant', () => {
  const variants: VariantOption[] = [
    { name: 'a', weight: 1 },
    { name: 'b', weight: 1 },
    { name: 'c', weight: 2 },
  ];
  const points = Array.from({ length: 4000 }, (_, i) => randomFor('customer', String(i))());

  it('without data splits by the configured weights, and a customer keeps the same variant', () => {
    const counts = new Map();
    const chosen = points.map((p) => chooseVariant(variants, counts, p)?.variant);
    const share = (name: string) => chosen.filter((v) => v === name).length / chosen.length;
    expect(share('c')).toBeCloseTo(0.5, 1);
    expect(share('a')).toBeCloseTo(0.25, 1);
    const again = points.map((p) => chooseVariant(variants, counts, p)?.variant);
    expect(again).toEqual(chosen);
    expect(chooseVariant(variants, counts, 0.5)?.reasoning).toMatch(/no engagement data yet/u);
  });

  it('moves share toward the better variant and gives everyone a clear winner', () => {
    const some = new Map([
      ['a', { sent: 40, engaged: 12 }],
      ['b', { sent: 40, engaged: 6 }],
      ['c', { sent: 40, engaged: 6 }],
    ]);
    const choice = chooseVariant(variants, some, 0.3);
    expect(choice?.basis).toBe('allocation');
    expect(choice?.shares['a']).toBeGreaterThan(0.5);
    const clear = new Map([
      ['a', { sent: 400, engaged: 120 }],
      ['b', { sent: 400, engaged: 60 }],
      ['c', { sent: 400, engaged: 60 }],
    ]);
    const all = new Set(
      points.slice(0, 200).map((p) => chooseVariant(variants, clear, p)?.variant),
    );
    expect([...all]).toEqual(['a']);
    expect(chooseVariant(variants, clear, 0.1)).toMatchObject({ basis: 'winner', variant: 'a' });
  });

  it('keeps nearly every customer on their variant when one more engagement comes in', () => {
    const before = new Map([
      ['a', { sent: 60, engaged: 12 }],
      ['b', { sent: 60, engaged: 10 }],
      ['c', { sent: 60, engaged: 9 }],
    ]);
    const after = new Map(before).set('b', { sent: 61, engaged: 11 });
    const moved = points.filter(
      (p) =>
        chooseVariant(variants, before, p)?.variant !== chooseVariant(variants, after, p)?.variant,
    ).length;
    // A fresh draw per message would move about two thirds of them.
    expect(moved / points.length).toBeLessThan(0.1);
  });

  it('property: a customer only moves to a variant whose share grew relative to theirs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 40 }),
        (aEngaged, bEngaged, gain) => {
          const before = new Map([
            ['a', { sent: 100, engaged: aEngaged }],
            ['b', { sent: 100, engaged: bEngaged }],
            ['c', { sent: 100, engaged: 30 }],
          ]);
          const after = new Map(before);
          after.set('a', { sent: 100, engaged: Math.min(100, aEngaged + gain) });
          const settings = { minSends: 1e9 };
          const sharesBefore = chooseVariant(variants, before, 0, settings)?.shares ?? {};
          const sharesAfter = chooseVariant(variants, after, 0, settings)?.shares ?? {};
          const ratio = (shares: Record<string, number>, to: string, from: string) =>
            (shares[to] ?? 0) / (shares[from] ?? 1);
          let moved = 0;
          for (const p of points.slice(0, 200)) {
            const was = chooseVariant(variants, before, p, settings)?.variant ?? '';
            const is = chooseVariant(variants, after, p, settings)?.variant ?? '';
            if (was === is) continue;
            moved++;
            expect(ratio(sharesAfter, is, was)).toBeGreaterThan(ratio(sharesBefore, is, was));
          }
          expect(moved).toBeLessThan(200);
        },
      ),
      { numRuns: 15 },
    );
  });
});

/**
 * The decision engine's bandits on a simulated population (issue: AI decision engine), 4 weeks in
 * virtual time, several seeds:
 * - `send-time`: the send-time optimizer vs a fixed 9 AM local send;
 * - `channel`: the channel selector vs always the same channel (each fixed channel is reported;
 *   the comparison is with the best of them, chosen in hindsight).
 *
 * The population (documented in docs/BENCHMARKS.md, "Send time and channel bandits"):
 * - customers spread over 10 zones from UTC−12 to UTC+14, half-hour zones and DST zones included;
 * - each has a hidden daily rhythm: a type (early bird 07:00, office 10:00, lunch 12:30, commute
 *   18:00, evening 20:30; shares 15/25/20/15/25%), a peak hour drawn around the type's (sd 1 h) and
 *   a width (1–2.5 h); a weekday habit (weekdays ×1, weekends ×0.6; or weekends ×1.3, weekdays
 *   ×0.8; or flat); a base rate (10–35%);
 * - the chance of engaging with a message sent at local hour h on weekday d is
 *   base × day(d) × (0.3 + 0.7 · exp(−Δh² / 2·width²)), Δh the circular distance to the peak, each
 *   response an independent Bernoulli draw — noisy, like opens;
 * - channels: per-customer hidden rates around population means (email 18%, SMS 14%, push 11%,
 *   in-app 8%), log-normal spread (sd 0.5), one favourite channel ×2.5 (drawn with the means as
 *   weights), push ×1.4 in the evening and e-mail ×1.3 in the morning; capped at 90%.
 * Every customer gets one message a day, asked for at a random moment of their day; quiet hours
 * 22:00–08:00. The optimizer may send within 24 h of the ask; the baseline sends at the next 09:00.
 * Responses feed the customer's ledger (engaged or not) and the population learning exactly as the
 * engine feeds them (`recordSend`, `recordEngagement`, ledger warm-up).
 */
import { DateTime } from 'luxon';
import type { ContactRecord } from '../src/core/index.js';
import {
  EngagementLearning,
  optimalSendTime,
  randomFor,
  rankChannels,
} from '../src/decisions/index.js';
import { insideWindow, type DailyWindow } from '../src/scheduling/index.js';
import type { Benchmark, BenchmarkReport, MeasureOptions, ReportTable } from './harness.js';

const DAY = 86_400_000;
const WEEKS = 4;
const START = Date.parse('2026-03-02T00:00:00Z'); // a Monday; US clocks change on day 7, EU ones in week 4
const QUIET: DailyWindow = { startMinute: 22 * 60, endMinute: 8 * 60 };
const ZONES = [
  'America/Los_Angeles',
  'America/New_York',
  'America/Sao_Paulo',
  'Europe/London',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Pacific/Kiritimati',
  'Etc/GMT+12',
];
const TYPES = [
  { name: 'early bird', peak: 7, share: 0.15 },
  { name: 'office', peak: 10, share: 0.25 },
  { name: 'lunch', peak: 12.5, share: 0.2 },
  { name: 'commute', peak: 18, share: 0.15 },
  { name: 'evening', peak: 20.5, share: 0.25 },
];
const CHANNELS = ['email', 'sms', 'push', 'in_app'] as const;
const CHANNEL_MEANS: Record<string, number> = { email: 0.18, sms: 0.14, push: 0.11, in_app: 0.08 };
const SEEDS = [1, 2, 3, 4, 5];
/** A simulated customer's hidden truth. */
interface Customer {
  readonly id: string;
  readonly zone: string;
  readonly peak: number;
  readonly width: number;
  readonly base: number;
  /** Multiplier by ISO weekday (index 1–7). */
  readonly days: readonly number[];
  /** Hidden rate per channel. */
  readonly channels: Readonly<Record<string, number>>;
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function pick<T>(items: readonly T[], weights: readonly number[], random: () => number): T {
  const total = weights.reduce((a, b) => a + b, 0);
  let left = random() * total;
  for (let i = 0; i < items.length; i++) {
    left -= weights[i] ?? 0;
    if (left < 0) return items[i] as T;
  }
  return items[items.length - 1] as T;
}

function population(count: number, seed: number): Customer[] {
  const random = randomFor('population', String(seed));
  return Array.from({ length: count }, (_, i) => {
    const type = pick(
      TYPES,
      TYPES.map((t) => t.share),
      random,
    );
    const habit = pick(['weekdays', 'weekends', 'flat'], [0.45, 0.2, 0.35], random);
    const days = [0, 1, 2, 3, 4, 5, 6, 7].map((d) =>
      habit === 'weekdays' ? (d >= 6 ? 0.6 : 1) : habit === 'weekends' ? (d >= 6 ? 1.3 : 0.8) : 1,
    );
    const favourite = pick(
      CHANNELS,
      CHANNELS.map((c) => CHANNEL_MEANS[c] ?? 0),
      random,
    );
    const channels = Object.fromEntries(
      CHANNELS.map((c) => {
        const rate = (CHANNEL_MEANS[c] ?? 0) * Math.exp(0.5 * gaussian(random) - 0.125);
        return [c, Math.min(0.9, c === favourite ? rate * 2.5 : rate)];
      }),
    );
    return {
      id: `c${String(i)}`,
      zone: ZONES[i % ZONES.length] ?? 'UTC',
      peak: (((type.peak + gaussian(random)) % 24) + 24) % 24,
      width: 1 + 1.5 * random(),
      base: 0.1 + 0.25 * random(),
      days,
      channels,
    };
  });
}

/** The hidden chance that `customer` engages with a message at `at` (time part only). */
function timeAffinity(customer: Customer, at: number): number {
  const local = DateTime.fromMillis(at, { zone: customer.zone });
  return affinityAt(customer, local.hour + local.minute / 60, local.weekday);
}

/** The hidden time factor at a local hour (fractional) on an ISO weekday. */
function affinityAt(customer: Customer, hour: number, weekday: number): number {
  const raw = Math.abs(hour - customer.peak);
  const distance = Math.min(raw, 24 - raw);
  const bump = Math.exp(-(distance * distance) / (2 * customer.width * customer.width));
  return (customer.days[weekday] ?? 1) * (0.3 + 0.7 * bump);
}

/** The hidden chance on a channel at `at` (channel part, with its time-of-day twist). */
function channelChance(customer: Customer, channel: string, at: number): number {
  const hour = DateTime.fromMillis(at, { zone: customer.zone }).hour;
  let rate = customer.channels[channel] ?? 0;
  if (channel === 'push' && hour >= 18) rate *= 1.4;
  if (channel === 'email' && hour >= 6 && hour < 12) rate *= 1.3;
  return Math.min(rate, 0.95);
}

/** The moment a customer's daily message is asked for: a random moment of their local day. */
function askedAt(customer: Customer, day: number, random: () => number): number {
  const midnight = DateTime.fromMillis(START, { zone: customer.zone })
    .startOf('day')
    .plus({ days: day });
  return midnight.toMillis() + Math.floor(random() * DAY);
}

/** The next 09:00 local at or after `at`. */
function nextNine(at: number, zone: string): number {
  const local = DateTime.fromMillis(at, { zone });
  const nine = local.set({ hour: 9, minute: 0, second: 0, millisecond: 0 });
  return (nine.toMillis() >= at ? nine : nine.plus({ days: 1 })).toMillis();
}

/**
 * The hidden-truth best moment of the 24 h window outside quiet hours, on a quarter-hour grid.
 * Local time is taken from the window's start (one zone lookup per decision; a daylight-saving
 * change inside the window shifts the oracle by an hour on that one day, which is fine for a
 * reference line).
 */
function bestMoment(customer: Customer, from: number): number {
  const start = DateTime.fromMillis(from, { zone: customer.zone });
  const startMinute = start.hour * 60 + start.minute;
  let best = from;
  let bestChance = -1;
  for (let k = 0; k <= 96; k++) {
    const minuteOfWeek = (start.weekday - 1) * 1440 + startMinute + 15 * k;
    const minute = minuteOfWeek % 1440;
    if (minute >= QUIET.startMinute || minute < QUIET.endMinute) continue;
    const weekday = (Math.floor(minuteOfWeek / 1440) % 7) + 1;
    const chance = affinityAt(customer, minute / 60, weekday);
    if (chance > bestChance) {
      bestChance = chance;
      best = from + k * 15 * 60_000;
    }
  }
  return best;
}

/** Engagement over a run, in all and per week. */
interface ArmResult {
  readonly sent: number;
  readonly engaged: number;
  readonly weekSent: readonly number[];
  readonly weekEngaged: readonly number[];
}

/** Counts sends and engagements of one arm. */
class Tally {
  sent = 0;
  engaged = 0;
  readonly weekSent = new Array<number>(WEEKS).fill(0);
  readonly weekEngaged = new Array<number>(WEEKS).fill(0);

  add(day: number, hit: boolean): void {
    const week = Math.floor(day / 7);
    this.sent++;
    this.weekSent[week] = (this.weekSent[week] ?? 0) + 1;
    if (!hit) return;
    this.engaged++;
    this.weekEngaged[week] = (this.weekEngaged[week] ?? 0) + 1;
  }

  result(): ArmResult {
    return {
      sent: this.sent,
      engaged: this.engaged,
      weekSent: this.weekSent,
      weekEngaged: this.weekEngaged,
    };
  }
}

/** `oracle` knows the hidden truth: the ceiling, for reference. */
type SendTimeArm = 'optimizer' | 'plain_ts' | 'nine_am' | 'oracle';

function runSendTime(
  customers: readonly Customer[],
  arm: SendTimeArm,
  seed: number,
  violations: { count: number },
): ArmResult {
  // The arm's own stream drives its Thompson draws; what happens to a message comes from `chance`.
  const random = randomFor('send-time', arm, String(seed));
  const learning = new EngagementLearning();
  const ledgers = new Map<string, ContactRecord[]>(customers.map((c) => [c.id, []]));
  const tally = new Tally();
  for (let day = 0; day < WEEKS * 7; day++) {
    for (const customer of customers) {
      const ledger = ledgers.get(customer.id) ?? [];
      // Common random numbers: every arm gets the same ask time and the same response draw for a
      // customer's message of the day, so the arms differ only by their choices.
      const chance = randomFor('message', String(seed), customer.id, String(day));
      const now = askedAt(customer, day, chance);
      let at: number;
      let violation = false;
      if (arm === 'optimizer' || arm === 'plain_ts') {
        learning.observeLedger(customer.id, ledger, customer.zone, now);
        at = optimalSendTime({
          from: now,
          until: now + DAY,
          zone: customer.zone,
          ledger: ledger.filter((c) => c.at >= now - 32 * DAY),
          now,
          population: learning.sendTimeRates(now),
          quietHours: QUIET,
          businessHours: null,
          random,
          // plain_ts: untempered Thompson sampling, to show what the tempering buys.
          ...(arm === 'plain_ts' ? { settings: { exploration: 1 } } : {}),
        }).at;
        violation = at < now || at > now + DAY || insideWindow(QUIET, at, customer.zone);
      } else if (arm === 'oracle') {
        at = bestMoment(customer, now);
      } else {
        at = nextNine(now, customer.zone);
      }
      if (violation) violations.count++;
      const hit = chance() < customer.base * timeAffinity(customer, at);
      ledger.push({ channel: 'email', at, engaged: hit });
      const messageId = `${customer.id}:${String(day)}`;
      learning.recordSend(
        { messageId, channel: 'email', at, zone: customer.zone, template: null, variant: null },
        now,
      );
      if (hit) {
        learning.recordEngagement(
          { messageId, channel: 'email', sentAt: at, zone: customer.zone },
          at,
        );
      }
      tally.add(day, hit);
    }
  }
  return tally.result();
}

/** `oracle` knows each customer's best channel at that moment: the ceiling, for reference. */
type ChannelArm = 'selector' | 'plain_ts' | 'oracle' | (typeof CHANNELS)[number];

function runChannel(customers: readonly Customer[], arm: ChannelArm, seed: number): ArmResult {
  const random = randomFor('channel', arm, String(seed));
  const learning = new EngagementLearning();
  const ledgers = new Map<string, ContactRecord[]>(customers.map((c) => [c.id, []]));
  const tally = new Tally();
  for (let day = 0; day < WEEKS * 7; day++) {
    for (const customer of customers) {
      const ledger = ledgers.get(customer.id) ?? [];
      // Messages go at a random moment between 08:00 and 22:00 local (outside quiet hours).
      const midnight = DateTime.fromMillis(START, { zone: customer.zone })
        .startOf('day')
        .plus({ days: day });
      // Common random numbers across arms, as in the send-time benchmark.
      const chance = randomFor('message', String(seed), customer.id, String(day));
      const at = midnight.toMillis() + Math.floor((8 + 14 * chance()) * 3_600_000);
      let channel: string = arm;
      if (arm === 'selector' || arm === 'plain_ts') {
        learning.observeLedger(customer.id, ledger, customer.zone, at);
        const ranking = rankChannels({
          channels: CHANNELS,
          ledger: ledger.filter((c) => c.at >= at - 32 * DAY),
          now: at,
          at,
          zone: customer.zone,
          population: (ch, daypart) => learning.channelRate(ch, daypart, at),
          random,
          ...(arm === 'plain_ts' ? { settings: { exploration: 1 } } : {}),
        });
        channel = ranking.ranked[0]?.channel ?? 'email';
      } else if (arm === 'oracle') {
        channel = CHANNELS.reduce((best, c) =>
          channelChance(customer, c, at) > channelChance(customer, best, at) ? c : best,
        );
      }
      const hit = chance() < channelChance(customer, channel, at);
      ledger.push({ channel, at, engaged: hit });
      const messageId = `${customer.id}:${String(day)}`;
      learning.recordSend(
        { messageId, channel, at, zone: customer.zone, template: null, variant: null },
        at,
      );
      if (hit) {
        learning.recordEngagement({ messageId, channel, sentAt: at, zone: customer.zone }, at);
      }
      tally.add(day, hit);
    }
  }
  return tally.result();
}

/** Student's t quantile 0.975 for n − 1 degrees of freedom (n ≤ 10). */
const T975 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262];

/** Mean and 95% confidence half-width over seeds (t distribution). */
function interval(values: readonly number[]): { mean: number; half: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(n - 1, 1));
  return { mean, half: ((T975[n - 1] ?? 1.96) * sd) / Math.sqrt(n) };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const signedPct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

function customersFor(options: MeasureOptions): number {
  // --quick (3 samples) is a smoke run; published numbers use 2,000 customers per seed.
  return options.samples !== undefined && options.samples < 7 ? 300 : 2_000;
}

function report(
  checks: BenchmarkReport['checks'],
  title: string,
  arms: readonly string[],
  baseline: (perSeed: ReadonlyMap<string, ArmResult>) => string,
  results: readonly ReadonlyMap<string, ArmResult>[],
  candidate: string,
  goal: number,
  notes: readonly string[],
): BenchmarkReport {
  const arm = (m: ReadonlyMap<string, ArmResult>, name: string) => m.get(name) as ArmResult;
  /** Engagement rate over all weeks (week −1) or one week. */
  const rate = (r: ArmResult, week: number) =>
    week < 0 ? r.engaged / r.sent : (r.weekEngaged[week] ?? 0) / (r.weekSent[week] ?? 1);
  const periods = [-1, ...Array.from({ length: WEEKS }, (_, w) => w)];
  const rows = arms.map((name) => [
    name,
    ...periods.map((week) => {
      const i = interval(results.map((m) => rate(arm(m, name), week)));
      return `${pct(i.mean)} ± ${pct(i.half)}`;
    }),
  ]);
  const uplift = (week: number) =>
    results.map((m) => rate(arm(m, candidate), week) / rate(arm(m, baseline(m)), week) - 1);
  const uplifts = periods.map((week) => interval(uplift(week)));
  const table: ReportTable = {
    title,
    columns: [
      'arm',
      '4 weeks',
      ...Array.from({ length: WEEKS }, (_, w) => `week ${String(w + 1)}`),
    ],
    rows: [
      ...rows,
      [`uplift of ${candidate}`, ...uplifts.map((u) => `${signedPct(u.mean)} ± ${pct(u.half)}`)],
    ],
    notes,
  };
  const verdict = (week: number, label: string) => {
    const u = uplifts[periods.indexOf(week)] ?? { mean: 0, half: 0 };
    return `Goal ${signedPct(goal)} ${u.mean >= goal ? 'met' : 'NOT met'} ${label}: ${signedPct(u.mean)} (95% CI ${signedPct(u.mean - u.half)} … ${signedPct(u.mean + u.half)}, ${String(results.length)} seeds).`;
  };
  return {
    tables: [
      {
        ...table,
        notes: [
          ...notes,
          verdict(WEEKS - 1, `in week ${String(WEEKS)}`),
          verdict(-1, `over all ${String(WEEKS)} weeks`),
        ],
      },
    ],
    checks,
    data: {
      uplifts: Object.fromEntries(
        periods.map((w) => [w < 0 ? 'all' : `week${String(w + 1)}`, uplift(w)]),
      ),
      intervals: uplifts,
      results: results.map((m) => Object.fromEntries(m)),
    },
  };
}

/** `npm run bench -- send-time`. */
export const sendTimeBenchmark: Benchmark = {
  name: 'send-time',
  description: 'send-time optimizer vs a fixed 9 AM local send, simulated population, 4 weeks',
  run: (options) => {
    const count = customersFor(options);
    const violations = { count: 0 };
    const results = SEEDS.map((seed) => {
      const customers = population(count, seed);
      return new Map<string, ArmResult>([
        ['optimizer', runSendTime(customers, 'optimizer', seed, violations)],
        ['nine_am', runSendTime(customers, 'nine_am', seed, violations)],
        ['plain_ts', runSendTime(customers, 'plain_ts', seed, violations)],
        ['oracle', runSendTime(customers, 'oracle', seed, violations)],
      ]);
    });
    return Promise.resolve(
      report(
        [
          {
            name: 'every optimized send lies in its 24 h window and outside quiet hours',
            passed: violations.count === 0,
            detail: `${String(violations.count)} violations in ${String(count * WEEKS * 7 * SEEDS.length)} sends`,
          },
        ],
        `Send time: ${String(count)} customers × ${String(WEEKS * 7)} daily messages, ${String(SEEDS.length)} seeds (mean ± 95% CI)`,
        ['optimizer', 'plain_ts', 'nine_am', 'oracle'],
        () => 'nine_am',
        results,
        'optimizer',
        0.15,
        ['Goal: optimizer ≥ +15% over 9 AM after 4 simulated weeks.'],
      ),
    );
  },
};

/** `npm run bench -- channel`. */
export const channelBenchmark: Benchmark = {
  name: 'channel',
  description: 'channel selector vs a fixed channel, simulated population, 4 weeks',
  run: (options) => {
    const count = customersFor(options);
    const arms: ChannelArm[] = ['selector', 'plain_ts', ...CHANNELS, 'oracle'];
    const results = SEEDS.map((seed) => {
      const customers = population(count, seed);
      return new Map<string, ArmResult>(arms.map((arm) => [arm, runChannel(customers, arm, seed)]));
    });
    // Seeded throughout: the same seed replays the same choices and responses.
    const small = population(100, 1);
    const first = runChannel(small, 'selector', 1);
    const again = runChannel(small, 'selector', 1);
    return Promise.resolve(
      report(
        [
          {
            name: 'a seed replays exactly',
            passed: JSON.stringify(first) === JSON.stringify(again),
            detail: `${String(first.engaged)} and ${String(again.engaged)} engagements of ${String(first.sent)}`,
          },
        ],
        `Channel: ${String(count)} customers × ${String(WEEKS * 7)} daily messages, ${String(SEEDS.length)} seeds (mean ± 95% CI)`,
        arms,
        (m) =>
          CHANNELS.reduce<string>((best, c) => {
            const r = m.get(c) as ArmResult;
            const b = m.get(best) as ArmResult;
            return r.engaged / r.sent > b.engaged / b.sent ? c : best;
          }, 'email'),
        results,
        'selector',
        0.15,
        ['Goal: selector ≥ +15% over the best fixed channel (chosen per seed, in hindsight).'],
      ),
    );
  },
};

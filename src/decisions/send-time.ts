/**
 * The send-time optimizer: the moment within a window [from, until] at which this customer is most
 * likely to engage, in their own time zone, never inside quiet hours and (when asked) only during
 * business hours.
 *
 * Model. Each hour-of-week cell (168, local time; see hour-of-week.ts) has a Beta posterior over the
 * customer's engagement rate there:
 *   alpha_c = s · m_c + engaged~_c,   beta_c = s · (1 − m_c) + (sent~_c − engaged~_c)
 * - m_c: the population's rate in that cell (`EngagementLearning.sendTimeRates`), the prior mean:
 *   a customer with no history gets the population's best hours;
 * - s: prior strength in pseudo-sends (default 3), how fast a customer's own evidence overrides the
 *   population (shrinkage: with n sends in a cell the posterior mean is (s·m + k) / (s + n));
 * - sent~, engaged~: the customer's ledger (settled contacts only) counted by the cell of each
 *   message's send time and smoothed (`smoothWeek`: ±1–2 h neighbours and the same hour on the
 *   average day), so 20 messages teach something about 168 cells.
 * Exploration is Thompson sampling: one draw per candidate moment from its cell's posterior, the
 * largest wins. A seldom-tried hour keeps a wide posterior and so is tried now and then; a
 * well-known bad hour almost never is.
 *
 * Candidates are `from` itself, every local hour boundary in (from, until], and the moment each
 * blocked boundary opens again (end of quiet hours, business opening) when that lies in the window.
 * Pure: the random source and the population rates are arguments.
 */
import { DateTime } from 'luxon';
import type { ContactRecord, Instant } from '../core/index.js';
import {
  nextOpenMoment,
  windowEnd,
  type BusinessHours,
  type DailyWindow,
} from '../scheduling/index.js';
import { betaMean, sampleBeta, type BetaPosterior } from './beta.js';
import { settled } from './engagement-learning.js';
import {
  DEFAULT_SMOOTHING,
  HOURS_PER_WEEK,
  cellLabel,
  hourOfWeek,
  localMinute,
  offsetMs,
  smoothWeek,
  type Smoothing,
} from './hour-of-week.js';

/**
 * How widely the Thompson draws spread, as a fraction of the posterior's own spread²: 0.1 draws
 * from a posterior with the same mean and 10× the evidence ("tempered" Thompson sampling). Plain
 * Thompson sampling (1) explores for the long run; over the weeks a customer journey lasts it
 * explores more than it earns back. On the simulated population of docs/BENCHMARKS.md the
 * difference is small for send times (+9.9% vs +9.1% over 4 weeks) and large for channels, whose
 * few arms have very different rates. Exploration still happens where a posterior is wide.
 */
export const DEFAULT_EXPLORATION = 0.1;

/** Everything a send-time decision depends on. */
export interface SendTimeRequest {
  /** The earliest moment (usually now). */
  readonly from: Instant;
  /** The latest moment; `until ≥ from`. */
  readonly until: Instant;
  /** The customer's IANA zone. */
  readonly zone: string;
  /** The customer's contact ledger (all channels). */
  readonly ledger: readonly ContactRecord[];
  /** Now, for which contacts are settled evidence. */
  readonly now: Instant;
  /** The population's rate per hour-of-week cell (168 values), the prior mean. */
  readonly population: ArrayLike<number>;
  /** Local hours the channel sends nothing in; null: none. */
  readonly quietHours: DailyWindow | null;
  /** Only moments when the business is open; null: any. */
  readonly businessHours: BusinessHours | null;
  /** Uniform [0, 1) source for the Thompson draws (seeded, for reproducible decisions). */
  readonly random: () => number;
  /** Model settings; defaults as documented on `SendTimeSettings`. */
  readonly settings?: SendTimeSettings;
}

/** Tuning of the send-time model. */
export interface SendTimeSettings {
  /** Prior strength s in pseudo-sends. Default 3. */
  readonly priorStrength?: number;
  /** A contact without engagement counts as ignored once this old, ms. Default 1 day. */
  readonly settleMs?: number;
  /** How evidence spreads across cells. Default `DEFAULT_SMOOTHING`. */
  readonly smoothing?: Smoothing;
  /**
   * Weights of the draws 0, 1, 2… hours away that a moment's draw averages. Default
   * [1, 0.8, 0.6, 0.4, 0.2].
   */
  readonly drawKernel?: readonly number[];
  /**
   * Scales the spread of the Thompson draws: 1 draws from the posterior itself, 0.5 from one with
   * the same mean and twice the evidence (about 70% of the spread), and so on. Default 0.1 (see
   * `DEFAULT_EXPLORATION`).
   */
  readonly exploration?: number;
}

/** A moment's draw averages the draws up to 4 hours around it (see the module comment). */
const DEFAULT_DRAW_KERNEL: readonly number[] = [1, 0.8, 0.6, 0.4, 0.2];

/** The optimizer's answer and the numbers behind it. */
export interface SendTimeDecision {
  /** When to send (within the window when any moment of it is allowed). */
  readonly at: Instant;
  /** The chosen moment's hour-of-week cell (local). */
  readonly cell: number;
  /** Local time of `at`, ISO with offset. */
  readonly localTime: string;
  /** Posterior mean engagement rate at the chosen moment. */
  readonly expectedRate: number;
  /** The population's rate in the chosen cell. */
  readonly populationRate: number;
  /** Posterior mean at `from`, what sending at once would expect. */
  readonly defaultRate: number;
  /** The Thompson draw that won. */
  readonly sampledRate: number;
  /** The customer's own settled sends and engagements in the chosen cell (before smoothing). */
  readonly customerSends: number;
  readonly customerEngagements: number;
  /** Settled contacts in the ledger behind the whole posterior. */
  readonly evidence: number;
  /** Moments considered and allowed. */
  readonly candidates: number;
  /**
   * True when the draw chose another moment than the best posterior mean would (exploration),
   * false when they agree.
   */
  readonly explored: boolean;
  /** False when no moment of the window is allowed: `at` is `from` and the gate holds it. */
  readonly constrained: boolean;
  /** One sentence for the journey event and the timeline. */
  readonly reasoning: string;
}

/** The customer's posterior in every cell. */
export function sendTimePosterior(
  ledger: readonly ContactRecord[],
  zone: string,
  now: Instant,
  population: ArrayLike<number>,
  settings: SendTimeSettings = {},
): { posteriors: BetaPosterior[]; sent: Float64Array; engaged: Float64Array; evidence: number } {
  const strength = settings.priorStrength ?? 3;
  const settleMs = settings.settleMs ?? 86_400_000;
  const sent = new Float64Array(HOURS_PER_WEEK);
  const engaged = new Float64Array(HOURS_PER_WEEK);
  let evidence = 0;
  for (const contact of ledger) {
    if (!settled(contact, now, settleMs)) continue;
    const cell = hourOfWeek(contact.at, zone);
    sent[cell] = (sent[cell] ?? 0) + 1;
    if (contact.engaged) engaged[cell] = (engaged[cell] ?? 0) + 1;
    evidence++;
  }
  const smoothing = settings.smoothing ?? DEFAULT_SMOOTHING;
  const s = smoothWeek(sent, smoothing);
  const e = smoothWeek(engaged, smoothing);
  const posteriors: BetaPosterior[] = [];
  for (let c = 0; c < HOURS_PER_WEEK; c++) {
    const m = clampRate(population[c] ?? 0.2);
    const k = e[c] ?? 0;
    const n = s[c] ?? 0;
    posteriors.push({ alpha: strength * m + k, beta: strength * (1 - m) + Math.max(n - k, 0) });
  }
  return { posteriors, sent, engaged, evidence };
}

/** Chooses the send moment; see the module comment. */
export function optimalSendTime(request: SendTimeRequest): SendTimeDecision {
  const { from, zone } = request;
  const until = Math.max(request.until, from);
  const { posteriors, sent, engaged, evidence } = sendTimePosterior(
    request.ledger,
    zone,
    request.now,
    request.population,
    request.settings,
  );
  const posteriorAt = (at: Instant): BetaPosterior =>
    posteriors[hourOfWeek(at, zone)] ?? { alpha: 1, beta: 1 };
  const allowed: Instant[] = [];
  let blockedUntil = Number.NEGATIVE_INFINITY;
  for (const at of candidateMoments(from, until, zone)) {
    if (at <= blockedUntil) continue;
    if (isAllowed(at, zone, request.quietHours, request.businessHours)) {
      allowed.push(at);
      continue;
    }
    // The first allowed moment after a block; nothing in between is allowed, and nothing at all
    // when it lies past the window.
    const open = nextAllowedMoment(at, until, zone, request.quietHours, request.businessHours);
    if (open === null) break;
    allowed.push(open);
    blockedUntil = open;
  }
  const defaultRate = betaMean(posteriorAt(from));
  if (allowed.length === 0) {
    const cell = hourOfWeek(from, zone);
    return {
      at: from,
      cell,
      localTime: localIso(from, zone),
      expectedRate: defaultRate,
      populationRate: clampRate(request.population[cell] ?? 0.2),
      defaultRate,
      sampledRate: defaultRate,
      customerSends: sent[cell] ?? 0,
      customerEngagements: engaged[cell] ?? 0,
      evidence,
      candidates: 0,
      explored: false,
      constrained: true,
      reasoning:
        'No moment of the window is outside quiet hours and inside business hours; sent at the start of the window and held by the gate',
    };
  }
  // One draw per cell, not per moment: two moments in the same hour share a belief.
  const raw = new Map<number, number>();
  const rawDraw = (c: number): number => {
    const cellIndex = ((c % HOURS_PER_WEEK) + HOURS_PER_WEEK) % HOURS_PER_WEEK;
    let d = raw.get(cellIndex);
    if (d === undefined) {
      const p = posteriors[cellIndex] ?? { alpha: 1, beta: 1 };
      d = sampleBeta({ alpha: p.alpha / exploration, beta: p.beta / exploration }, request.random);
      raw.set(cellIndex, d);
    }
    return d;
  };
  const kernel = request.settings?.drawKernel ?? DEFAULT_DRAW_KERNEL;
  const exploration = request.settings?.exploration ?? DEFAULT_EXPLORATION;
  const kernelSum = kernel.reduce((a, b, i) => a + (i === 0 ? b : 2 * b), 0);
  const drawAt = (c: number): number => {
    let sum = 0;
    kernel.forEach((w, d) => {
      sum += d === 0 ? w * rawDraw(c) : w * (rawDraw(c - d) + rawDraw(c + d));
    });
    return sum / kernelSum;
  };
  const draws = new Map<number, number>();
  let best = allowed[0] ?? from;
  let bestDraw = Number.NEGATIVE_INFINITY;
  let greedy = best;
  let greedyMean = Number.NEGATIVE_INFINITY;
  for (const at of allowed) {
    const cell = hourOfWeek(at, zone);
    const posterior = posteriors[cell] ?? { alpha: 1, beta: 1 };
    let draw = draws.get(cell);
    if (draw === undefined) {
      draw = drawAt(cell);
      draws.set(cell, draw);
    }
    // Strictly greater: among equals the earliest moment wins (sooner is better when it is free).
    if (draw > bestDraw) {
      bestDraw = draw;
      best = at;
    }
    const mean = betaMean(posterior);
    if (mean > greedyMean) {
      greedyMean = mean;
      greedy = at;
    }
  }
  const cell = hourOfWeek(best, zone);
  const expectedRate = betaMean(posteriors[cell] ?? { alpha: 1, beta: 1 });
  const populationRate = clampRate(request.population[cell] ?? 0.2);
  const explored = hourOfWeek(greedy, zone) !== cell;
  const mine = sent[cell] ?? 0;
  const reasoning =
    `Optimal send time ${cellLabel(cell)} local (${zone}): expected engagement ${pct(expectedRate)} ` +
    `vs ${pct(defaultRate)} sending at once and ${pct(populationRate)} for the population at that hour; ` +
    `${String(evidence)} past message${evidence === 1 ? '' : 's'} of this customer, ${String(mine)} in this hour` +
    (explored ? '; exploring an hour with little evidence (Thompson sampling)' : '');
  return {
    at: best,
    cell,
    localTime: localIso(best, zone),
    expectedRate,
    populationRate,
    defaultRate,
    sampledRate: bestDraw,
    customerSends: mine,
    customerEngagements: engaged[cell] ?? 0,
    evidence,
    candidates: allowed.length,
    explored,
    constrained: false,
    reasoning,
  };
}

/**
 * `from`, every local hour boundary in (from, until], and for a blocked boundary the moment its
 * block ends (quiet hours end at 08:30, the business opens at 09:15) — sorted, without repeats.
 * Boundaries are found from the zone's real offset at each UTC quarter hour, so a 23- or 25-hour
 * day and half-hour zones (Asia/Kolkata, UTC+5:30) get their real boundaries.
 */
function candidateMoments(from: Instant, until: Instant, zone: string): Instant[] {
  const moments: Instant[] = [from];
  // Local hours start on a UTC quarter hour in every zone (offsets are multiples of 15 minutes).
  for (
    let q = Math.floor(from / QUARTER_MS) * QUARTER_MS + QUARTER_MS;
    q <= until;
    q += QUARTER_MS
  ) {
    if (localMinute(q, zone) % 60 === 0) moments.push(q);
  }
  return moments;
}

const QUARTER_MS = 15 * 60_000;

/** Whether a message may go at `at`: outside quiet hours and inside business hours. */
function isAllowed(
  at: Instant,
  zone: string,
  quiet: DailyWindow | null,
  business: BusinessHours | null,
): boolean {
  if (quiet !== null && insideQuietHours(quiet, localMinute(at, zone))) return false;
  if (business !== null && nextOpenMoment(business, at, zone) !== at) return false;
  return true;
}

/**
 * The first allowed moment at or after `at`, or null when none comes within `until` (used by the
 * candidates when a boundary is blocked).
 */
export function nextAllowedMoment(
  at: Instant,
  until: Instant,
  zone: string,
  quiet: DailyWindow | null,
  business: BusinessHours | null,
): Instant | null {
  let t = at;
  // Each step moves to the end of one block; two blocks can alternate (quiet hours end before
  // the business opens), so a few rounds settle it.
  for (let round = 0; round < 8 && t <= until; round++) {
    const afterQuiet = quiet === null ? t : quietHoursEnd(quiet, t, zone);
    const open = business === null ? afterQuiet : nextOpenMoment(business, afterQuiet, zone);
    if (open === null) return null;
    if (open === t) return t;
    t = open;
  }
  return t <= until && isAllowed(t, zone, quiet, business) ? t : null;
}

/**
 * `windowEnd` of src/scheduling, computed from the cached offset when no offset change lies in
 * between (checked), else asked of `windowEnd` itself: the optimizer asks it for every blocked
 * stretch of every decision.
 */
function quietHoursEnd(window: DailyWindow, at: Instant, zone: string): Instant {
  const minute = localMinute(at, zone);
  if (!insideQuietHours(window, minute)) return at;
  const ahead = (((window.endMinute - minute) % 1440) + 1440) % 1440;
  const guess = at + Math.round(ahead * 60_000);
  const shifted = guess - (offsetMs(guess, zone) - offsetMs(at, zone));
  if (localMinute(shifted, zone) === window.endMinute % 1440 && shifted > at) return shifted;
  return windowEnd(window, at, zone);
}

/** `insideWindow` of src/scheduling on a local minute already known (same semantics). */
function insideQuietHours(window: DailyWindow, minute: number): boolean {
  const { startMinute: start, endMinute: end } = window;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

function clampRate(rate: number): number {
  return Math.min(Math.max(rate, 0.001), 0.999);
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function localIso(at: Instant, zone: string): string {
  return DateTime.fromMillis(at, { zone }).toISO() ?? new Date(at).toISOString();
}

/**
 * What the engine process learns about engagement across all customers: the population priors
 * that the send-time optimizer, the channel selector and the content personalizer shrink each
 * customer's own evidence toward.
 *
 * Kept in memory by the process that runs the engine, not in the store (no Store contract of its
 * own; a restart relearns), as exponentially decayed counts, so the priors follow seasons and
 * product changes (half-life 14 days by default). Fed three ways, each seen once per process:
 * - a customer's contact ledger the first time the process sees it (a warm-up after a restart,
 *   bounded to `warmUpCustomers` customers; only settled contacts: engaged, or older than
 *   `settleMs`, so a message sent a minute ago does not count as ignored);
 * - every message the gate lets through (`recordSend`: one send in its hour-of-week cell, channel
 *   and template variant);
 * - every first engagement (`recordEngagement`: the message's cell, channel and variant).
 * Several processes each learn from the customers they process (their share of the traffic); the
 * priors are priors, so that is enough.
 *
 * Not pure: the one mutable object of the decision engine, owned by the engine and handed to the
 * pure models as plain numbers. Time comes in as arguments (`now`), never from a clock.
 */
import type { ContactRecord, Instant } from '../core/index.js';
import { HOURS_PER_WEEK, hourOfWeek, smoothWeek, DEFAULT_SMOOTHING } from './hour-of-week.js';

/** Tuning of `EngagementLearning`; every field has a default. */
export interface LearningOptions {
  /** Half-life of the decayed counts, ms. Default 14 days. */
  readonly halfLifeMs?: number;
  /** An unengaged contact counts as ignored once it is this old, ms. Default 1 day. */
  readonly settleMs?: number;
  /** At most this many customers' ledgers are read for the warm-up. Default 100,000. */
  readonly warmUpCustomers?: number;
  /** Messages remembered for attributing an engagement to a template variant. Default 100,000. */
  readonly pendingMessages?: number;
}

/** A population rate with how much evidence a customer posterior should give it. */
export interface PopulationRate {
  /** The population's engagement rate (0–1). */
  readonly rate: number;
  /** Decayed sends behind it (0 when it is only the default). */
  readonly sends: number;
}

/** Sends and engagements of one template variant across the population (decayed). */
export interface VariantCounts {
  readonly sent: number;
  readonly engaged: number;
}

/** Dayparts for channel context: 00–06, 06–12, 12–18, 18–24 local. */
export const DAYPARTS = ['night', 'morning', 'afternoon', 'evening'] as const;

/** The daypart (index into `DAYPARTS`) of an hour-of-week cell. */
export function daypartOf(cell: number): number {
  return Math.floor((cell % 24) / 6);
}

/** The engagement rate assumed before anything is learned. */
const DEFAULT_RATE = 0.2;
/** Pseudo-sends pulling a sparse population cell toward the population's overall rate. */
const CELL_PSEUDO_SENDS = 20;

/** Decayed send/engagement counts over a fixed number of cells. */
class DecayedCounts {
  readonly sent: Float64Array;
  readonly engaged: Float64Array;
  /** The instant the counts are expressed at. */
  #at = Number.NEGATIVE_INFINITY;
  readonly #halfLifeMs: number;

  constructor(cells: number, halfLifeMs: number) {
    this.sent = new Float64Array(cells);
    this.engaged = new Float64Array(cells);
    this.#halfLifeMs = halfLifeMs;
  }

  /** Re-expresses the counts at `now` (never backwards: batches of one instant come in any order). */
  advance(now: Instant): void {
    if (now <= this.#at) return;
    if (Number.isFinite(this.#at)) {
      const factor = Math.pow(2, -(now - this.#at) / this.#halfLifeMs);
      for (let c = 0; c < this.sent.length; c++) {
        this.sent[c] = (this.sent[c] ?? 0) * factor;
        this.engaged[c] = (this.engaged[c] ?? 0) * factor;
      }
    }
    this.#at = now;
  }

  /** Adds an observation made at `at` (older ones weigh less), after advancing to `now`. */
  add(cell: number, sent: number, engaged: number, at: Instant, now: Instant): void {
    this.advance(now);
    const weight = at >= this.#at ? 1 : Math.pow(2, -(this.#at - at) / this.#halfLifeMs);
    this.sent[cell] = (this.sent[cell] ?? 0) + sent * weight;
    this.engaged[cell] = (this.engaged[cell] ?? 0) + engaged * weight;
  }

  totals(): { sent: number; engaged: number } {
    let sent = 0;
    let engaged = 0;
    for (let c = 0; c < this.sent.length; c++) {
      sent += this.sent[c] ?? 0;
      engaged += this.engaged[c] ?? 0;
    }
    return { sent, engaged };
  }
}

/** A message the gate let through, as the learning sees it. */
export interface LearnedSend {
  readonly messageId: string;
  readonly channel: string;
  /** When it goes out. */
  readonly at: Instant;
  /** The customer's zone (for the hour-of-week cell). */
  readonly zone: string;
  readonly template: string | null;
  readonly variant: string | null;
}

/** The first engagement with a message. */
export interface LearnedEngagement {
  readonly messageId: string;
  readonly channel: string;
  /** When the message went out (its cell is where the engagement counts). */
  readonly sentAt: Instant;
  readonly zone: string;
}

/** See the module comment. */
export class EngagementLearning {
  readonly #halfLifeMs: number;
  readonly #settleMs: number;
  readonly #warmUpCustomers: number;
  readonly #pendingLimit: number;
  readonly #hours: DecayedCounts;
  readonly #channels = new Map<string, DecayedCounts>();
  readonly #variants = new Map<string, Map<string, DecayedCounts>>();
  /** Customers whose ledger was read for the warm-up. */
  readonly #warmedUp = new Set<string>();
  /** Recent sends with a variant, by message id, oldest first (Map order), for attribution. */
  readonly #pending = new Map<string, { template: string; variant: string }>();
  /** Cache of the smoothed population profile; dropped by any new observation. */
  #profile: Float64Array | null = null;

  constructor(options: LearningOptions = {}) {
    this.#halfLifeMs = options.halfLifeMs ?? 14 * 86_400_000;
    this.#settleMs = options.settleMs ?? 86_400_000;
    this.#warmUpCustomers = options.warmUpCustomers ?? 100_000;
    this.#pendingLimit = options.pendingMessages ?? 100_000;
    this.#hours = new DecayedCounts(HOURS_PER_WEEK, this.#halfLifeMs);
  }

  /** An unengaged contact at `at` counts as ignored from `at + settleMs` on. */
  get settleMs(): number {
    return this.#settleMs;
  }

  /**
   * Reads a customer's ledger into the population once per process (see the module comment).
   * Contacts still unsettled are skipped: their sends were counted by whoever gated them, or are
   * lost to this process, which is a small bias against nothing in particular.
   */
  observeLedger(
    customerId: string,
    ledger: readonly ContactRecord[],
    zone: string,
    now: Instant,
  ): void {
    if (this.#warmedUp.has(customerId) || this.#warmedUp.size >= this.#warmUpCustomers) return;
    this.#warmedUp.add(customerId);
    for (const contact of ledger) {
      if (!settled(contact, now, this.#settleMs)) continue;
      this.#count(contact.channel, contact.at, zone, 1, contact.engaged ? 1 : 0, now);
    }
  }

  /** Counts a message the gate let through (see `LearnedSend`). */
  recordSend(send: LearnedSend, now: Instant): void {
    this.#count(send.channel, send.at, send.zone, 1, 0, now);
    if (send.template !== null && send.variant !== null) {
      this.#variant(send.template, send.variant).add(0, 1, 0, send.at, now);
      this.#pending.set(send.messageId, { template: send.template, variant: send.variant });
      if (this.#pending.size > this.#pendingLimit) {
        const oldest = this.#pending.keys().next();
        if (oldest.done !== true) this.#pending.delete(oldest.value);
      }
    }
  }

  /** Counts a first engagement (see `LearnedEngagement`). */
  recordEngagement(engagement: LearnedEngagement, now: Instant): void {
    this.#count(engagement.channel, engagement.sentAt, engagement.zone, 0, 1, now);
    const variant = this.#pending.get(engagement.messageId);
    if (variant !== undefined) {
      this.#pending.delete(engagement.messageId);
      this.#variant(variant.template, variant.variant).add(0, 0, 1, engagement.sentAt, now);
    }
  }

  /**
   * The population's engagement rate per hour-of-week cell (local time), smoothed like a
   * customer's evidence and pulled toward the overall rate where sends are few: the prior mean of
   * every customer's send-time posterior.
   */
  sendTimeRates(now: Instant): Float64Array {
    this.#hours.advance(now);
    if (this.#profile !== null) return this.#profile;
    const { sent, engaged } = this.#hours.totals();
    const overall = (engaged + DEFAULT_RATE * CELL_PSEUDO_SENDS) / (sent + CELL_PSEUDO_SENDS);
    const s = smoothWeek(this.#hours.sent, DEFAULT_SMOOTHING);
    const e = smoothWeek(this.#hours.engaged, DEFAULT_SMOOTHING);
    const rates = new Float64Array(HOURS_PER_WEEK);
    for (let c = 0; c < HOURS_PER_WEEK; c++) {
      rates[c] = ((e[c] ?? 0) + overall * CELL_PSEUDO_SENDS) / ((s[c] ?? 0) + CELL_PSEUDO_SENDS);
    }
    this.#profile = rates;
    return rates;
  }

  /**
   * The population's rate on a channel in a daypart (see `DAYPARTS`), pulled toward the channel's
   * overall rate, which is pulled toward the rate over all channels.
   */
  channelRate(channel: string, daypart: number, now: Instant): PopulationRate {
    const overall = this.#overallRate(now);
    const counts = this.#channels.get(channel);
    if (counts === undefined) return { rate: overall, sends: 0 };
    counts.advance(now);
    const total = counts.totals();
    const channelRate =
      (total.engaged + overall * CELL_PSEUDO_SENDS) / (total.sent + CELL_PSEUDO_SENDS);
    const sent = counts.sent[daypart] ?? 0;
    const engaged = counts.engaged[daypart] ?? 0;
    return {
      rate: (engaged + channelRate * CELL_PSEUDO_SENDS) / (sent + CELL_PSEUDO_SENDS),
      sends: sent,
    };
  }

  /**
   * Decayed sends and engagements of each variant of a template seen so far, at `now` (omitted:
   * as of the last observation, which is all a choice between variants needs).
   */
  variantCounts(template: string, now?: Instant): Map<string, VariantCounts> {
    const out = new Map<string, VariantCounts>();
    for (const [variant, counts] of this.#variants.get(template) ?? []) {
      if (now !== undefined) counts.advance(now);
      out.set(variant, { sent: counts.sent[0] ?? 0, engaged: counts.engaged[0] ?? 0 });
    }
    return out;
  }

  #overallRate(now: Instant): number {
    this.#hours.advance(now);
    const { sent, engaged } = this.#hours.totals();
    return (engaged + DEFAULT_RATE * CELL_PSEUDO_SENDS) / (sent + CELL_PSEUDO_SENDS);
  }

  #count(
    channel: string,
    at: Instant,
    zone: string,
    sent: number,
    engaged: number,
    now: Instant,
  ): void {
    const cell = hourOfWeek(at, zone);
    this.#hours.add(cell, sent, engaged, at, now);
    this.#profile = null;
    let counts = this.#channels.get(channel);
    if (counts === undefined) {
      counts = new DecayedCounts(DAYPARTS.length, this.#halfLifeMs);
      this.#channels.set(channel, counts);
    }
    counts.add(daypartOf(cell), sent, engaged, at, now);
  }

  #variant(template: string, variant: string): DecayedCounts {
    let variants = this.#variants.get(template);
    if (variants === undefined) {
      variants = new Map();
      this.#variants.set(template, variants);
    }
    let counts = variants.get(variant);
    if (counts === undefined) {
      counts = new DecayedCounts(1, this.#halfLifeMs);
      variants.set(variant, counts);
    }
    return counts;
  }
}

/**
 * Whether a ledger contact is evidence yet: engaged, or old enough that no engagement is coming;
 * a contact still in the future (held by quiet hours, a cap) never is.
 */
export function settled(contact: ContactRecord, now: Instant, settleMs: number): boolean {
  if (contact.at > now) return false;
  return contact.engaged || contact.at <= now - settleMs;
}

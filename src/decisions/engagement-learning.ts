/**
 * What the engine process learns about engagement across all customers: the population priors
 * that the send-time optimizer, the channel selector and the content personalizer shrink each
 * customer's own evidence toward.
 *
 * Exponentially decayed counts, so the priors follow seasons and product changes (half-life 14
 * days by default). Fed three ways, each seen once per process:
 * - a customer's contact ledger the first time the process sees it (a warm-up, bounded to
 *   `warmUpCustomers` customers; only settled contacts: engaged, or older than `settleMs`, so a
 *   message sent a minute ago does not count as ignored), until a stored snapshot is restored;
 * - every message the gate lets through (`recordSend`: one send in its hour-of-week cell, channel
 *   and template variant);
 * - every first engagement (`recordEngagement`: the message's cell, channel and variant).
 *
 * Persisted as snapshots (`learning-snapshot.ts`): `snapshot(now)` is everything known, as plain
 * JSON expressed at `now`; `restore` starts from a stored one. Besides the whole, the learning keeps
 * what it counted since its last save apart (`takeUnsaved`), so that several processes, each
 * learning from its share of the traffic, can each add their own increments to the newest stored
 * snapshot without counting anyone's twice (the engine's `learning-persistence.ts` does the
 * storing). A restored snapshot ends the ledger warm-up: it already holds every send and
 * engagement some process counted, and a ledger cannot tell which of its contacts those were
 * (a message held for its optimal send time is counted when gated, and would count again from the
 * ledger once settled).
 *
 * Not pure: the one mutable object of the decision engine, owned by the engine and handed to the
 * pure models as plain numbers. Time comes in as arguments (`now`), never from a clock.
 */
import type { ContactRecord, Instant } from '../core/index.js';
import {
  DAYPARTS,
  DEFAULT_SMOOTHING,
  HOURS_PER_WEEK,
  daypartOf,
  hourOfWeek,
  smoothWeek,
} from './hour-of-week.js';
import {
  LEARNING_SNAPSHOT_FORMAT,
  type LearningSnapshot,
  type SnapshotCells,
  type SnapshotVariant,
} from './learning-snapshot.js';

// Dayparts moved to the hour-of-week module (the snapshot format needs them too); still offered here.
export { DAYPARTS, daypartOf };

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

  /**
   * Adds counts expressed at `at` (a snapshot's), like `add` does one observation: advanced to
   * `now` first, older counts weigh less; counts from later than that (a process whose clock runs
   * a little ahead) count in full.
   */
  addAll(sent: readonly number[], engaged: readonly number[], at: Instant, now: Instant): void {
    this.advance(now);
    const weight = at >= this.#at ? 1 : Math.pow(2, -(this.#at - at) / this.#halfLifeMs);
    for (let c = 0; c < this.sent.length; c++) {
      this.sent[c] = (this.sent[c] ?? 0) + (sent[c] ?? 0) * weight;
      this.engaged[c] = (this.engaged[c] ?? 0) + (engaged[c] ?? 0) * weight;
    }
  }

  /**
   * The counts expressed at `now`, leaving these as they are (saving must not change what the
   * models read). The factor is computed as `advance` computes it, so advancing these to `now`
   * gives exactly the same numbers.
   */
  cellsAt(now: Instant): SnapshotCells {
    const factor = Number.isFinite(this.#at)
      ? Math.pow(2, -(now - this.#at) / this.#halfLifeMs)
      : 1;
    return {
      sent: Array.from(this.sent, (v) => (factor === 1 ? v : v * factor)),
      engaged: Array.from(this.engaged, (v) => (factor === 1 ? v : v * factor)),
    };
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

/** Everything counted, in one place: hour-of-week cells, channel × daypart, template variants. */
class CountTables {
  readonly hours: DecayedCounts;
  readonly channels = new Map<string, DecayedCounts>();
  readonly variants = new Map<string, Map<string, DecayedCounts>>();
  /** Sends and engagements counted into these tables (a loaded snapshot is not counted). */
  observations = 0;
  readonly #halfLifeMs: number;

  constructor(halfLifeMs: number) {
    this.#halfLifeMs = halfLifeMs;
    this.hours = new DecayedCounts(HOURS_PER_WEEK, halfLifeMs);
  }

  /** Counts one observation in its hour-of-week cell and its channel's daypart. */
  count(
    channel: string,
    cell: number,
    sent: number,
    engaged: number,
    at: Instant,
    now: Instant,
  ): void {
    this.hours.add(cell, sent, engaged, at, now);
    this.channel(channel).add(daypartOf(cell), sent, engaged, at, now);
    this.observations++;
  }

  channel(name: string): DecayedCounts {
    let counts = this.channels.get(name);
    if (counts === undefined) {
      counts = new DecayedCounts(DAYPARTS.length, this.#halfLifeMs);
      this.channels.set(name, counts);
    }
    return counts;
  }

  variant(template: string, variant: string): DecayedCounts {
    let variants = this.variants.get(template);
    if (variants === undefined) {
      variants = new Map();
      this.variants.set(template, variants);
    }
    let counts = variants.get(variant);
    if (counts === undefined) {
      counts = new DecayedCounts(1, this.#halfLifeMs);
      variants.set(variant, counts);
    }
    return counts;
  }

  /** Adds a snapshot's counts (decayed from its instant to the tables'). */
  load(snapshot: LearningSnapshot, now: Instant): void {
    const { at } = snapshot;
    this.hours.addAll(snapshot.hours.sent, snapshot.hours.engaged, at, now);
    for (const [name, cells] of Object.entries(snapshot.channels)) {
      this.channel(name).addAll(cells.sent, cells.engaged, at, now);
    }
    for (const [template, byVariant] of Object.entries(snapshot.variants)) {
      for (const [variant, counts] of Object.entries(byVariant)) {
        this.variant(template, variant).addAll([counts.sent], [counts.engaged], at, now);
      }
    }
  }

  /** The tables as a snapshot expressed at `now`. */
  snapshot(now: Instant): LearningSnapshot {
    // `Object.fromEntries`, not assignment: a channel or template named `__proto__` stays a key.
    return {
      format: LEARNING_SNAPSHOT_FORMAT,
      at: now,
      halfLifeMs: this.#halfLifeMs,
      hours: this.hours.cellsAt(now),
      channels: Object.fromEntries(
        [...this.channels].map(([name, counts]) => [name, counts.cellsAt(now)]),
      ),
      variants: Object.fromEntries(
        [...this.variants].map(([template, byVariant]) => [
          template,
          Object.fromEntries(
            [...byVariant].map(([variant, counts]): [string, SnapshotVariant] => {
              const cells = counts.cellsAt(now);
              return [variant, { sent: cells.sent[0] ?? 0, engaged: cells.engaged[0] ?? 0 }];
            }),
          ),
        ]),
      ),
    };
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

/** What was counted since the last save, taken out for the next one (`takeUnsaved`). */
export interface UnsavedLearning {
  /** The increments, expressed at the instant they were taken. */
  readonly snapshot: LearningSnapshot;
  /** How many sends and engagements went into them (0: nothing to save). */
  readonly observations: number;
}

/** See the module comment. */
export class EngagementLearning {
  readonly #halfLifeMs: number;
  readonly #settleMs: number;
  readonly #warmUpCustomers: number;
  readonly #pendingLimit: number;
  /** Everything known: a restored snapshot and all counted since. What the models read. */
  #all: CountTables;
  /** Counted since the last `takeUnsaved`: what the next save adds to the stored snapshot. */
  #unsaved: CountTables;
  /** Whether ledgers are still read (until a stored snapshot is restored; see the module comment). */
  #warmingUp = true;
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
    this.#all = new CountTables(this.#halfLifeMs);
    this.#unsaved = new CountTables(this.#halfLifeMs);
  }

  /**
   * A learning that starts from a stored snapshot (see `restore`), counts re-expressed at `now`
   * (default: the snapshot's instant).
   */
  static fromSnapshot(
    snapshot: LearningSnapshot,
    options: LearningOptions = {},
    now: Instant = snapshot.at,
  ): EngagementLearning {
    const learning = new EngagementLearning(options);
    learning.restore(snapshot, now);
    return learning;
  }

  /** An unengaged contact at `at` counts as ignored from `at + settleMs` on. */
  get settleMs(): number {
    return this.#settleMs;
  }

  /** Half-life of the decayed counts, ms. */
  get halfLifeMs(): number {
    return this.#halfLifeMs;
  }

  /** Whether customers' ledgers are still read (false once a stored snapshot was restored). */
  get warmingUp(): boolean {
    return this.#warmingUp;
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
    if (!this.#warmingUp) return;
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
      this.#all.variant(send.template, send.variant).add(0, 1, 0, send.at, now);
      this.#unsaved.variant(send.template, send.variant).add(0, 1, 0, send.at, now);
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
      this.#all.variant(variant.template, variant.variant).add(0, 0, 1, engagement.sentAt, now);
      this.#unsaved.variant(variant.template, variant.variant).add(0, 0, 1, engagement.sentAt, now);
    }
  }

  /**
   * The population's engagement rate per hour-of-week cell (local time), smoothed like a
   * customer's evidence and pulled toward the overall rate where sends are few: the prior mean of
   * every customer's send-time posterior.
   */
  sendTimeRates(now: Instant): Float64Array {
    const hours = this.#all.hours;
    hours.advance(now);
    if (this.#profile !== null) return this.#profile;
    const { sent, engaged } = hours.totals();
    const overall = (engaged + DEFAULT_RATE * CELL_PSEUDO_SENDS) / (sent + CELL_PSEUDO_SENDS);
    const s = smoothWeek(hours.sent, DEFAULT_SMOOTHING);
    const e = smoothWeek(hours.engaged, DEFAULT_SMOOTHING);
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
    const counts = this.#all.channels.get(channel);
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
    for (const [variant, counts] of this.#all.variants.get(template) ?? []) {
      if (now !== undefined) counts.advance(now);
      out.set(variant, { sent: counts.sent[0] ?? 0, engaged: counts.engaged[0] ?? 0 });
    }
    return out;
  }

  // ---- persistence (see the module comment) -------------------------------------------------

  /** Everything known, as plain JSON expressed at `now`. Changes nothing the models read. */
  snapshot(now: Instant): LearningSnapshot {
    return this.#all.snapshot(now);
  }

  /** Sends and engagements counted since the last `takeUnsaved` (0: nothing new to save). */
  get unsavedObservations(): number {
    return this.#unsaved.observations;
  }

  /**
   * Takes out what was counted since the last call, for a save: the next call starts from zero.
   * The models' view is unchanged. Give it back with `returnUnsaved` when the save fails.
   */
  takeUnsaved(now: Instant): UnsavedLearning {
    const taken = {
      snapshot: this.#unsaved.snapshot(now),
      observations: this.#unsaved.observations,
    };
    this.#unsaved = new CountTables(this.#halfLifeMs);
    return taken;
  }

  /** Puts back increments a failed save took (`takeUnsaved`): the next save carries them. */
  returnUnsaved(taken: UnsavedLearning, now: Instant): void {
    this.#unsaved.load(taken.snapshot, now);
    this.#unsaved.observations += taken.observations;
  }

  /**
   * Makes `base` everything learned before what was counted since the last `takeUnsaved`: the
   * models then read `base` plus those increments. After a save, `base` is what was stored (the
   * stored snapshot with this process's increments added), so nothing is counted twice.
   */
  rebase(base: LearningSnapshot, now: Instant): void {
    const all = new CountTables(this.#halfLifeMs);
    all.load(base, now);
    all.load(this.#unsaved.snapshot(now), now);
    this.#all = all;
    this.#profile = null;
  }

  /**
   * Starts from a stored snapshot (`rebase`) and ends the ledger warm-up: the snapshot already
   * holds what the ledgers could add (see the module comment).
   */
  restore(snapshot: LearningSnapshot, now: Instant): void {
    this.rebase(snapshot, now);
    this.endWarmUp();
  }

  /** Stops reading customers' ledgers (a stored snapshot holds what they tell). */
  endWarmUp(): void {
    this.#warmingUp = false;
    this.#warmedUp.clear();
  }

  #overallRate(now: Instant): number {
    const hours = this.#all.hours;
    hours.advance(now);
    const { sent, engaged } = hours.totals();
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
    this.#all.count(channel, cell, sent, engaged, at, now);
    this.#unsaved.count(channel, cell, sent, engaged, at, now);
    this.#profile = null;
  }
}

/**
 * Adds increments to a stored snapshot (null: nothing stored yet), both decayed to the later of
 * `now` and their instants, with the given half-life: what a process stores as the next version.
 */
export function mergeLearningSnapshots(
  base: LearningSnapshot | null,
  increments: LearningSnapshot,
  now: Instant,
  halfLifeMs: number,
): LearningSnapshot {
  const at = Math.max(now, increments.at, base?.at ?? Number.NEGATIVE_INFINITY);
  const tables = new CountTables(halfLifeMs);
  if (base !== null) tables.load(base, at);
  tables.load(increments, at);
  return tables.snapshot(at);
}

/**
 * Whether a ledger contact is evidence yet: engaged, or old enough that no engagement is coming;
 * a contact still in the future (held by quiet hours, a cap) never is.
 */
export function settled(contact: ContactRecord, now: Instant, settleMs: number): boolean {
  if (contact.at > now) return false;
  return contact.engaged || contact.at <= now - settleMs;
}

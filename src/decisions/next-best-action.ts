/**
 * Next best action for one customer: rank the catalogue's eligible actions by expected value
 * (P(response) × value) and time the winner under the spec's constraints.
 *
 * Glossary:
 * - **P(response)** of an action comes from, in order: the registered next-best-action policy
 *   (its predicted reward for the action's `model_action`), else the customer's engagement on the
 *   action's channel over the last 30 days shrunk toward the action's `prior` (a Beta posterior
 *   with the prior worth `PRIOR_WEIGHT` messages, so two opened e-mails do not make a 100%
 *   channel), else the prior alone. Every ranked action says which source it used.
 * - **touch**: a message sent to the customer; `max_daily_touches` counts them per local day, and
 *   a channel action past the limit is timed for the next local day rather than dropped.
 * - **channel preference**: with `channel_preferences`, a customer's `channel_preference` puts the
 *   actions on that channel first; other channels are only chosen when none on it is eligible.
 *
 * Pure: the caller gathers the profile, the contact ledger and the model's probabilities, and
 * logs the decision with every propensity so policies can be evaluated offline.
 */
import type { JsonObject } from '../core/index.js';
import {
  insideWindow,
  nextOpenMoment,
  windowEnd,
  type BusinessHours,
  type DailyWindow,
} from '../scheduling/index.js';
import { DateTime } from 'luxon';

/** How many messages' worth of evidence the prior counts for. */
export const PRIOR_WEIGHT = 10;
/** How far back engagement is counted. */
export const ENGAGEMENT_WINDOW_MS = 30 * 86_400_000;

/** An action of the catalogue, with what the caller found about it for this customer. */
export interface NbaCandidate {
  readonly action: string;
  readonly channel: string | null;
  readonly value: number;
  readonly prior: number;
  readonly params: JsonObject;
  /** Why the customer may not get it (conditions, consent, no address); null when eligible. */
  readonly ineligible: string | null;
  /** The policy model's P(response) for it, with the model's name; null when no model covers it. */
  readonly model: { readonly probability: number; readonly name: string } | null;
}

/** One past message: its channel, when it was sent, whether the customer engaged. */
export interface NbaContact {
  readonly channel: string;
  readonly at: number;
  readonly engaged: boolean;
}

/** The constraints of a decision (config defaults, tightened by the request). */
export interface NbaConstraints {
  readonly maxDailyTouches: number | null;
  readonly channelPreferences: boolean;
  readonly businessHoursOnly: boolean;
}

/** Everything a decision is made from. */
export interface NbaInput {
  readonly now: number;
  /** The customer's time zone (already defaulted). */
  readonly zone: string;
  readonly candidates: readonly NbaCandidate[];
  readonly contacts: readonly NbaContact[];
  /** Channels of recent interactions the request reported (each counts as an engaged contact). */
  readonly interactionChannels: readonly string[];
  readonly preferredChannel: string | null;
  readonly constraints: NbaConstraints;
  readonly businessHours: BusinessHours;
  /** Quiet hours by channel. */
  readonly quietHours: ReadonlyMap<string, DailyWindow>;
}

/** An eligible action with its score. */
export interface RankedAction {
  readonly action: string;
  readonly channel: string | null;
  readonly params: JsonObject;
  /** P(response), 0–1: the response's confidence. */
  readonly probability: number;
  readonly value: number;
  readonly expectedValue: number;
  /** Where the probability came from, readable. */
  readonly source: string;
}

/** When to act. */
export interface NbaTiming {
  readonly optimalTime: number;
  readonly windowStart: number;
  readonly windowEnd: number;
  /** Why the time is not now, if it is not. */
  readonly notes: readonly string[];
}

/** The decision. */
export interface NbaDecision {
  /** The best eligible action; null when nothing is eligible. */
  readonly recommended: RankedAction | null;
  /** Every eligible action, best first (the recommended one included). */
  readonly ranked: readonly RankedAction[];
  /** Actions left out, with why. */
  readonly excluded: readonly { readonly action: string; readonly reason: string }[];
  readonly timing: NbaTiming;
  readonly touchesToday: number;
  /** One sentence per step of the decision, for people. */
  readonly reasoning: string;
}

/** Decides. */
export function decideNextBestAction(input: NbaInput): NbaDecision {
  const excluded = input.candidates
    .filter((c) => c.ineligible !== null)
    .map((c) => ({ action: c.action, reason: c.ineligible ?? '' }));
  const evidence = channelEvidence(input);
  const scored = input.candidates
    .filter((c) => c.ineligible === null)
    .map((c) => score(c, evidence))
    .sort(
      (a, b) =>
        b.expectedValue - a.expectedValue ||
        b.probability - a.probability ||
        a.action.localeCompare(b.action),
    );
  const preferred = input.constraints.channelPreferences ? input.preferredChannel : null;
  const ranked =
    preferred !== null && scored.some((r) => r.channel === preferred)
      ? [
          ...scored.filter((r) => r.channel === preferred),
          ...scored.filter((r) => r.channel !== preferred),
        ]
      : scored;
  const recommended = ranked[0] ?? null;
  const touchesToday = countTouchesToday(input);
  const timing = timeAction(recommended, touchesToday, input);
  return {
    recommended,
    ranked,
    excluded,
    timing,
    touchesToday,
    reasoning: explain(recommended, ranked, excluded, preferred, timing),
  };
}

/** Sent and engaged messages per channel in the engagement window, request interactions included. */
function channelEvidence(input: NbaInput): Map<string, { sent: number; engaged: number }> {
  const evidence = new Map<string, { sent: number; engaged: number }>();
  const add = (channel: string, engaged: boolean): void => {
    const entry = evidence.get(channel) ?? { sent: 0, engaged: 0 };
    entry.sent += 1;
    if (engaged) entry.engaged += 1;
    evidence.set(channel, entry);
  };
  for (const c of input.contacts) {
    if (c.at > input.now - ENGAGEMENT_WINDOW_MS && c.at <= input.now) add(c.channel, c.engaged);
  }
  for (const channel of input.interactionChannels) add(channel, true);
  return evidence;
}

function score(
  candidate: NbaCandidate,
  evidence: ReadonlyMap<string, { sent: number; engaged: number }>,
): RankedAction {
  let probability: number;
  let source: string;
  if (candidate.model !== null) {
    probability = candidate.model.probability;
    source = `model ${candidate.model.name}`;
  } else if (candidate.channel !== null) {
    const seen = evidence.get(candidate.channel) ?? { sent: 0, engaged: 0 };
    probability = (seen.engaged + candidate.prior * PRIOR_WEIGHT) / (seen.sent + PRIOR_WEIGHT);
    source =
      seen.sent === 0
        ? `prior ${fmt(candidate.prior)} (no ${candidate.channel} messages in 30 days)`
        : `engagement on ${candidate.channel}: ${seen.engaged} of ${seen.sent} in 30 days, shrunk toward the prior ${fmt(candidate.prior)}`;
  } else {
    probability = candidate.prior;
    source = `prior ${fmt(candidate.prior)}`;
  }
  return {
    action: candidate.action,
    channel: candidate.channel,
    params: candidate.params,
    probability,
    value: candidate.value,
    expectedValue: probability * candidate.value,
    source,
  };
}

/** Messages sent since the customer's local midnight. */
function countTouchesToday(input: NbaInput): number {
  const midnight = DateTime.fromMillis(input.now, { zone: input.zone }).startOf('day').toMillis();
  return input.contacts.filter((c) => c.at >= midnight && c.at <= input.now).length;
}

/**
 * The earliest moment the action may happen, and the window it may happen in: past today's
 * touch limit → the next local day; business hours only → the next open moment (until closing);
 * the channel's quiet hours → their end (until they begin again); otherwise a day from then.
 */
function timeAction(action: RankedAction | null, touchesToday: number, input: NbaInput): NbaTiming {
  const notes: string[] = [];
  let start = input.now;
  const max = input.constraints.maxDailyTouches;
  if (action?.channel != null && max !== null && touchesToday >= max) {
    start = DateTime.fromMillis(input.now, { zone: input.zone })
      .plus({ days: 1 })
      .startOf('day')
      .toMillis();
    notes.push(`${touchesToday} touches today reach max_daily_touches ${max}: tomorrow`);
  }
  const quiet = action?.channel != null ? input.quietHours.get(action.channel) : undefined;
  let end = start + 86_400_000;
  // Business hours and quiet hours can push each other (quiet until 08:00, open from 09:00): a
  // few rounds settle it.
  for (let round = 0; round < 4; round++) {
    const before = start;
    if (input.constraints.businessHoursOnly) {
      const open = nextOpenMoment(input.businessHours, start, input.zone);
      if (open !== null && open !== start) {
        start = open;
        notes.push('moved into business hours');
      }
    }
    if (quiet !== undefined && insideWindow(quiet, start, input.zone)) {
      start = windowEnd(quiet, start, input.zone);
      notes.push(`held past the ${action?.channel ?? ''} quiet hours`);
    }
    if (start === before) break;
  }
  end = start + 86_400_000;
  if (input.constraints.businessHoursOnly) {
    const local = DateTime.fromMillis(start, { zone: input.zone });
    const closing = local
      .startOf('day')
      .plus({ minutes: input.businessHours.hours.endMinute })
      .toMillis();
    if (closing > start) end = Math.min(end, closing);
  }
  if (quiet !== undefined) {
    // The window closes when quiet hours begin next.
    const local = DateTime.fromMillis(start, { zone: input.zone }).startOf('day');
    for (const day of [0, 1]) {
      const begins = local.plus({ days: day, minutes: quiet.startMinute }).toMillis();
      if (begins > start) {
        end = Math.min(end, begins);
        break;
      }
    }
  }
  return { optimalTime: start, windowStart: start, windowEnd: end, notes: [...new Set(notes)] };
}

function explain(
  recommended: RankedAction | null,
  ranked: readonly RankedAction[],
  excluded: readonly { action: string; reason: string }[],
  preferred: string | null,
  timing: NbaTiming,
): string {
  if (recommended === null) {
    return excluded.length === 0
      ? 'no actions to choose from'
      : `no eligible action: ${excluded.map((e) => `${e.action} (${e.reason})`).join('; ')}`;
  }
  const parts = [
    `${recommended.action}: expected value ${fmt(recommended.expectedValue)} = P(response) ${fmt(recommended.probability)} (${recommended.source}) × value ${fmt(recommended.value)}`,
  ];
  const next = ranked[1];
  if (next !== undefined) {
    parts.push(
      `best of ${ranked.length} eligible; next ${next.action} at ${fmt(next.expectedValue)}`,
    );
  }
  if (preferred !== null && recommended.channel === preferred) {
    parts.push(`the customer prefers ${preferred}`);
  }
  if (excluded.length > 0)
    parts.push(`excluded: ${excluded.map((e) => `${e.action} (${e.reason})`).join('; ')}`);
  parts.push(...timing.notes);
  return parts.join('; ');
}

function fmt(n: number): string {
  return Number(n.toFixed(3)).toString();
}

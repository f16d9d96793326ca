/**
 * The specification's `selectChannel`, for messages sent on `channel: auto`:
 * 1. the customer's explicit preference (`channel_preference`), with that channel's configured
 *    fallback chain;
 * 2. a message of `urgency: high` goes by SMS first, then e-mail, then in-app;
 * 3. otherwise the decision engine's channel bandit (`rankChannels`): a Beta-Bernoulli posterior
 *    per channel from the customer's contact ledger, shrunk toward the population's rate on that
 *    channel at that time of day, ranked by Thompson sampling, so a channel the customer engages
 *    with wins most of the time and an untried one is tried now and then. The ranking is the
 *    fallback route; the winner's probability of being the best is the decision's confidence.
 *
 * Only channels the customer can be reached on are candidates (the caller filters by address,
 * consent and `enabled`). Pure: the random source is an argument (seeded per message by the
 * engine, so a replay chooses the same), and the decision with its reasoning becomes a
 * `message.channel_selected` journey event.
 */
import type { ChannelType } from '../config/index.js';
import type { Instant } from '../core/index.js';
import { rankChannels, type PopulationRate, type RankedChannel } from '../decisions/index.js';

/** The name a send step or action uses to ask for a selection. */
export const AUTO_CHANNEL = 'auto';

/** How urgent a message is (`urgency` on a send step or action). */
export type Urgency = 'high' | 'normal' | 'low';

/** The spec's `ChannelDecision`, plus the ranking behind a bandit choice. */
export interface ChannelDecision {
  readonly primary: string;
  readonly fallback: readonly string[];
  readonly reasoning: string;
  /** The winner's probability of being the best channel (rule 3); null for rules 1 and 2. */
  readonly confidence: number | null;
  /** Every candidate with its numbers, best first (rule 3); empty for rules 1 and 2. */
  readonly ranking: readonly RankedChannel[];
}

/** A channel the customer can be reached on, in config order. */
export interface ChannelCandidate {
  readonly name: string;
  readonly type: ChannelType;
  readonly fallback: string | null;
}

/** One past message of the customer: its channel, when it went, whether they engaged with it. */
export interface EngagementSample {
  readonly channel: string;
  readonly at: Instant;
  readonly engaged: boolean;
}

/** What rule 3 needs beyond the ledger. */
export interface SelectionContext {
  readonly now: Instant;
  /** The customer's zone (the time of day is context). */
  readonly zone: string;
  /** Uniform [0, 1) source for the Thompson draws. */
  readonly random: () => number;
  /** The population's rate on a channel in a daypart; null: a flat prior. */
  readonly population: ((channel: string, daypart: number) => PopulationRate) | null;
}

/** Chooses a channel; null when there is no candidate at all. */
export function selectChannel(input: {
  readonly preference: unknown;
  readonly urgency: Urgency | null;
  readonly candidates: readonly ChannelCandidate[];
  readonly history: readonly EngagementSample[];
  readonly context: SelectionContext;
}): ChannelDecision | null {
  const { candidates } = input;
  if (candidates.length === 0) return null;
  const byName = new Map(candidates.map((c) => [c.name, c]));
  const preferred = typeof input.preference === 'string' ? byName.get(input.preference) : undefined;
  if (preferred !== undefined) {
    return {
      primary: preferred.name,
      fallback: chainOf(preferred, byName),
      reasoning: 'Customer preference',
      confidence: null,
      ranking: [],
    };
  }
  if (input.urgency === 'high') {
    const order: ChannelType[] = ['sms', 'email', 'in_app'];
    const ranked = order.flatMap((type) => candidates.filter((c) => c.type === type));
    const [first, ...rest] = ranked;
    if (first !== undefined) {
      return {
        primary: first.name,
        fallback: rest.map((c) => c.name),
        reasoning: 'High urgency message',
        confidence: null,
        ranking: [],
      };
    }
  }
  const { now, zone, random, population } = input.context;
  const ranking = rankChannels({
    channels: candidates.map((c) => c.name),
    ledger: input.history,
    now,
    at: now,
    zone,
    population,
    random,
  });
  const [best, ...others] = ranking.ranked;
  if (best === undefined) return null;
  return {
    primary: best.channel,
    fallback: others.map((r) => r.channel),
    reasoning: ranking.reasoning,
    confidence: best.probabilityBest,
    ranking: ranking.ranked,
  };
}

/** A channel's configured fallback chain among the candidates, without loops. */
function chainOf(start: ChannelCandidate, byName: ReadonlyMap<string, ChannelCandidate>): string[] {
  const chain: string[] = [];
  let next = start.fallback === null ? undefined : byName.get(start.fallback);
  while (next !== undefined && next.name !== start.name && !chain.includes(next.name)) {
    chain.push(next.name);
    next = next.fallback === null ? undefined : byName.get(next.fallback);
  }
  return chain;
}

/**
 * The specification's `selectChannel`, for messages sent on `channel: auto`:
 * 1. the customer's explicit preference (`channel_preference`), with that channel's configured
 *    fallback chain;
 * 2. a message of `urgency: high` goes by SMS first, then e-mail, then in-app;
 * 3. otherwise the channel the customer engages with most: until the decision engine takes this
 *    step over, each channel is scored by its engagement rate over the contact ledger (opens,
 *    clicks and reads over messages sent in the last month) with a uniform prior,
 *    `(engaged + 1) / (sent + 2)`, so a channel never tried scores 0.5 and one with a single
 *    ignored message is not written off. Ties keep the config's order.
 *
 * Only channels the customer can be reached on are candidates (the caller filters by address,
 * consent and `enabled`). Pure: the processor calls it in the customer's order, and the decision
 * with its reasoning becomes a `message.channel_selected` journey event.
 */
import type { ChannelType } from '../config/index.js';

/** The name a send step or action uses to ask for a selection. */
export const AUTO_CHANNEL = 'auto';

/** How urgent a message is (`urgency` on a send step or action). */
export type Urgency = 'high' | 'normal' | 'low';

/** The spec's `ChannelDecision`, plus the score behind an engagement-based choice. */
export interface ChannelDecision {
  readonly primary: string;
  readonly fallback: readonly string[];
  readonly reasoning: string;
  /** The winning channel's score for an engagement-based choice; null for rules 1 and 2. */
  readonly confidence: number | null;
}

/** A channel the customer can be reached on, in config order. */
export interface ChannelCandidate {
  readonly name: string;
  readonly type: ChannelType;
  readonly fallback: string | null;
}

/** One past message of the customer: its channel and whether they engaged with it. */
export interface EngagementSample {
  readonly channel: string;
  readonly engaged: boolean;
}

/** Chooses a channel; null when there is no candidate at all. */
export function selectChannel(input: {
  readonly preference: unknown;
  readonly urgency: Urgency | null;
  readonly candidates: readonly ChannelCandidate[];
  readonly history: readonly EngagementSample[];
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
      };
    }
  }
  const scored = candidates.map((candidate, order) => {
    let sent = 0;
    let engaged = 0;
    for (const sample of input.history) {
      if (sample.channel !== candidate.name) continue;
      sent++;
      if (sample.engaged) engaged++;
    }
    return { candidate, order, sent, engaged, score: (engaged + 1) / (sent + 2) };
  });
  scored.sort((a, b) => b.score - a.score || a.order - b.order);
  const [best, ...others] = scored;
  if (best === undefined) return null;
  return {
    primary: best.candidate.name,
    fallback: others.map((s) => s.candidate.name),
    reasoning: `AI confidence: ${best.score.toFixed(2)} (engagement rate on ${best.candidate.name}: ${String(best.engaged)} of ${String(best.sent)} messages in the last month)`,
    confidence: best.score,
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

/**
 * The channel selector: a Beta-Bernoulli bandit per channel over the customer's contact ledger,
 * with Thompson sampling, shrunk toward the population and aware of the time of day where the data
 * allows. It is step 3 of the spec's `selectChannel` (see src/delivery/channel-selection.ts).
 *
 * Model. For channel ch and the daypart d of the planned send (night, morning, afternoon, evening,
 * local):
 *   alpha = s · m(ch, d) + Σ w · engaged,   beta = s · (1 − m(ch, d)) + Σ w · (1 − engaged)
 * over the customer's settled contacts on ch, with w = 1 for contacts in daypart d and
 * `otherDaypartWeight` (default 0.5) for the rest: evidence from the same time of day counts more,
 * and with little data every contact still counts. m(ch, d) is the population's rate on the channel
 * in that daypart (`EngagementLearning.channelRate`) and s the prior strength (default 8
 * pseudo-sends, about what the spread of customers' rates around the population's implies), so a
 * channel this customer never got starts at what the population does with it.
 *
 * The ranking orders channels by one Thompson draw each, tempered like the send-time optimizer's
 * (`exploration`, default 0.1: draws from a posterior with 10× the evidence, so a channel with a
 * wide posterior is still tried now and then but four weeks are not spent exploring), and reports
 * for each channel the probability that it is the best (exact, by integration, untempered).
 * Pure; the random source is an argument.
 */
import type { ContactRecord, Instant } from '../core/index.js';
import { betaMean, probabilityBest, sampleBeta, type BetaPosterior } from './beta.js';
import { DAYPARTS, daypartOf, settled, type PopulationRate } from './engagement-learning.js';
import { hourOfWeek } from './hour-of-week.js';
import { DEFAULT_EXPLORATION } from './send-time.js';

/** What the channel bandit needs. */
export interface ChannelBanditRequest {
  /** Candidate channel names, in config order (ties keep it). */
  readonly channels: readonly string[];
  /** The customer's contact ledger. */
  readonly ledger: readonly ContactRecord[];
  readonly now: Instant;
  /** When the message would go (its daypart is the context). */
  readonly at: Instant;
  /** The customer's zone. */
  readonly zone: string;
  /** The population's rate on a channel in a daypart; null: a flat 20% prior for every channel. */
  readonly population: ((channel: string, daypart: number) => PopulationRate) | null;
  readonly random: () => number;
  readonly settings?: ChannelBanditSettings;
}

/** Tuning of the channel bandit. */
export interface ChannelBanditSettings {
  /** Prior strength s in pseudo-sends. Default 8. */
  readonly priorStrength?: number;
  /** Weight of a contact from another daypart. Default 0.5. */
  readonly otherDaypartWeight?: number;
  /** An unengaged contact counts as ignored once this old, ms. Default 1 day. */
  readonly settleMs?: number;
  /** Scales the spread of the Thompson draws (1: the posterior itself). Default 0.1. */
  readonly exploration?: number;
}

/** One channel in the ranking. */
export interface RankedChannel {
  readonly channel: string;
  /** The Thompson draw the ranking is ordered by. */
  readonly sampled: number;
  /** Posterior mean engagement rate. */
  readonly expected: number;
  /** Probability that this channel has the highest rate. */
  readonly probabilityBest: number;
  /** The population's rate on it in this daypart (the prior mean). */
  readonly populationRate: number;
  /** The customer's settled messages and engagements on it (unweighted). */
  readonly sent: number;
  readonly engaged: number;
}

/** The ranking, best first, and why. */
export interface ChannelRanking {
  readonly ranked: readonly RankedChannel[];
  /** The daypart of the planned send. */
  readonly daypart: (typeof DAYPARTS)[number];
  readonly reasoning: string;
}

/** Ranks channels; see the module comment. */
export function rankChannels(request: ChannelBanditRequest): ChannelRanking {
  const strength = request.settings?.priorStrength ?? 8;
  const otherWeight = request.settings?.otherDaypartWeight ?? 0.5;
  const settleMs = request.settings?.settleMs ?? 86_400_000;
  const exploration = request.settings?.exploration ?? DEFAULT_EXPLORATION;
  const daypart = daypartOf(hourOfWeek(request.at, request.zone));
  const arms = request.channels.map((channel, order) => {
    const prior = request.population?.(channel, daypart) ?? { rate: 0.2, sends: 0 };
    const m = Math.min(Math.max(prior.rate, 0.001), 0.999);
    let alpha = strength * m;
    let beta = strength * (1 - m);
    let sent = 0;
    let engaged = 0;
    for (const contact of request.ledger) {
      if (contact.channel !== channel || !settled(contact, request.now, settleMs)) continue;
      const w = daypartOf(hourOfWeek(contact.at, request.zone)) === daypart ? 1 : otherWeight;
      sent++;
      if (contact.engaged) {
        engaged++;
        alpha += w;
      } else {
        beta += w;
      }
    }
    const posterior: BetaPosterior = { alpha, beta };
    return { channel, order, posterior, populationRate: m, sent, engaged };
  });
  const best = probabilityBest(arms.map((a) => a.posterior));
  const ranked = arms
    .map((arm, i) => ({
      arm,
      entry: {
        channel: arm.channel,
        sampled: sampleBeta(
          { alpha: arm.posterior.alpha / exploration, beta: arm.posterior.beta / exploration },
          request.random,
        ),
        expected: betaMean(arm.posterior),
        probabilityBest: best[i] ?? 0,
        populationRate: arm.populationRate,
        sent: arm.sent,
        engaged: arm.engaged,
      },
    }))
    .sort((a, b) => b.entry.sampled - a.entry.sampled || a.arm.order - b.arm.order)
    .map((r) => r.entry);
  const label = DAYPARTS[daypart] ?? 'night';
  const top = ranked[0];
  const reasoning =
    top === undefined
      ? 'No channel to rank'
      : `AI confidence: ${top.probabilityBest.toFixed(2)} that ${top.channel} engages best ` +
        `(expected ${pct(top.expected)} from ${String(top.engaged)} of ${String(top.sent)} messages, ` +
        `population ${pct(top.populationRate)} in the ${label}; Thompson sampling over ${String(ranked.length)} channel${ranked.length === 1 ? '' : 's'})`;
  return { ranked, daypart: label, reasoning };
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

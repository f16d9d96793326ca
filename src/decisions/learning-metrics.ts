/**
 * The evaluation saved beside each version of the engagement learning in the model registry (its
 * `metrics`, shown by `GET /v1/models` and `waymark models list`): what the population learning
 * knows, in the terms an operator judges it by. Is there enough evidence (decayed sends)? Which
 * channels and dayparts engage? Which hours does the send-time optimizer start every customer
 * from? Is a template's bandit converging?
 *
 * Counts are decayed (a send a half-life ago counts one half), so they read as "recent sends",
 * not as totals; rates are engaged / sent of those counts (null without sends). The best hours
 * are the optimizer's prior means (smoothed and pulled toward the overall rate), since that is
 * what decides, not the raw rate of a cell with three sends.
 */
import type { JsonObject, JsonValue } from '../core/index.js';
import { EngagementLearning } from './engagement-learning.js';
import { DAYPARTS, HOURS_PER_WEEK, cellLabel, daypartOf } from './hour-of-week.js';
import type { LearningSnapshot } from './learning-snapshot.js';

/** How many hour-of-week cells the metrics list as the best. */
const BEST_HOURS = 5;

/**
 * The metrics of a snapshot (see the module comment).
 *
 * @param added the increments this version added to the one before (their sends and engagements
 *   and how many observations), or null when the version is not built from increments.
 */
export function learningMetrics(
  snapshot: LearningSnapshot,
  added: { snapshot: LearningSnapshot; observations: number } | null = null,
): JsonObject {
  const total = sum(snapshot.hours.sent, snapshot.hours.engaged);
  const dayparts = DAYPARTS.map(() => ({ sent: 0, engaged: 0 }));
  for (let cell = 0; cell < HOURS_PER_WEEK; cell++) {
    const part = dayparts[daypartOf(cell)];
    if (part === undefined) continue;
    part.sent += snapshot.hours.sent[cell] ?? 0;
    part.engaged += snapshot.hours.engaged[cell] ?? 0;
  }
  const priors = EngagementLearning.fromSnapshot(snapshot, {
    halfLifeMs: snapshot.halfLifeMs,
  }).sendTimeRates(snapshot.at);
  const best = Array.from(priors, (prior, cell) => ({ prior, cell }))
    .sort((a, b) => b.prior - a.prior || a.cell - b.cell)
    .slice(0, BEST_HOURS);
  return {
    at: new Date(snapshot.at).toISOString(),
    halfLifeDays: round(snapshot.halfLifeMs / 86_400_000, 4),
    ...ratedTotals(total),
    added:
      added === null
        ? null
        : {
            observations: added.observations,
            ...ratedTotals(sum(added.snapshot.hours.sent, added.snapshot.hours.engaged)),
          },
    dayparts: Object.fromEntries(DAYPARTS.map((name, i) => [name, ratedTotals(dayparts[i])])),
    channels: Object.fromEntries(
      Object.entries(snapshot.channels).map(([channel, cells]) => {
        const all = sum(cells.sent, cells.engaged);
        return [
          channel,
          {
            ...rated(all.sent, all.engaged),
            dayparts: Object.fromEntries(
              DAYPARTS.map((name, i) => [name, rated(cells.sent[i] ?? 0, cells.engaged[i] ?? 0)]),
            ),
          },
        ];
      }),
    ),
    bestHours: best.map(({ prior, cell }) => ({
      hour: cellLabel(cell),
      cell,
      prior: round(prior, 4),
      ...rated(snapshot.hours.sent[cell] ?? 0, snapshot.hours.engaged[cell] ?? 0),
    })),
    templates: Object.fromEntries(
      Object.entries(snapshot.variants).map(([template, variants]) => [
        template,
        Object.fromEntries(
          Object.entries(variants).map(([variant, c]) => [variant, rated(c.sent, c.engaged)]),
        ),
      ]),
    ),
  };
}

/** The one line `waymark models list` shows for a version: its overall rate and evidence. */
export function learningHeadline(metrics: JsonObject): string {
  const sends = metrics['sends'];
  const rate = metrics['rate'];
  if (typeof sends !== 'number') return 'no metrics';
  return typeof rate === 'number'
    ? `engagement ${(rate * 100).toFixed(1)}% of ${sends.toFixed(0)} recent sends`
    : 'nothing learned yet';
}

function rated(sent: number, engaged: number): { [key: string]: JsonValue } {
  return {
    sends: round(sent, 2),
    engagements: round(engaged, 2),
    rate: sent > 0 ? round(engaged / sent, 4) : null,
  };
}

function ratedTotals(totals: { sent: number; engaged: number } | undefined): {
  [key: string]: JsonValue;
} {
  return rated(totals?.sent ?? 0, totals?.engaged ?? 0);
}

function sum(
  sent: readonly number[],
  engaged: readonly number[],
): { sent: number; engaged: number } {
  let s = 0;
  let e = 0;
  for (const v of sent) s += v;
  for (const v of engaged) e += v;
  return { sent: s, engaged: e };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

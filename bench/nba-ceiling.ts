/**
 * How much better than "send everyone the men's e-mail" can any next-best-action policy do on the
 * Hillstrom file? Issue #6 asks for ≥ 1.04× by inverse propensity scoring on a held-out part.
 *
 * For segmentations of growing depth, over 20 seeded 70/30 splits:
 * - **honest**: the policy picks, per segment, the action with the best (lightly smoothed) visit
 *   rate on the 70%, and is valued by IPS on the 30% — what any trained policy is held to;
 * - **oracle on the test part**: the action is picked on the 30% itself and valued there — not a
 *   policy, an upper bound that overfits the evaluation sample.
 *
 * Run: node --import tsx bench/nba-ceiling.ts [path/to/hillstrom-train.csv]
 */
import { readFileSync } from 'node:fs';

import { ipsValue, parseTable, seededRandom, shuffled } from '../src/decisions/index.js';

const file = process.argv[2] ?? '../shared/data/hillstrom-train.csv';
const table = parseTable(readFileSync(file, 'utf8'), file);
const column = (name: string): number => table.header.indexOf(name);
const cell = (row: number, name: string): string => table.rows[row]?.cells[column(name)] ?? '';
const rows = table.rows.map((_, i) => i);
const logged = rows.map((r) => cell(r, 'segment'));
const visits = rows.map((r) => Number(cell(r, 'visit')));
const ACTIONS = ['Mens E-Mail', 'Womens E-Mail', 'No E-Mail'];
const share = new Map(ACTIONS.map((a) => [a, logged.filter((l) => l === a).length / rows.length]));
const propensity = (a: string): number => share.get(a) ?? 1;

const SEGMENTATIONS: [string, string[]][] = [
  ['none (everyone the same)', []],
  ['mens × womens', ['mens', 'womens']],
  ['+ newbie', ['mens', 'womens', 'newbie']],
  ['+ channel', ['mens', 'womens', 'newbie', 'channel']],
  ['+ history segment', ['mens', 'womens', 'newbie', 'channel', 'history_segment']],
  ['+ zip code', ['mens', 'womens', 'newbie', 'channel', 'history_segment', 'zip_code']],
];

function segmentOf(row: number, columns: string[]): string {
  return columns.map((c) => cell(row, c)).join('|');
}

/** Per segment and action: visits and customers among `part`. */
function tally(part: number[], columns: string[]): Map<string, Map<string, [number, number]>> {
  const out = new Map<string, Map<string, [number, number]>>();
  for (const r of part) {
    const key = segmentOf(r, columns);
    const byAction = out.get(key) ?? new Map<string, [number, number]>();
    const counts = byAction.get(logged[r] ?? '') ?? [0, 0];
    counts[0] += visits[r] ?? 0;
    counts[1] += 1;
    byAction.set(logged[r] ?? '', counts);
    out.set(key, byAction);
  }
  return out;
}

function choose(
  counts: Map<string, Map<string, [number, number]>>,
  key: string,
  smoothing: number,
): string {
  const byAction = counts.get(key);
  if (byAction === undefined) return 'Mens E-Mail';
  let best = 'Mens E-Mail';
  let bestRate = -1;
  for (const a of ACTIONS) {
    const [v, n] = byAction.get(a) ?? [0, 0];
    const rate = (v + 0.18 * smoothing) / (n + smoothing);
    if (rate > bestRate) [best, bestRate] = [a, rate];
  }
  return best;
}

const SPLITS = 20;
console.log(`${file}: ${rows.length} rows; IPS on a 30% hold-out, ${SPLITS} seeded splits`);
console.log(
  "segmentation                 honest policy / men's e-mail (mean, min–max)   oracle on the test part",
);
for (const [name, columns] of SEGMENTATIONS) {
  const honest: number[] = [];
  const oracle: number[] = [];
  for (let seed = 1; seed <= SPLITS; seed++) {
    const order = shuffled(rows, seededRandom(seed));
    const cut = Math.round(rows.length * 0.3);
    const test = order.slice(0, cut);
    const train = order.slice(cut);
    const testLogged = test.map((r) => logged[r] ?? '');
    const testVisits = test.map((r) => visits[r] ?? 0);
    const mens = ipsValue(
      testLogged,
      testVisits,
      test.map(() => 'Mens E-Mail'),
      propensity,
    );
    const fromTrain = tally(train, columns);
    const policy = test.map((r) => choose(fromTrain, segmentOf(r, columns), 20));
    honest.push(ipsValue(testLogged, testVisits, policy, propensity) / mens);
    const fromTest = tally(test, columns);
    const peeked = test.map((r) => choose(fromTest, segmentOf(r, columns), 0));
    oracle.push(ipsValue(testLogged, testVisits, peeked, propensity) / mens);
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    `${name.padEnd(28)} ${mean(honest).toFixed(4)} (${Math.min(...honest).toFixed(4)}–${Math.max(...honest).toFixed(4)})${' '.repeat(20)}${mean(oracle).toFixed(4)}`,
  );
}

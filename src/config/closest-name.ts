/**
 * "Did you mean ...?" hints for misspelt field names, operators, channel names and the like.
 * Edit distance is Damerau-Levenshtein (a swap of two adjacent letters counts once), because
 * transpositions (`priorty`, `opreator`) are the commonest typing mistake in hand-written YAML.
 */

function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      const row = d[i];
      if (row) row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `input`, if it is close enough to be a plausible typo: at most one edit
 * for short words, about one edit per three letters for longer ones. Case is ignored.
 */
export function closestName(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  const allowed = Math.max(1, Math.floor(needle.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(needle, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= allowed ? best : undefined;
}

/** ` (did you mean 'x'?)` when a close candidate exists, otherwise the empty string. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const suggestion = closestName(input, candidates);
  return suggestion === undefined || suggestion === input ? '' : ` (did you mean '${suggestion}'?)`;
}

/** Quotes and joins names for a message: `'a', 'b', 'c'`; long lists are cut with "...". */
export function listNames(names: Iterable<string>, limit = 12): string {
  const all = [...names];
  const shown = all.slice(0, limit).map((n) => `'${n}'`);
  return all.length > limit ? `${shown.join(', ')}, ... (${all.length} in all)` : shown.join(', ');
}

import type { z } from 'zod';
import { didYouMean, listNames } from './closest-name.js';
import { describeFound } from './parse-result.js';
import type { ConfigPath } from './problems.js';
import { allowedKeysOf } from './value-schemas.js';
import type { PositionTarget } from './yaml-source.js';

/**
 * Turns zod issues into findings a person can act on: what was expected, what was found, and a
 * "did you mean" where a close name exists. Paths stay as merged-config paths; the loader maps
 * them to files, lines and columns.
 */

/** A problem before it is located in a file. */
export interface Finding {
  readonly path: ConfigPath;
  readonly message: string;
  readonly target: PositionTarget;
  /** For a problem inside a string value (a template), where in the string. */
  readonly offset?: number;
}

type Issue = z.core.$ZodIssue;

function valueAt(root: unknown, path: ConfigPath): unknown {
  let value = root;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

function isMissing(root: unknown, path: ConfigPath): boolean {
  if (path.length === 0) return root === undefined;
  const parent = valueAt(root, path.slice(0, -1));
  const last = path[path.length - 1];
  return (
    typeof parent === 'object' &&
    parent !== null &&
    !Array.isArray(parent) &&
    last !== undefined &&
    !Object.hasOwn(parent, last)
  );
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
  literal: 'a fixed value',
};

// zod's own (English) messages start like this; ours start with "expected", "unknown", ...
const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Unrecognized key)/;

function quoteAll(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
}

function fieldName(path: ConfigPath): string {
  const last = path[path.length - 1];
  return typeof last === 'string' ? last : `item ${String(last)}`;
}

function sizeMessage(
  issue: Extract<Issue, { code: 'too_small' | 'too_big' }>,
  found: unknown,
): string {
  const small = issue.code === 'too_small';
  const bound = small ? issue.minimum : issue.maximum;
  const inclusive = issue.inclusive ?? true;
  if (issue.origin === 'array' || issue.origin === 'set') {
    const count = Array.isArray(found) ? String(found.length) : describeFound(found);
    return `expected ${small ? 'at least' : 'at most'} ${String(bound)} item${Number(bound) === 1 ? '' : 's'}; found ${count}`;
  }
  if (issue.origin === 'string') {
    return small && Number(bound) === 1
      ? `expected non-empty text; found ${describeFound(found)}`
      : `expected text of ${small ? 'at least' : 'at most'} ${String(bound)} characters; found ${describeFound(found)}`;
  }
  const relation = small
    ? inclusive
      ? 'at least'
      : 'greater than'
    : inclusive
      ? 'at most'
      : 'less than';
  return `expected a number ${relation} ${String(bound)}; found ${describeFound(found)}`;
}

/**
 * Chooses the union branch the author most likely meant: not one rejected for being the wrong
 * kind of value altogether, then the one with the fewest wrong or missing fields, then the one
 * whose problems lie deepest.
 */
function likeliestBranch(
  branches: readonly (readonly Issue[])[],
  input: unknown,
): readonly Issue[] {
  let best: readonly Issue[] | undefined;
  let bestScore: [number, number, number] = [Infinity, Infinity, Infinity];
  for (const issues of branches) {
    const structured = typeof input === 'object' && input !== null;
    const wrongKind = issues.some(
      (i) =>
        i.path.length === 0 &&
        (i.code === 'invalid_type' || (i.code === 'invalid_value' && structured)),
    )
      ? 1
      : 0;
    let shallow = 0;
    for (const issue of issues) {
      if (issue.path.length === 0 && issue.code === 'unrecognized_keys')
        shallow += issue.keys.length;
      else if (
        issue.path.length === 1 &&
        issue.code === 'invalid_type' &&
        isMissing(input, segments(issue.path))
      ) {
        shallow += 1;
      }
    }
    const depth = -Math.max(0, ...issues.map((i) => i.path.length));
    const score: [number, number, number] = [wrongKind, shallow, depth];
    if (
      score[0] < bestScore[0] ||
      (score[0] === bestScore[0] &&
        (score[1] < bestScore[1] || (score[1] === bestScore[1] && score[2] < bestScore[2])))
    ) {
      best = issues;
      bestScore = score;
    }
  }
  return best ?? [];
}

/** Findings for `issues` raised while parsing `root`; `base` prefixes every path. */
export function findingsFromIssues(
  issues: readonly Issue[],
  root: unknown,
  base: ConfigPath = [],
): Finding[] {
  const findings: Finding[] = [];
  for (const issue of issues) collect(issue, root, base, findings);
  return findings;
}

function segments(path: readonly PropertyKey[]): (string | number)[] {
  return path.filter((s): s is string | number => typeof s !== 'symbol');
}

function collect(issue: Issue, root: unknown, base: ConfigPath, out: Finding[]): void {
  const local = segments(issue.path);
  const path: ConfigPath = [...base, ...local];
  const found = valueAt(root, local);
  const custom = !ZOD_DEFAULT.test(issue.message);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysOf(found) ?? [];
      for (const key of issue.keys) {
        const hint = didYouMean(key, allowed);
        const expected = allowed.length > 0 ? `; expected one of ${listNames(allowed, 30)}` : '';
        out.push({
          path: [...path, key],
          message: `unknown field '${key}'${hint}${expected}`,
          target: 'key',
        });
      }
      return;
    }
    case 'invalid_union': {
      const detail = issue as { note?: string; options?: unknown[] };
      if (detail.note === 'No matching discriminator') {
        const options = detail.options ?? [];
        const names = options.map(String);
        const field = issue.discriminator ?? fieldName(local);
        if (found === undefined) {
          out.push({
            path,
            message: `missing required field '${field}'; expected one of ${quoteAll(options)}`,
            target: 'value',
          });
        } else {
          const hint = typeof found === 'string' ? didYouMean(found, names) : '';
          out.push({
            path,
            message: `unknown ${field} ${typeof found === 'string' ? `'${found}'` : describeFound(found)}${hint}; expected one of ${quoteAll(options)}`,
            target: 'value',
          });
        }
        return;
      }
      const branch = likeliestBranch(issue.errors, found);
      if (branch.length === 0) {
        out.push({
          path,
          message: `unexpected value: found ${describeFound(found)}`,
          target: 'value',
        });
        return;
      }
      for (const inner of branch) collect(inner, found, path, out);
      return;
    }
    case 'invalid_type': {
      if (isMissing(root, local) && local.length > 0) {
        const expectation = custom
          ? issue.message.replace(/; found nothing$/, '')
          : `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
        out.push({
          path,
          message: `missing required field '${fieldName(local)}': ${expectation}`,
          target: 'value',
        });
        return;
      }
      const message = custom
        ? issue.message
        : `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}; found ${describeFound(found)}`;
      out.push({ path, message, target: 'value' });
      return;
    }
    case 'invalid_value': {
      if (custom) {
        out.push({ path, message: issue.message, target: 'value' });
        return;
      }
      const names = issue.values.map(String);
      const hint = typeof found === 'string' ? didYouMean(found, names) : '';
      const expected =
        issue.values.length === 1 ? quoteAll(issue.values) : `one of ${quoteAll(issue.values)}`;
      const message =
        found === undefined
          ? `missing required field '${fieldName(local)}': expected ${expected}`
          : `expected ${expected}; found ${describeFound(found)}${hint}`;
      out.push({ path, message, target: 'value' });
      return;
    }
    case 'too_small':
    case 'too_big':
      out.push({
        path,
        message: custom ? issue.message : sizeMessage(issue, found),
        target: 'value',
      });
      return;
    case 'invalid_key': {
      const key = local[local.length - 1];
      const reasons = issue.issues.map((i) => i.message).join('; ');
      out.push({ path, message: `invalid name '${String(key)}': ${reasons}`, target: 'key' });
      return;
    }
    case 'custom': {
      const offset: unknown = issue.params?.['offset'];
      out.push(
        typeof offset === 'number'
          ? { path, message: issue.message, target: 'value', offset }
          : { path, message: issue.message, target: 'value' },
      );
      return;
    }
    case 'invalid_format':
    case 'not_multiple_of':
    case 'invalid_element':
      out.push({ path, message: issue.message, target: 'value' });
      return;
  }
}

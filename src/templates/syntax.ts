/**
 * The template parser: text into literal segments and placeholders, with every problem located
 * by character offset. Parsing happens once, at compile time; rendering walks the segments.
 *
 *   template    := (text | '{{' expression '}}' | '{{{' expression '}}}')*
 *   expression  := operand ('|' filter)*
 *   filter      := name (':' operand (',' operand)*)?
 *   operand     := "string" | 'string' | number | true | false | null | field.path
 */
import { fieldPathProblem, resolveFieldPath, type CompileOptions } from '../conditions/index.js';
import { FILTERS, FILTER_NAMES, type FilterDefinition, type Operand } from './filters.js';
import type { TemplateProblem } from './types.js';

/** A filter applied in a placeholder. */
export interface FilterCall {
  readonly name: string;
  readonly definition: FilterDefinition;
  readonly args: readonly Operand[];
}

/** One `{{ }}` or `{{{ }}}`. */
export interface Placeholder {
  readonly head: Operand;
  readonly filters: readonly FilterCall[];
  /** `{{{ }}}`: inserted without HTML escaping. */
  readonly raw: boolean;
  /** Offset of the opening braces. */
  readonly offset: number;
  /** What `missing` reports: the head's path as written, or the expression for a literal head. */
  readonly name: string;
}

/** Literal text or a placeholder. */
export type Segment = string | Placeholder;

/** A parsed template. `segments` is only meaningful when `problems` is empty. */
export interface ParsedTemplate {
  readonly segments: readonly Segment[];
  readonly problems: readonly TemplateProblem[];
}

type Token =
  | { kind: 'punct'; value: '|' | ':' | ','; offset: number }
  | { kind: 'string'; value: string; offset: number }
  | { kind: 'word'; value: string; offset: number };

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r' };
const WORD_END = /[\s|:,'"{}]/;
const NUMBER = /^-?\d+(?:\.\d+)?$/;

/** Scans a quoted string starting at `start` (the quote); returns its value and the next index. */
function scanString(text: string, start: number): { value: string; next: number } | undefined {
  const quote = text[start];
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (ch === quote) return { value, next: i + 1 };
    if (ch === '\\' && i + 1 < text.length) {
      const escaped = text[i + 1] ?? '';
      value += ESCAPES[escaped] ?? escaped;
      i += 2;
    } else {
      value += ch;
      i += 1;
    }
  }
  return undefined;
}

/**
 * Tokenises the expression after the opening braces up to the closing ones (outside quotes).
 * Returns the index after the closer, or -1 when the placeholder never closes.
 */
function scanPlaceholder(
  text: string,
  open: number,
  closer: string,
  problems: TemplateProblem[],
): { tokens: Token[]; end: number } {
  const tokens: Token[] = [];
  let i = open + closer.length;
  while (i < text.length) {
    if (text.startsWith(closer, i)) return { tokens, end: i + closer.length };
    const ch = text[i] ?? '';
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === '|' || ch === ':' || ch === ',') {
      tokens.push({ kind: 'punct', value: ch, offset: i });
      i += 1;
    } else if (ch === '"' || ch === "'") {
      const scanned = scanString(text, i);
      if (scanned === undefined) {
        problems.push({ offset: i, message: 'unterminated string' });
        return { tokens, end: -1 };
      }
      tokens.push({ kind: 'string', value: scanned.value, offset: i });
      i = scanned.next;
    } else if (ch === '{' || ch === '}') {
      const message = text.startsWith('{{', i)
        ? `'{{' inside a placeholder: the placeholder opened at offset ${open} is not closed with '${closer}'`
        : text.startsWith('}}', i)
          ? `the placeholder opened at offset ${open} must close with '${closer}'`
          : `unexpected '${ch}' in a placeholder (close it with '${closer}')`;
      problems.push({ offset: i, message });
      return { tokens, end: -1 };
    } else {
      let j = i + 1;
      while (j < text.length && !WORD_END.test(text[j] ?? '')) j += 1;
      tokens.push({ kind: 'word', value: text.slice(i, j), offset: i });
      i = j;
    }
  }
  problems.push({
    offset: open,
    message: `'${closer.replaceAll('}', '{')}' is never closed with '${closer}'`,
  });
  return { tokens, end: -1 };
}

function operandOf(
  token: Token | undefined,
  options: CompileOptions,
  problems: TemplateProblem[],
  at: number,
): Operand | undefined {
  if (token === undefined || token.kind === 'punct') {
    problems.push({ offset: token?.offset ?? at, message: 'expected a field path or a value' });
    return undefined;
  }
  const offset = token.offset;
  if (token.kind === 'string') return { kind: 'literal', value: token.value, offset };
  const word = token.value;
  if (word === 'true' || word === 'false')
    return { kind: 'literal', value: word === 'true', offset };
  if (word === 'null') return { kind: 'literal', value: null, offset };
  if (NUMBER.test(word)) return { kind: 'literal', value: Number(word), offset };
  const problem = fieldPathProblem(word);
  if (problem !== undefined) {
    problems.push({ offset, message: `bad field path ${JSON.stringify(word)}: ${problem}` });
    return undefined;
  }
  return { kind: 'path', path: resolveFieldPath(word, options), offset };
}

function parseExpression(
  tokens: readonly Token[],
  open: number,
  raw: boolean,
  options: CompileOptions,
  problems: TemplateProblem[],
): Placeholder | undefined {
  if (tokens.length === 0) {
    problems.push({ offset: open, message: 'empty placeholder' });
    return undefined;
  }
  const before = problems.length;
  let pos = 0;
  const head = operandOf(tokens[pos++], options, problems, open);
  const filters: FilterCall[] = [];
  while (pos < tokens.length && problems.length === before) {
    const bar = tokens[pos++];
    if (bar?.kind !== 'punct' || bar.value !== '|') {
      problems.push({ offset: bar?.offset ?? open, message: "expected '|' before a filter" });
      break;
    }
    const nameToken = tokens[pos++];
    if (nameToken?.kind !== 'word') {
      problems.push({
        offset: nameToken?.offset ?? bar.offset,
        message: "expected a filter name after '|'",
      });
      break;
    }
    const name = nameToken.value;
    const definition = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
    if (definition === undefined) {
      problems.push({
        offset: nameToken.offset,
        message: `unknown filter ${JSON.stringify(name)}; use one of ${FILTER_NAMES.join(', ')}`,
      });
      break;
    }
    const args: Operand[] = [];
    const colon = tokens[pos];
    if (colon?.kind === 'punct' && colon.value === ':') {
      pos += 1;
      for (;;) {
        const arg = operandOf(tokens[pos++], options, problems, colon.offset);
        if (arg === undefined) break;
        args.push(arg);
        const comma = tokens[pos];
        if (comma?.kind !== 'punct' || comma.value !== ',') break;
        pos += 1;
      }
    }
    if (problems.length > before) break;
    if (args.length < definition.minArgs || args.length > definition.maxArgs) {
      const wanted =
        definition.minArgs === definition.maxArgs
          ? `${definition.minArgs}`
          : `${definition.minArgs} to ${definition.maxArgs}`;
      problems.push({
        offset: nameToken.offset,
        message: `filter ${name} takes ${wanted} argument(s), got ${args.length}`,
      });
      break;
    }
    const argumentProblem = definition.check?.(args);
    if (argumentProblem !== undefined) {
      const at = args[argumentProblem.index]?.offset ?? nameToken.offset;
      problems.push({ offset: at, message: argumentProblem.message });
      break;
    }
    filters.push({ name, definition, args });
  }
  if (problems.length > before || head === undefined) return undefined;
  const name = head.kind === 'path' ? head.path.field : JSON.stringify(head.value);
  return { head, filters, raw, offset: open, name };
}

/**
 * Parses `text` into segments. Never throws: malformed input yields problems (unclosed or stray
 * braces, empty placeholders, unknown filters, bad paths), each with its character offset.
 */
export function parseTemplate(text: string, options: CompileOptions = {}): ParsedTemplate {
  const segments: Segment[] = [];
  const problems: TemplateProblem[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    const stop = open === -1 ? text.length : open;
    for (let stray = text.indexOf('}}', i); stray !== -1 && stray < stop;) {
      problems.push({ offset: stray, message: "'}}' without a matching '{{'" });
      stray = text.indexOf('}}', stray + 2);
    }
    literal += text.slice(i, stop);
    if (open === -1) break;
    const raw = text.startsWith('{{{', open);
    const scanned = scanPlaceholder(text, open, raw ? '}}}' : '}}', problems);
    if (scanned.end === -1) break;
    const placeholder = parseExpression(scanned.tokens, open, raw, options, problems);
    if (placeholder !== undefined) {
      if (literal.length > 0) segments.push(literal);
      literal = '';
      segments.push(placeholder);
    }
    i = scanned.end;
  }
  if (literal.length > 0) segments.push(literal);
  return { segments, problems };
}

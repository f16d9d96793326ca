import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node,
  type ParsedNode,
} from 'yaml';
import {
  formatPath,
  type ConfigPath,
  type ConfigProblem,
  type ProblemSeverity,
} from './problems.js';

/**
 * YAML documents with their positions: parsing, syntax errors and duplicate keys located by line
 * and column, and the way back from a path (`rules[1].actions[0]`) to the node it names.
 */

/** One YAML document of a config file (a file may hold several, separated by `---`). */
export interface SourceDocument {
  readonly file: string;
  /** The whole file's text (shared by its documents). */
  readonly text: string;
  readonly document: Document.Parsed;
  readonly lineCounter: LineCounter;
  /** The document as plain data (aliases resolved). */
  readonly data: unknown;
}

/** A 1-based position. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** Whether a problem points at a mapping key (unknown or duplicate field) or at a value. */
export type PositionTarget = 'key' | 'value';

function problem(
  file: string,
  position: SourcePosition,
  path: ConfigPath,
  message: string,
  severity: ProblemSeverity = 'error',
): ConfigProblem {
  return { file, ...position, path: formatPath(path), message, severity };
}

function positionAt(lineCounter: LineCounter, offset: number): SourcePosition {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

// yaml's messages end with " at line L, column C:" plus a code excerpt; the location is reported
// separately, so keep only the first sentence.
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').trim();
}

function keyText(node: unknown): string | undefined {
  if (isScalar(node)) return String(node.value);
  return undefined;
}

/**
 * Parses one file. Documents with syntax errors are reported and left out (their partial content
 * would only cause confusing follow-on errors); duplicate keys are reported at their second
 * occurrence, naming the first, and the document is kept so its other problems are found too.
 */
export function readYamlSource(
  file: string,
  text: string,
): { documents: SourceDocument[]; problems: ConfigProblem[] } {
  const lineCounter = new LineCounter();
  const problems: ConfigProblem[] = [];
  const documents: SourceDocument[] = [];
  const parsedDocuments = parseAllDocuments(text, {
    lineCounter,
    prettyErrors: false,
    // Duplicate keys are reported by duplicateKeys() below, with the first occurrence named.
    uniqueKeys: false,
    // `<<: *defaults` merge keys, which hand-written YAML configs commonly use.
    merge: true,
  });
  // An empty stream (no documents) is a valid, empty config file.
  const list = Array.isArray(parsedDocuments) ? parsedDocuments : [];
  for (const document of list) {
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        problems.push(
          problem(
            file,
            positionAt(lineCounter, error.pos[0]),
            [],
            `YAML syntax error: ${yamlMessage(error.message)}`,
          ),
        );
      }
      continue;
    }
    for (const warning of document.warnings) {
      problems.push(
        problem(
          file,
          positionAt(lineCounter, warning.pos[0]),
          [],
          `YAML: ${yamlMessage(warning.message)}`,
          'warning',
        ),
      );
    }
    problems.push(...duplicateKeys(file, document, lineCounter));
    const cycle = aliasCycle(document);
    if (cycle !== undefined) {
      problems.push(
        problem(
          file,
          positionAt(lineCounter, cycle),
          [],
          'YAML error: this alias refers to a node that contains it, which would make the config infinitely deep',
        ),
      );
      continue;
    }
    let data: unknown;
    try {
      data = document.toJS({ maxAliasCount: 1000 });
    } catch (error) {
      // Aliases are resolved here: an unknown anchor or an alias bomb only shows up now.
      const message = error instanceof Error ? error.message : String(error);
      const offset = document.contents?.range[0] ?? 0;
      problems.push(
        problem(file, positionAt(lineCounter, offset), [], `YAML error: ${yamlMessage(message)}`),
      );
      continue;
    }
    documents.push({ file, text, document, lineCounter, data });
  }
  return { documents, problems };
}

function duplicateKeys(
  file: string,
  document: Document.Parsed,
  lineCounter: LineCounter,
): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const key = keyText(pair.key);
        const offset = (pair.key as Node | null)?.range?.[0];
        if (key !== undefined && offset !== undefined) {
          const first = seen.get(key);
          if (first === undefined) {
            seen.set(key, offset);
          } else {
            const at = positionAt(lineCounter, first);
            found.push(
              problem(
                file,
                positionAt(lineCounter, offset),
                [...path, key],
                `duplicate key '${key}' (first at line ${at.line}, column ${at.column}); the later value would silently win`,
              ),
            );
          }
        }
        visit(pair.value, key === undefined ? path : [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        visit(item, [...path, index]);
      });
    }
  };
  visit(document.contents, []);
  return found;
}

/** The offset of an alias that points at one of its own ancestors, if any. */
function aliasCycle(document: Document.Parsed): number | undefined {
  const ancestors = new Set<unknown>();
  const visit = (node: unknown): number | undefined => {
    if (isAlias(node)) {
      return ancestors.has(node.resolve(document)) ? rangeStart(node) : undefined;
    }
    if (!isMap(node) && !isSeq(node)) return undefined;
    ancestors.add(node);
    const children: unknown[] = isMap(node)
      ? node.items.flatMap((pair) => [pair.key, pair.value])
      : node.items;
    for (const child of children) {
      const found = visit(child);
      if (found !== undefined) return found;
    }
    ancestors.delete(node);
    return undefined;
  };
  return visit(document.contents);
}

/**
 * The position of `path` in the document: the key or the value it names, or, when the path goes
 * further than the document does (a missing field), the nearest node that exists. With `offset`
 * (a problem inside a string value), the column moves to that character when the string is
 * written on one line without escapes, so that the column points at the character itself.
 */
export function positionOfPath(
  source: SourceDocument,
  path: ConfigPath,
  target: PositionTarget,
  offset?: number,
): SourcePosition {
  const { document, lineCounter } = source;
  let node: unknown = document.contents;
  let position = rangeStart(node) ?? 0;
  let reached = true;
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(document);
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) {
        reached = false;
        break;
      }
      const keyStart = rangeStart(pair.key);
      if (last && target === 'key' && keyStart !== undefined)
        return positionAt(lineCounter, keyStart);
      const valueStart = rangeStart(pair.value);
      const valueRange = (pair.value as ParsedNode | null)?.range;
      // An empty value (`key:`) has an empty range at the end of the line; the key is clearer.
      const emptyValue = valueRange !== undefined && valueRange[0] === valueRange[1];
      if (valueStart === undefined || emptyValue) {
        if (keyStart !== undefined) position = keyStart;
        reached = false;
        break;
      }
      position = valueStart;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      const start = rangeStart(item);
      if (start === undefined) {
        reached = false;
        break;
      }
      position = start;
      node = item;
    } else {
      reached = false;
      break;
    }
  }
  if (offset !== undefined && reached && isScalar(node) && typeof node.value === 'string') {
    position += offsetInSource(source.text, node.range ?? undefined, node.type, node.value, offset);
  }
  return positionAt(lineCounter, position);
}

// How far into the written scalar the value's character `offset` is: the same for a plain scalar,
// one more for a quoted one; 0 (the scalar's start) when escapes or line folding make the written
// form differ from the value.
function offsetInSource(
  text: string,
  range: readonly number[] | undefined,
  type: string | undefined,
  value: string,
  offset: number,
): number {
  if (range === undefined || value.includes('\n')) return 0;
  const [start = 0, end = 0] = range;
  const written = text.slice(start, end);
  if (type === 'PLAIN' && written === value) return offset;
  if ((type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE') && written.slice(1, -1) === value) {
    return offset + 1;
  }
  return 0;
}

function rangeStart(node: unknown): number | undefined {
  if (typeof node !== 'object' || node === null || !('range' in node)) return undefined;
  const range = (node as { range?: unknown }).range;
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined;
}

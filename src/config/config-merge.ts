import { didYouMean, listNames } from './closest-name.js';
import { SECTION_LAYOUT, SECTION_NAMES, type SectionName } from './config-schema.js';
import { describeFound } from './parse-result.js';
import { formatPath, type ConfigPath, type ConfigProblem } from './problems.js';
import { positionOfPath, type PositionTarget, type SourceDocument } from './yaml-source.js';

/**
 * Merging the documents of a config (one file, or every *.yaml/*.yml under a directory, sorted)
 * into one raw config, remembering where each item came from.
 *
 * List sections concatenate in file order; map sections merge by key; `rate_limits` merges per
 * `customer`/`global` channel; `server` and `defaults` merge per field. Defining the same rule id,
 * trigger name, channel, ... twice is an error at the second definition that names the first.
 */

/** Where a merged item came from: its document and its path inside that document. */
export interface Origin {
  readonly source: SourceDocument;
  readonly localPath: ConfigPath;
}

/** The merged raw config and the origin of every item in it. */
export interface MergedConfig {
  readonly raw: Record<string, unknown>;
  /** Top-level keys present in at least one document (even if empty). */
  readonly present: ReadonlySet<SectionName>;
  /** Origins by merged path prefix (JSON of the segments), one to three segments deep. */
  readonly origins: ReadonlyMap<string, Origin>;
  readonly documents: readonly SourceDocument[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSection(key: string): key is SectionName {
  return (SECTION_NAMES as readonly string[]).includes(key);
}

const originKey = (path: ConfigPath): string => JSON.stringify(path);

/** A problem at `localPath` of `source`. */
export function problemAt(
  source: SourceDocument,
  localPath: ConfigPath,
  message: string,
  target: PositionTarget = 'value',
  severity: ConfigProblem['severity'] = 'error',
  offset?: number,
): ConfigProblem {
  const position = positionOfPath(source, localPath, target, offset);
  return { file: source.file, ...position, path: formatPath(localPath), message, severity };
}

function where(origin: Origin, target: PositionTarget = 'value'): string {
  const position = positionOfPath(origin.source, origin.localPath, target);
  return `${origin.source.file}:${position.line}:${position.column}`;
}

const SHAPE_WORDS: Readonly<Record<string, string>> = {
  list: 'a list',
  map: 'a mapping of names',
  nested_map: 'a mapping',
  settings: 'a mapping',
};

/** Merges `documents` in order; problems found on the way are appended to `problems`. */
export function mergeDocuments(
  documents: readonly SourceDocument[],
  problems: ConfigProblem[],
): MergedConfig {
  const raw: Record<string, unknown> = {};
  const present = new Set<SectionName>();
  const origins = new Map<string, Origin>();
  const identities = new Map<string, Origin>();

  const remember = (mergedPath: ConfigPath, origin: Origin): void => {
    if (!origins.has(originKey(mergedPath))) origins.set(originKey(mergedPath), origin);
  };

  for (const source of documents) {
    const { data } = source;
    if (data === null || data === undefined) continue;
    if (!isRecord(data)) {
      problems.push(
        problemAt(
          source,
          [],
          `expected a mapping of top-level keys (${SECTION_NAMES.join(', ')}); found ${describeFound(data)}`,
        ),
      );
      continue;
    }
    for (const [key, value] of Object.entries(data)) {
      if (!isSection(key)) {
        problems.push(
          problemAt(
            source,
            [key],
            `unknown top-level key '${key}'${didYouMean(key, SECTION_NAMES)}; expected one of ${listNames(SECTION_NAMES, 20)}`,
            'key',
          ),
        );
        continue;
      }
      present.add(key);
      remember([key], { source, localPath: [key] });
      if (value === null || value === undefined) continue; // `rules:` with nothing under it
      const layout = SECTION_LAYOUT[key];
      const shapeOk = layout.merge === 'list' ? Array.isArray(value) : isRecord(value);
      if (!shapeOk) {
        problems.push(
          problemAt(
            source,
            [key],
            `expected ${SHAPE_WORDS[layout.merge] ?? 'a mapping'} under '${key}'; found ${describeFound(value)}`,
          ),
        );
        continue;
      }
      switch (layout.merge) {
        case 'list': {
          const list = (raw[key] ??= []) as unknown[];
          (value as unknown[]).forEach((item, index) => {
            const origin: Origin = { source, localPath: [key, index] };
            const idField = layout.idField;
            const id = idField !== undefined && isRecord(item) ? item[idField] : undefined;
            if (idField !== undefined && typeof id === 'string') {
              const identity = `${key}\u0000${id}`;
              const first = identities.get(identity);
              if (first) {
                const firstAt: Origin = {
                  source: first.source,
                  localPath: [...first.localPath, idField],
                };
                problems.push(
                  problemAt(
                    source,
                    [key, index, idField],
                    `duplicate ${layout.noun} ${idField} '${id}': first defined at ${where(firstAt)}`,
                  ),
                );
              } else {
                identities.set(identity, origin);
              }
            }
            remember([key, list.length], origin);
            list.push(item);
          });
          break;
        }
        case 'map':
        case 'settings': {
          const merged = (raw[key] ??= {}) as Record<string, unknown>;
          for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
            const origin: Origin = { source, localPath: [key, name] };
            const first = origins.get(originKey([key, name]));
            if (first && Object.hasOwn(merged, name)) {
              problems.push(
                problemAt(
                  source,
                  [key, name],
                  `${layout.noun} '${name}' is already defined at ${where(first, 'key')}`,
                  'key',
                ),
              );
              continue;
            }
            merged[name] = entry;
            remember([key, name], origin);
          }
          break;
        }
        case 'nested_map': {
          const merged = (raw[key] ??= {}) as Record<string, unknown>;
          for (const [group, entries] of Object.entries(value as Record<string, unknown>)) {
            remember([key, group], { source, localPath: [key, group] });
            if (!isRecord(entries) || (Object.hasOwn(merged, group) && !isRecord(merged[group]))) {
              // Not mergeable; let the schema report its shape.
              if (!Object.hasOwn(merged, group)) merged[group] = entries;
              continue;
            }
            const target = (merged[group] ??= {}) as Record<string, unknown>;
            for (const [name, entry] of Object.entries(entries)) {
              const first = origins.get(originKey([key, group, name]));
              if (first && Object.hasOwn(target, name)) {
                problems.push(
                  problemAt(
                    source,
                    [key, group, name],
                    `${key}.${group} for '${name}' is already defined at ${where(first, 'key')}`,
                    'key',
                  ),
                );
                continue;
              }
              target[name] = entry;
              remember([key, group, name], { source, localPath: [key, group, name] });
            }
          }
          break;
        }
      }
    }
  }
  return { raw, present, origins, documents };
}

/**
 * The document and local path a merged path comes from (longest recorded prefix wins). With
 * `fallback`, a path nobody wrote (a defaulted section) maps to the first document's root.
 */
export function originOf(
  merged: MergedConfig,
  path: ConfigPath,
  fallback = false,
): Origin | undefined {
  for (let depth = Math.min(3, path.length); depth >= 1; depth--) {
    const origin = merged.origins.get(originKey(path.slice(0, depth)));
    if (origin)
      return { source: origin.source, localPath: [...origin.localPath, ...path.slice(depth)] };
  }
  const first = merged.documents[0];
  return fallback && first !== undefined ? { source: first, localPath: [] } : undefined;
}

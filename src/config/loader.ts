import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import {
  configShape,
  SECTION_NAMES,
  type SectionName,
  type WaymarkConfig,
} from './config-schema.js';
import { mergeDocuments, originOf, problemAt, type MergedConfig } from './config-merge.js';
import {
  ConfigError,
  ConfigNotFoundError,
  formatPath,
  type ConfigPath,
  type ConfigProblem,
} from './problems.js';
import { checkReferences, type ParsedSections } from './references.js';
import { findingsFromIssues, type Finding } from './schema-issues.js';
import { positionOfPath, readYamlSource, type SourceDocument } from './yaml-source.js';

/**
 * Loading a config: files → YAML documents → merged raw config → schema per section →
 * cross-references → a compiled `WaymarkConfig` that remembers where everything came from.
 */

/** One config file's text. */
export interface ConfigSource {
  /** File name as it should appear in problems. */
  readonly file: string;
  readonly text: string;
}

/** Where something in the loaded config was written. */
export interface SourceLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** Path inside that file, e.g. `rules[0].actions[1]`. */
  readonly path: string;
}

/** A config that passed every check. */
export interface LoadedConfig {
  /** The compiled config: every section present, every unit parsed, references resolved. */
  readonly config: WaymarkConfig;
  /** The files read, in merge order. */
  readonly files: readonly string[];
  /** Problems that do not prevent use (unresolvable references to kinds not defined, ...). */
  readonly warnings: readonly ConfigProblem[];
  /**
   * Where a path of the merged config (`['rules', 3, 'actions', 0]`) was written. Later stages
   * (rule compilation, journey compilation) use it to report their own problems with locations.
   */
  locate(path: ConfigPath): SourceLocation | undefined;
  /**
   * Where an object of `config` (a rule, a trigger, a journey, a stage, a step, a channel, an
   * action, ...) was written; undefined for objects that are not part of this config.
   */
  sourceOf(item: object): SourceLocation | undefined;
}

/** The outcome of validation: the config when there are no errors, and every problem found. */
export interface ValidationResult {
  readonly config?: LoadedConfig;
  /** Errors and warnings, in file order. */
  readonly problems: readonly ConfigProblem[];
}

const YAML_FILE = /\.ya?ml$/i;

/**
 * The YAML files a config path stands for: the file itself, or every `*.yaml`/`*.yml` under a
 * directory (recursively, skipping hidden entries and node_modules), sorted by relative path.
 *
 * @throws ConfigNotFoundError when the path does not exist or the directory holds no YAML files.
 */
export async function listConfigFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined)
    throw new ConfigNotFoundError(`config path '${path}' does not exist`, path);
  if (info.isFile()) return [path];
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && YAML_FILE.test(entry.name)) found.push(full);
    }
  };
  await walk(path);
  if (found.length === 0) {
    throw new ConfigNotFoundError(`config directory '${path}' holds no .yaml or .yml files`, path);
  }
  // Sort by path relative to the root, with '/' separators, so the order is the same everywhere.
  const key = (file: string): string => relative(path, file).split(sep).join('/');
  return found.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * Validates a config file or directory. Never throws for problems in the config (they are
 * returned); throws ConfigNotFoundError when there is nothing to read.
 */
export async function validateConfig(path: string): Promise<ValidationResult> {
  const files = await listConfigFiles(path);
  const sources = await Promise.all(
    files.map(async (file) => ({ file, text: await readFile(file, 'utf8') })),
  );
  return validateConfigSources(sources);
}

/**
 * Loads a config file or directory.
 *
 * @throws ConfigError (code `CONFIG_INVALID`, `details` = problems) when there is any error.
 * @throws ConfigNotFoundError when there is nothing to read.
 */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  return loaded(await validateConfig(path));
}

/**
 * Loads a config from YAML text (an API body, a test).
 *
 * @throws ConfigError when there is any error.
 */
export function loadConfigFromString(yamlText: string, fileName = 'config.yaml'): LoadedConfig {
  return loaded(validateConfigSources([{ file: fileName, text: yamlText }]));
}

function loaded(result: ValidationResult): LoadedConfig {
  if (result.config === undefined) throw new ConfigError(result.problems);
  return result.config;
}

/** Validates config texts as if they were files of one directory, merged in the order given. */
export function validateConfigSources(sources: readonly ConfigSource[]): ValidationResult {
  const problems: ConfigProblem[] = [];
  const documents: SourceDocument[] = [];
  for (const source of sources) {
    const read = readYamlSource(source.file, source.text);
    documents.push(...read.documents);
    problems.push(...read.problems);
  }
  const merged = mergeDocuments(documents, problems);

  const sections: ParsedSections = {};
  const findings: (Finding & { severity: ConfigProblem['severity'] })[] = [];
  for (const name of SECTION_NAMES) {
    const raw = merged.raw[name];
    const result = configShape[name].safeParse(raw);
    if (result.success) {
      assign(sections, name, result.data);
    } else {
      for (const finding of findingsFromIssues(result.error.issues, raw, [name])) {
        findings.push({ ...finding, severity: 'error' });
      }
    }
  }
  findings.push(...checkReferences(sections, merged.present));

  const fallbackFile = sources[0]?.file ?? '<config>';
  for (const finding of findings) {
    const origin = originOf(merged, finding.path, true);
    problems.push(
      origin === undefined
        ? {
            file: fallbackFile,
            line: 1,
            column: 1,
            path: formatPath(finding.path),
            message: finding.message,
            severity: finding.severity,
          }
        : problemAt(
            origin.source,
            origin.localPath,
            finding.message,
            finding.target,
            finding.severity,
            finding.offset,
          ),
    );
  }

  const ordered = orderProblems(
    problems,
    sources.map((s) => s.file),
  );
  const config = ordered.some((p) => p.severity === 'error') ? undefined : complete(sections);
  if (config === undefined) return { problems: ordered };
  return {
    config: new Loaded(
      config,
      merged,
      sources.map((s) => s.file),
      ordered.filter((p) => p.severity === 'warning'),
    ),
    problems: ordered,
  };
}

// Each section schema's output is exactly that section's type in WaymarkConfig; TypeScript cannot
// correlate the two through a union of schemas, hence the one cast here.
function assign(sections: ParsedSections, name: SectionName, value: unknown): void {
  (sections as Record<SectionName, unknown>)[name] = value;
}

function complete(s: ParsedSections): WaymarkConfig | undefined {
  const {
    schedules,
    triggers,
    rules,
    channels,
    rate_limits,
    fatigue,
    retry_policies,
    webhooks,
    dashboards,
    alerts,
  } = s;
  const { journeys, templates, actions, predictions, models, next_best_action, server, defaults } =
    s;
  if (
    !schedules ||
    !triggers ||
    !rules ||
    !channels ||
    !rate_limits ||
    !fatigue ||
    !retry_policies ||
    !webhooks ||
    !dashboards ||
    !alerts ||
    !journeys ||
    !templates ||
    !actions ||
    !predictions ||
    !models ||
    !next_best_action ||
    !server ||
    !defaults
  ) {
    return undefined;
  }
  return {
    schedules,
    triggers,
    rules,
    channels,
    rate_limits,
    fatigue,
    retry_policies,
    webhooks,
    dashboards,
    alerts,
    journeys,
    templates,
    actions,
    predictions,
    models,
    next_best_action,
    server,
    defaults,
  };
}

function orderProblems(
  problems: readonly ConfigProblem[],
  files: readonly string[],
): ConfigProblem[] {
  const rank = new Map(files.map((f, i) => [f, i]));
  return problems
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) =>
        (rank.get(a.p.file) ?? 0) - (rank.get(b.p.file) ?? 0) ||
        a.p.line - b.p.line ||
        a.p.column - b.p.column ||
        a.i - b.i,
    )
    .map(({ p }) => p);
}

class Loaded implements LoadedConfig {
  #sources: WeakMap<object, ConfigPath> | undefined;

  constructor(
    readonly config: WaymarkConfig,
    private readonly merged: MergedConfig,
    readonly files: readonly string[],
    readonly warnings: readonly ConfigProblem[],
  ) {}

  locate(path: ConfigPath): SourceLocation | undefined {
    const origin = originOf(this.merged, path);
    if (origin === undefined) return undefined;
    const position = positionOfPath(origin.source, origin.localPath, 'value');
    return { file: origin.source.file, ...position, path: formatPath(origin.localPath) };
  }

  sourceOf(item: object): SourceLocation | undefined {
    // Built on first use: most callers never ask.
    if (this.#sources === undefined) {
      const paths = new WeakMap<object, ConfigPath>();
      const visit = (value: unknown, path: ConfigPath): void => {
        if (typeof value !== 'object' || value === null || paths.has(value)) return;
        paths.set(value, path);
        if (Array.isArray(value))
          value.forEach((v, i) => {
            visit(v, [...path, i]);
          });
        else for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
      };
      for (const name of SECTION_NAMES) visit(this.config[name], [name]);
      this.#sources = paths;
    }
    const path = this.#sources.get(item);
    return path === undefined ? undefined : this.locate(path);
  }
}

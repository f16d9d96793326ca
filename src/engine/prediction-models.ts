/**
 * The models the project's predictions name, loaded from the store's model registry.
 *
 * A prediction names a model (`model: churn_predictor_v2`); the newest registered version of that
 * name is the one scored with. Registering a new version (`waymark models register`, the API) is
 * picked up by `Engine.refreshModels` without a restart. A name with nothing registered is not an
 * error — the prediction idles until a model arrives — but it is reported, so a typo is visible.
 */
import type { WaymarkConfig } from '../config/index.js';
import type { ModelRecord, Store } from '../core/index.js';
import { parseModelFile, scoreProfile, type ModelFile } from '../decisions/index.js';
import type { NbaPolicy } from './next-best-action.js';
import type { PredictionModel } from './project.js';

/** What loading found: the usable models by name, and what is missing or unusable. */
export interface LoadedPredictionModels {
  readonly models: ReadonlyMap<string, PredictionModel>;
  /** The next-best-action policy (`next_best_action.model`), or null. */
  readonly policy: NbaPolicy | null;
  /** `name@version` of every model loaded, for logs and change detection. */
  readonly versions: readonly string[];
  /** One line per prediction whose model is missing or of the wrong kind. */
  readonly problems: readonly string[];
  /** Each model looked for, by name: the version loaded (null: none) and why not (null: loaded). */
  readonly status: ReadonlyMap<string, ModelStatus>;
}

/** What loading made of one model name (`/healthz` shows it). */
export interface ModelStatus {
  readonly version: number | null;
  readonly problem: string | null;
}

/** Loads the newest version of every model the config's predictions name. */
export async function loadPredictionModels(
  store: Store,
  config: WaymarkConfig,
): Promise<LoadedPredictionModels> {
  const names = new Set(Object.values(config.predictions).map((p) => p.model));
  const models = new Map<string, PredictionModel>();
  const versions: string[] = [];
  const problems: string[] = [];
  const status = new Map<string, ModelStatus>();
  const missing = (name: string, problem: string): void => {
    problems.push(problem);
    status.set(name, { version: null, problem });
  };
  let policy: NbaPolicy | null = null;
  const policyName = config.next_best_action.model;
  if (policyName !== undefined) {
    const record = await store.getModel(policyName);
    const loaded = record === null ? null : policyModel(record);
    if (record === null) {
      missing(
        policyName,
        `model '${policyName}' is not registered; next-best-action decisions use engagement and priors until it is`,
      );
    } else if (typeof loaded === 'string') {
      missing(policyName, loaded);
    } else if (loaded !== null) {
      policy = loaded;
      versions.push(`${policyName}@${record.version}`);
      status.set(policyName, { version: record.version, problem: null });
    }
  }
  for (const name of [...names].sort()) {
    const record = await store.getModel(name);
    if (record === null) {
      missing(name, `model '${name}' is not registered; its predictions idle until it is`);
      continue;
    }
    const loaded = predictionModel(record);
    if (typeof loaded === 'string') {
      missing(name, loaded);
      continue;
    }
    models.set(name, loaded);
    versions.push(`${name}@${record.version}`);
    status.set(name, { version: record.version, problem: null });
  }
  return { models, policy, versions, problems, status };
}

/** A registry record as the next-best-action policy, or why it cannot be one. */
function policyModel(record: ModelRecord): NbaPolicy | string {
  let file: ModelFile;
  try {
    file = parseModelFile(JSON.stringify(record.body), `${record.name}@${record.version}`);
  } catch (error) {
    return `model '${record.name}' version ${record.version} is unreadable: ${(error as Error).message}`;
  }
  if (file.kind !== 'nba') {
    return `model '${record.name}' is a '${file.kind}' model; next_best_action.model needs an 'nba' policy`;
  }
  return { name: record.name, version: record.version, file };
}

/** A registry record as a scorer, or why it cannot score a profile. */
export function predictionModel(record: ModelRecord): PredictionModel | string {
  let file: ModelFile;
  try {
    file = parseModelFile(JSON.stringify(record.body), `${record.name}@${record.version}`);
  } catch (error) {
    return `model '${record.name}' version ${record.version} is unreadable: ${(error as Error).message}`;
  }
  if (file.kind !== 'churn') {
    return `model '${record.name}' is a '${file.kind}' model; a prediction needs a scoring model (kind 'churn')`;
  }
  return {
    name: record.name,
    version: record.version,
    score: (attributes, now) => scoreProfile(file, attributes, now),
  };
}

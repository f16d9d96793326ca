/**
 * Training a model on the engine's own customers (`models.<name>.train`) and registering the
 * result as the model's next version, on a schedule or on demand (`waymark models retrain`).
 *
 * The training table is built from the profiles by the same cell rules live scoring reads them
 * with (`profilesTable`), and trained by the same `trainChurn` as `waymark models train churn`, so
 * a model trained here is evaluated (5-fold cross-validation, calibration) and explained exactly
 * like one trained from a file. Customers whose label field is not set are left out.
 */
import { Cron } from 'croner';
import type { ModelConfig } from '../config/index.js';
import {
  InvalidInputError,
  type CustomerRecord,
  type JsonObject,
  type ModelRecord,
  type Store,
} from '../core/index.js';
import { labelCell, PROFILE_ID_COLUMN, profilesTable, trainChurn } from '../decisions/index.js';

const PAGE = 500;

/**
 * Trains `name` from the store's customers and registers the new version.
 *
 * @throws InvalidInputError `MODEL_TRAINING_DATA` when there are too few labelled customers, one
 *   class only, or no usable inputs; nothing is registered then.
 */
export async function trainModelFromStore(
  store: Store,
  name: string,
  model: ModelConfig,
  now: number,
  source: string,
): Promise<ModelRecord> {
  const train = model.train;
  if (train === undefined) {
    throw new InvalidInputError(
      `model '${name}' has no 'train' settings; add models.${name}.train (label, features, schedule)`,
      { model: name },
      'MODEL_NOT_TRAINABLE',
    );
  }
  const customers: CustomerRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listCustomers({ limit: PAGE, cursor });
    customers.push(...page.items);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  const table = profilesTable(customers, {
    label: train.label,
    features: train.features,
    exclude: train.exclude,
    now,
  });
  if (table.rows.length < train.min_rows) {
    throw new InvalidInputError(
      `model '${name}': ${table.rows.length} customers have '${train.label}' set; training needs at least ${train.min_rows} (min_rows)`,
      { model: name, labelled: table.rows.length, min_rows: train.min_rows },
      'MODEL_TRAINING_DATA',
    );
  }
  let trained;
  try {
    trained = trainChurn(table, {
      id: PROFILE_ID_COLUMN,
      label: train.label.replace(/^customer\./u, ''),
      positive: labelCell(train.positive),
      now,
    });
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new InvalidInputError(
        `model '${name}': ${error.message}`,
        { model: name },
        'MODEL_TRAINING_DATA',
      );
    }
    throw error;
  }
  return store.registerModel({
    name,
    kind: 'churn',
    createdAt: now,
    body: trained.model as unknown as JsonObject,
    metrics: trained.model.metrics as unknown as JsonObject,
    source: `${source} on ${table.rows.length} customers`,
  });
}

/** When each scheduled training runs next. */
export class TrainingSchedule {
  readonly #next = new Map<string, number>();
  readonly #crons = new Map<string, Cron>();

  /** Plans the first run of every model with a `train.schedule`, strictly after `now`. */
  constructor(models: Readonly<Record<string, ModelConfig>>, now: number) {
    for (const [name, model] of Object.entries(models)) {
      const schedule = model.train?.schedule;
      if (schedule === undefined) continue;
      const cron = new Cron(schedule.text, {
        timezone: model.train?.timezone ?? 'UTC',
        paused: true,
      });
      this.#crons.set(name, cron);
      const next = cron.nextRun(new Date(now))?.getTime();
      if (next !== undefined) this.#next.set(name, next);
    }
  }

  /** The models due at `now`, each planned again for its next run after `now`. */
  takeDue(now: number): string[] {
    const due: string[] = [];
    for (const [name, at] of this.#next) {
      if (at > now) continue;
      due.push(name);
      const next = this.#crons.get(name)?.nextRun(new Date(now))?.getTime();
      if (next === undefined) this.#next.delete(name);
      else this.#next.set(name, next);
    }
    return due.sort();
  }
}

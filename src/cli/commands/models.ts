import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  InvalidInputError,
  systemClock,
  type JsonObject,
  type ModelRecord,
  type Store,
} from '../../core/index.js';
import {
  decide,
  learningHeadline,
  parseModelFile,
  parseTable,
  scoreChurn,
  trainChurn,
  trainNba,
  type ModelFile,
  type Table,
} from '../../decisions/index.js';
import { loadConfig } from '../../config/index.js';
import { trainModelFromStore } from '../../engine/index.js';
import type { CommandContext } from '../program.js';
import { openTargetStore, resolveStoreTarget } from './store-target.js';

/**
 * `waymark models ...`: train and apply the decision engine's models on CSV files.
 *
 * - `train churn` → a churn model JSON (inference report and cross-validated metrics printed);
 * - `score` → `id,score[,factors]` with the churn probability per row;
 * - `train nba` → a next-best-action policy JSON (hold-out IPS evaluation printed);
 * - `decide` → `id,action` with the policy's action per row;
 * - `register` → the model file as the next version of a name in the store's model registry,
 *   where the engine's predictions and next-best-action decisions find it; `list` shows them.
 *
 * Every output is written to a temporary file beside the target and renamed into place, so a
 * failure half-way never leaves a truncated model or score file behind.
 */
export function registerModelCommands(program: Command, context: CommandContext): void {
  const models = program
    .command('models')
    .description('train and apply decision models on CSV files; register them for the engine');
  const train = models.command('train').description('train a model from a CSV file');

  train
    .command('churn')
    .description(
      'train a churn model (regularised logistic regression) with 5-fold cross-validation',
    )
    .requiredOption('--data <file>', 'training CSV, one row per customer')
    .requiredOption('--label <column>', 'the column saying whether the customer churned')
    .requiredOption('--positive <value>', "the label value that means churned, e.g. 'Yes'")
    .requiredOption('--id <column>', 'the customer id column (not a model input)')
    .requiredOption('--out <file>', 'where to write the model JSON')
    .option('--seed <n>', 'seed of the cross-validation folds', '1')
    .action(
      async (options: {
        data: string;
        label: string;
        positive: string;
        id: string;
        out: string;
        seed: string;
      }) => {
        const table = await readTable(options.data);
        const { model, report } = trainChurn(table, {
          label: options.label,
          positive: options.positive,
          id: options.id,
          seed: parseSeed(options.seed),
          now: systemClock.now(),
        });
        await writeAtomically(options.out, `${JSON.stringify(model, null, 2)}\n`);
        const m = model.metrics;
        context.io.stdout(
          `columns (${table.rows.length} rows):\n${report}` +
            `${m.method}:\n` +
            `  ROC-AUC   ${m.rocAuc.mean.toFixed(4)} ± ${m.rocAuc.sd.toFixed(4)}\n` +
            `  log-loss  ${m.logLoss.mean.toFixed(4)} ± ${m.logLoss.sd.toFixed(4)}\n` +
            `  Brier     ${m.brier.mean.toFixed(4)} ± ${m.brier.sd.toFixed(4)}\n` +
            (m.calibration === undefined
              ? ''
              : `  calibration error (out of fold, 10 bins) ${m.calibration.ece.toFixed(4)}\n`) +
            `wrote ${options.out} (${model.encoder.features.length} features, trained on ${model.training.rows} rows)\n`,
        );
      },
    );

  train
    .command('nba')
    .description('learn a next-best-action policy from a randomised experiment')
    .requiredOption('--data <file>', 'logged experiment CSV: customer attributes, action, reward')
    .requiredOption('--id <column>', 'the customer id column')
    .requiredOption('--action-column <column>', 'the column with the randomly assigned action')
    .requiredOption('--reward <column>', 'the 0/1 outcome to maximise')
    .requiredOption('--out <file>', 'where to write the policy JSON')
    .option(
      '--exclude <columns>',
      'comma-separated columns that are outcomes, not inputs (e.g. conversion,spend)',
    )
    .option('--seed <n>', 'seed of the 30% evaluation hold-out', '1')
    .action(
      async (options: {
        data: string;
        id: string;
        actionColumn: string;
        reward: string;
        out: string;
        exclude?: string;
        seed: string;
      }) => {
        const table = await readTable(options.data);
        const { model, report } = trainNba(table, {
          id: options.id,
          action: options.actionColumn,
          reward: options.reward,
          exclude: (options.exclude ?? '')
            .split(',')
            .map((c) => c.trim())
            .filter((c) => c !== ''),
          seed: parseSeed(options.seed),
          now: systemClock.now(),
        });
        await writeAtomically(options.out, `${JSON.stringify(model, null, 2)}\n`);
        const e = model.evaluation;
        const actions = Object.entries(e.actionValues)
          .map(([a, v]) => `  everyone ${a}: ${pct(v)}\n`)
          .join('');
        const shares = Object.entries(e.policyShares)
          .map(([a, s]) => `${a} ${pct(s)}`)
          .join(', ');
        context.io.stdout(
          `columns (${table.rows.length} rows):\n${report}` +
            `${e.method}, ${e.holdoutRows} rows; ${options.reward} rate:\n` +
            `  policy: ${pct(e.policyValue)} (${shares})\n${actions}` +
            `  policy / best single action (${e.bestSingleAction}): ${e.ratio.toFixed(4)}\n` +
            `wrote ${options.out} (trained on ${model.training.rows} rows)\n`,
        );
      },
    );

  models
    .command('score')
    .description('score a CSV file with a churn model → id,score (probability 0–1)')
    .requiredOption('--model <file>', 'a churn model JSON from `models train churn`')
    .requiredOption(
      '--data <file>',
      'customers to score (same columns as training; label optional)',
    )
    .requiredOption('--out <file>', 'where to write the scores CSV')
    .option('--factors', 'add a third column with the top 3 contributing factors')
    .action(async (options: { model: string; data: string; out: string; factors?: boolean }) => {
      const model = await readModel(options.model);
      if (model.kind !== 'churn') {
        throw new InvalidInputError(
          `${options.model}: a ${model.kind} model; score needs a churn model (use decide for nba)`,
          undefined,
          'MODEL_KIND',
        );
      }
      const scores = scoreChurn(model, await readTable(options.data));
      const header = options.factors === true ? 'id,score,factors' : 'id,score';
      const lines = scores.map((s) =>
        [
          csvCell(s.id),
          String(s.score),
          ...(options.factors === true ? [csvCell(s.factors.join('; '))] : []),
        ].join(','),
      );
      await writeAtomically(options.out, `${header}\n${lines.map((l) => `${l}\n`).join('')}`);
      context.io.stdout(`scored ${scores.length} rows → ${options.out}\n`);
    });

  models
    .command('decide')
    .description('apply a next-best-action policy to a CSV file → id,action')
    .requiredOption('--model <file>', 'a policy JSON from `models train nba`')
    .requiredOption('--data <file>', 'customers (same attribute columns as training)')
    .requiredOption('--out <file>', 'where to write the actions CSV')
    .action(async (options: { model: string; data: string; out: string }) => {
      const model = await readModel(options.model);
      if (model.kind !== 'nba') {
        throw new InvalidInputError(
          `${options.model}: a ${model.kind} model; decide needs an nba policy (use score for churn)`,
          undefined,
          'MODEL_KIND',
        );
      }
      const decisions = decide(model, await readTable(options.data));
      const lines = decisions.map((d) => `${csvCell(d.id)},${csvCell(d.action)}\n`);
      await writeAtomically(options.out, `id,action\n${lines.join('')}`);
      const counts = new Map<string, number>();
      for (const d of decisions) counts.set(d.action, (counts.get(d.action) ?? 0) + 1);
      const summary = [...counts.entries()].map(([a, n]) => `${a} ${n}`).join(', ');
      context.io.stdout(`decided ${decisions.length} rows (${summary}) → ${options.out}\n`);
    });

  models
    .command('register')
    .description("store a trained model as the next version of NAME in the engine's model registry")
    .requiredOption('--name <name>', 'registry name the config refers to, e.g. churn_predictor_v2')
    .requiredOption('--model <file>', 'a model JSON from `models train`')
    .option(
      '--config <path>',
      'the project, to find its store (server.data_dir, server.database_url)',
    )
    .option('--data <dir>', 'data directory of the embedded store')
    .option('--database-url <url>', 'PostgreSQL (default: DATABASE_URL)')
    .action(
      async (options: {
        name: string;
        model: string;
        config?: string;
        data?: string;
        databaseUrl?: string;
      }) => {
        if (!/^[A-Za-z0-9_.-]{1,100}$/u.test(options.name)) {
          throw new InvalidInputError(
            `--name must be 1–100 letters, digits, '_', '.' or '-'; got '${options.name}'`,
            undefined,
            'MODEL_NAME_INVALID',
          );
        }
        const model = await readModel(options.model);
        const metrics = model.kind === 'churn' ? model.metrics : model.evaluation;
        await withRegistry(options, context, async (store) => {
          const stored = await store.registerModel({
            name: options.name,
            kind: model.kind,
            createdAt: systemClock.now(),
            body: model as unknown as JsonObject,
            metrics: metrics as unknown as JsonObject,
            source: options.model,
          });
          context.io.stdout(
            `registered ${stored.name} version ${stored.version} (${stored.kind}, ${headlineMetric(stored)})\n` +
              'a running server picks it up within a minute\n',
          );
        });
      },
    );

  models
    .command('retrain')
    .description(
      "train NAME on the store's customers now (models.NAME.train in the config) and register the new version",
    )
    .argument('<name>', 'a models entry with train settings')
    .requiredOption('--config <path>', 'the project (file or directory)')
    .option('--database-url <url>', 'PostgreSQL (default: DATABASE_URL, else server.database_url)')
    .option('--data <dir>', 'data directory of the embedded store (default: server.data_dir)')
    .action(
      async (name: string, options: { config: string; data?: string; databaseUrl?: string }) => {
        const loaded = await loadConfig(options.config);
        const model = loaded.config.models[name];
        if (model === undefined) {
          const known = Object.keys(loaded.config.models);
          throw new InvalidInputError(
            `${options.config}: no model '${name}' under models (${known.length === 0 ? 'none configured' : known.join(', ')})`,
            { known },
            'MODEL_UNKNOWN',
          );
        }
        await withRegistry({ ...options, server: loaded.config.server }, context, async (store) => {
          const stored = await trainModelFromStore(
            store,
            name,
            model,
            systemClock.now(),
            'retrain',
          );
          context.io.stdout(
            `trained ${stored.name} version ${stored.version} (${headlineMetric(stored)}, ${stored.source})\n`,
          );
        });
      },
    );

  models
    .command('list')
    .description('list the models in the registry, newest version first')
    .option(
      '--config <path>',
      'the project, to find its store (server.data_dir, server.database_url)',
    )
    .option('--data <dir>', 'data directory of the embedded store')
    .option('--database-url <url>', 'PostgreSQL (default: DATABASE_URL)')
    .option('--name <name>', 'only this name')
    .action(
      async (options: { config?: string; data?: string; databaseUrl?: string; name?: string }) => {
        await withRegistry(options, context, async (store) => {
          const listed = await store.listModels(
            options.name === undefined ? {} : { name: options.name },
          );
          if (listed.length === 0) {
            context.io.stdout('no models registered\n');
            return;
          }
          const lines = listed.map(
            (m) =>
              `${m.name}\t${m.version}\t${m.kind}\t${new Date(m.createdAt).toISOString()}\t${headlineMetric(m)}\t${m.source}`,
          );
          context.io.stdout(
            `name\tversion\tkind\tregistered\tmetrics\tsource\n${lines.join('\n')}\n`,
          );
        });
      },
    );
}

/** The headline metric of a registered model. */
function headlineMetric(model: ModelRecord): string {
  const m = model.metrics;
  // The engine's own population learning (`engagement_learning`), saved as it runs.
  if (model.kind === 'engagement') return learningHeadline(m);
  if (model.kind === 'churn') {
    const auc = (m['rocAuc'] as { mean?: number } | undefined)?.mean;
    return auc === undefined ? 'no metrics' : `cv ROC-AUC ${auc.toFixed(4)}`;
  }
  const ratio = m['ratio'];
  return typeof ratio === 'number'
    ? `policy / best single action ${ratio.toFixed(4)}`
    : 'no metrics';
}

/**
 * Opens the store holding the registry, chosen like every command's (`store-target.ts`):
 * `--database-url`, `--data`, `DATABASE_URL`, then the config's server settings when there is one.
 */
async function withRegistry(
  options: {
    data?: string | undefined;
    databaseUrl?: string | undefined;
    config?: string | undefined;
    /** The project's server settings when the caller already loaded them; else read from `config`. */
    server?: { data_dir: string; database_url?: string | undefined } | undefined;
  },
  context: CommandContext,
  use: (store: Store) => Promise<void>,
): Promise<void> {
  const target = resolveStoreTarget(
    {
      data: options.data,
      databaseUrl: options.databaseUrl,
      server:
        options.server ??
        (options.config === undefined
          ? undefined
          : (await loadConfig(options.config)).config.server),
      configPath: options.config,
      fallbackDataDir: null,
      missing:
        'the model registry is in the store: pass --data DIR (the data directory), --database-url URL or set DATABASE_URL',
    },
    context.env,
  );
  const store = await openTargetStore(target);
  try {
    await use(store);
  } finally {
    await store.close();
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new InvalidInputError(`${file}: no such file or not readable`);
  }
}

async function readTable(file: string): Promise<Table> {
  return parseTable(await readText(file), file);
}

async function readModel(file: string): Promise<ModelFile> {
  return parseModelFile(await readText(file), file);
}

function parseSeed(raw: string): number {
  if (!/^\d{1,9}$/u.test(raw)) {
    throw new InvalidInputError(`--seed must be a whole number from 0 to 999999999; got '${raw}'`);
  }
  return Number(raw);
}

/** Writes beside the target, then renames: readers see the old file or the whole new one. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text, 'utf8');
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new InvalidInputError(
      `${file}: cannot write (${(error as Error).message})`,
      undefined,
      'OUTPUT_UNWRITABLE',
    );
  }
}

/** Quotes a CSV cell when it needs it (RFC 4180). */
function csvCell(value: string): string {
  return /[",\r\n]/u.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function pct(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

/**
 * What `waymark serve` and `waymark worker` share: the engine as a long-running process opens it
 * (configured delivery, secrets from the environment, webhooks publishing journey events, metrics),
 * the worker's tuning flags, and the shutdown on signals (graceful first, immediate second).
 */
import { hostname } from 'node:os';

import type { Command } from 'commander';

import type { LoadedConfig, WaymarkConfig } from '../../config/index.js';
import {
  InvalidInputError,
  jsonLogger,
  systemClock,
  type Logger,
  type Store,
} from '../../core/index.js';
import { JourneyEventWebhooks, configuredProviders } from '../../delivery/index.js';
import { Engine, type FeedbackVerification, type WorkerOptions } from '../../engine/index.js';
import { createMetrics, type Metrics } from '../../observability/index.js';
import { openTargetStore, resolveStoreTarget, type StoreTarget } from './store-target.js';

/** The environment a command was given. */
type Env = Readonly<Record<string, string | undefined>>;

/** Worker flags of `serve` and `worker`, as commander hands them over. */
export interface WorkerFlags {
  batchEvents?: string;
  leaseMs?: string;
  deliveryLeaseMs?: string;
  workerId?: string;
}

/**
 * The worker's tuning from its flags: `--batch-events` (events per claimed batch), `--lease-ms`
 * (how long a claimed customer, and the scheduler role, stay with a process that stopped
 * answering), `--delivery-lease-ms` (the same for a claimed message delivery) and `--worker-id`
 * (default host and pid, so the leases table and the logs say which process holds what).
 */
export function workerOptions(
  flags: WorkerFlags,
  store: StoreTarget['kind'] = 'sqlite',
): WorkerOptions {
  const options: WorkerOptions = { workerId: flags.workerId ?? `${hostname()}-${process.pid}` };
  // On PostgreSQL a batch costs round trips and a commit whatever its size, so bigger batches
  // spread them thinner (measured: 0.09–0.10 ms of database CPU per event at 2,000 against
  // 0.12–0.15 at 500, docs/BENCHMARKS.md). The embedded store has no round trips and keeps 500,
  // which bounds how long HTTP ingestion waits behind a commit.
  if (store === 'postgres') options.maxEvents = POSTGRES_BATCH_EVENTS;
  if (flags.leaseMs !== undefined) options.leaseMs = milliseconds('--lease-ms', flags.leaseMs);
  if (flags.batchEvents !== undefined) {
    const events = Number(flags.batchEvents);
    if (!Number.isInteger(events) || events < 1 || events > 10_000) {
      throw new InvalidInputError(
        `--batch-events: expected a whole number from 1 to 10000, got '${flags.batchEvents}'`,
      );
    }
    options.maxEvents = events;
  }
  if (flags.deliveryLeaseMs !== undefined) {
    options.deliveryLeaseMs = milliseconds('--delivery-lease-ms', flags.deliveryLeaseMs);
  }
  return options;
}

/** Events per claimed batch on PostgreSQL unless `--batch-events` says otherwise. */
export const POSTGRES_BATCH_EVENTS = 2_000;

/** The project and store flags of a server process, shared by `serve` and `worker`. */
export function addServerStoreFlags(command: Command): Command {
  return command
    .requiredOption('--config <path>', 'config file or directory')
    .option('--data <dir>', 'directory of the embedded database (default: server.data_dir)')
    .option(
      '--database-url <url>',
      'PostgreSQL URL instead of the embedded store (default: DATABASE_URL, then server.database_url)',
    )
    .option(
      '--listen-database-url <url>',
      'PostgreSQL URL for the LISTEN connection when --database-url goes through PgBouncer in transaction mode (default: DATABASE_LISTEN_URL, then the database URL)',
    );
}

/** The flags that register the worker's tuning, shared by `serve` and `worker`. */
export function addWorkerFlags(command: Command): Command {
  return command
    .option(
      '--batch-events <n>',
      'events per claimed batch; bigger batches spread each commit over more events (default 500 on the embedded store, 2000 on PostgreSQL)',
    )
    .option(
      '--lease-ms <ms>',
      'how long a claimed customer stays with a process that stopped answering (default 30000)',
    )
    .option(
      '--delivery-lease-ms <ms>',
      'how long a claimed message delivery stays with its process; longer than the slowest provider call (default 120000)',
    )
    .option('--worker-id <id>', 'name of this process in leases and logs (default: host-pid)');
}

function milliseconds(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 100) {
    throw new InvalidInputError(
      `${flag}: expected a whole number of milliseconds of at least 100, got '${text}'`,
    );
  }
  return value;
}

/** What opening a server engine needs beyond the store. */
export interface ServerEngineInputs {
  loaded: LoadedConfig;
  store: Store;
  log: Logger;
  metrics: Metrics;
  seed: string;
  env: Env;
  worker: WorkerOptions;
  /** Whether this process serves the API (and so provider callbacks, which are verified). */
  api: boolean;
}

/** The flags `serve` and `worker` share besides the worker's tuning. */
export interface ServerProcessFlags extends WorkerFlags {
  config: string;
  data?: string;
  databaseUrl?: string;
  listenDatabaseUrl?: string;
  seed?: string;
}

/** A server process's parts, opened but not started. */
export interface ServerProcess {
  worker: WorkerOptions;
  target: StoreTarget;
  log: Logger;
  metrics: Metrics;
  store: Store;
  engine: Engine;
}

/**
 * Opens what `serve` and `worker` both run on: the worker's tuning (flags checked before anything
 * opens), the store the flags, environment and config name, the JSON log, the metrics and the
 * engine. The caller starts the engine in its role.
 */
export async function openServerProcess(
  loaded: LoadedConfig,
  flags: ServerProcessFlags,
  env: Env,
  io: { stderr(line: string): void },
  api: boolean,
): Promise<ServerProcess> {
  const target = resolveStoreTarget(
    {
      databaseUrl: flags.databaseUrl,
      data: flags.data,
      server: loaded.config.server,
      configPath: flags.config,
    },
    env,
  );
  const worker = workerOptions(flags, target.kind);
  const log = jsonLogger((line) => {
    io.stderr(line);
  });
  // What `waymark validate` would warn about, once at start: a deployment may skip validate.
  for (const warning of loaded.warnings) {
    log.warn(`config: ${warning.path}: ${warning.message}`, {
      file: warning.file,
      line: warning.line,
      column: warning.column,
    });
  }
  const metrics = createMetrics({ log });
  const store = await openTargetStore(target, {
    listenDatabaseUrl: flags.listenDatabaseUrl ?? env['DATABASE_LISTEN_URL'],
  });
  const engine = await openServerEngine({
    loaded,
    store,
    log,
    metrics,
    seed: flags.seed ?? 'waymark',
    env,
    worker,
    api,
  });
  return { worker, target, log, metrics, store, engine };
}

/** Opens the engine of a server process (API, worker or both); the caller starts it in its role. */
export function openServerEngine(inputs: ServerEngineInputs): Promise<Engine> {
  const { loaded, store, log, metrics, env } = inputs;
  const server = loaded.config.server;
  return Engine.open({
    config: loaded,
    store,
    clock: systemClock,
    log,
    seed: inputs.seed,
    // Messages go out through the configured providers; their `*_env` secrets are read from this
    // process's environment, here and nowhere else.
    delivery: 'configured',
    secrets: env,
    tracking: trackingSettings(server.public_url, env['WAYMARK_TRACKING_SECRET'], log),
    ...(inputs.api ? { feedbackVerification: feedbackVerification(loaded.config, env, log) } : {}),
    sinks: [metrics.sink],
    // Configured webhooks get the journey events, each by a cursor of its own.
    publishers: [
      new JourneyEventWebhooks({
        store,
        clock: systemClock,
        webhooks: loaded.config.webhooks,
        retryPolicies: loaded.config.retry_policies,
        log,
      }),
    ],
    worker: inputs.worker,
  });
}

/**
 * Resolves when the first SIGTERM or SIGINT has been handled: `stop` (the graceful shutdown) has
 * run, failed or not. A second signal while it runs exits at once with 130, for an operator who
 * will not wait for a batch to finish.
 */
export function untilStopped(log: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((done) => {
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) {
        log.warn('second signal: exiting now', { signal });
        process.exit(130);
      }
      stopping = true;
      log.info('shutting down', { signal });
      stop()
        .catch((error: unknown) => {
          log.error('shutdown failed', { error: String(error) });
        })
        .finally(done);
    };
    process.on('SIGTERM', () => {
      onSignal('SIGTERM');
    });
    process.on('SIGINT', () => {
      onSignal('SIGINT');
    });
  });
}

/**
 * How provider callbacks are authenticated: the auth token of every Twilio provider configured
 * (the same secret it sends with), SendGrid's Event Webhook public key from
 * SENDGRID_WEBHOOK_PUBLIC_KEY, and the public address Twilio signs.
 */
function feedbackVerification(config: WaymarkConfig, env: Env, log: Logger): FeedbackVerification {
  const twilioAuthTokens: string[] = [];
  for (const channel of Object.values(config.channels)) {
    for (const entry of configuredProviders(channel)) {
      if (entry.provider !== 'twilio') continue;
      const variable = entry.settings['auth_token_env'];
      const token = env[typeof variable === 'string' ? variable : 'TWILIO_AUTH_TOKEN'];
      if (token !== undefined && token !== '' && !twilioAuthTokens.includes(token)) {
        twilioAuthTokens.push(token);
      }
    }
  }
  const sendgridPublicKey = env['SENDGRID_WEBHOOK_PUBLIC_KEY'] ?? null;
  if (twilioAuthTokens.length === 0 || sendgridPublicKey === null) {
    log.warn(
      'some provider callbacks are not verified (no Twilio auth token or no SENDGRID_WEBHOOK_PUBLIC_KEY): keep /v1/feedback/* behind your gateway',
    );
  }
  return {
    twilioAuthTokens,
    sendgridPublicKey: sendgridPublicKey === '' ? null : sendgridPublicKey,
    publicUrl: config.server.public_url ?? null,
  };
}

/** Tracking needs both the public address and a stable secret; one without the other is a warning. */
function trackingSettings(
  publicUrl: string | undefined,
  secret: string | undefined,
  log: Logger,
): { baseUrl: string; secret: string } | undefined {
  if (publicUrl === undefined) return undefined;
  if (secret === undefined || secret.length < 16) {
    log.warn(
      'server.public_url is set but WAYMARK_TRACKING_SECRET is missing or shorter than 16 characters: e-mail is sent without tracking links',
    );
    return undefined;
  }
  return { baseUrl: publicUrl, secret };
}

/** A port number flag (`--port`, `--metrics-port`). */
export function parsePort(flag: string, text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidInputError(`${flag}: expected a port number 0-65535, got '${text}'`);
  }
  return port;
}

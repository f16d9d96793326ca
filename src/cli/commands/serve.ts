import type { Command } from 'commander';
import { buildApi } from '../../api/index.js';
import { loadConfig, type WaymarkConfig } from '../../config/index.js';
import { InvalidInputError, jsonLogger, systemClock, type Logger } from '../../core/index.js';
import { JourneyEventWebhooks, configuredProviders } from '../../delivery/index.js';
import { Engine, type FeedbackVerification } from '../../engine/index.js';
import { createMetrics } from '../../observability/index.js';
import { openSources } from '../../sources/index.js';
import type { CommandContext } from '../program.js';
import { openTargetStore, resolveStoreTarget } from './store-target.js';

/** Options of `waymark serve`; flags win over the config's `server` section. */
interface ServeOptions {
  config: string;
  data?: string;
  databaseUrl?: string;
  port?: string;
  host?: string;
  seed?: string;
}

/**
 * `waymark serve --config DIR [--data DIR | --database-url URL] [--port N] [--host ADDR]`: the API
 * and the worker in one process, on the embedded SQLite store or, when a PostgreSQL URL is given
 * (`--database-url`, `DATABASE_URL`, `server.database_url`), on PostgreSQL. Graceful on the first
 * SIGTERM/SIGINT (stop accepting, finish the current batch, close the store), immediate on the
 * second.
 */
export function registerServeCommand(program: Command, context: CommandContext): void {
  program
    .command('serve')
    .description('run the HTTP API and the worker (embedded store, or PostgreSQL by DATABASE_URL)')
    .requiredOption('--config <path>', 'config file or directory')
    .option('--data <dir>', 'directory of the embedded database (default: server.data_dir)')
    .option(
      '--database-url <url>',
      'PostgreSQL URL instead of the embedded store (default: DATABASE_URL, then server.database_url)',
    )
    .option('--port <n>', 'HTTP port (default: server.port, 3000)')
    .option('--host <address>', 'listen address (default: server.host, 127.0.0.1)')
    .option('--seed <seed>', 'seed of random choices; keep it fixed for an installation')
    .action(async (options: ServeOptions) => {
      const loaded = await loadConfig(options.config);
      const server = loaded.config.server;
      const port = options.port === undefined ? server.port : parsePort(options.port);
      const host = options.host ?? server.host;
      const target = resolveStoreTarget(
        {
          databaseUrl: options.databaseUrl,
          data: options.data,
          server,
          configPath: options.config,
        },
        context.env,
      );
      const log = jsonLogger((line) => {
        context.io.stderr(line);
      });
      const metrics = createMetrics({ log });
      const store = await openTargetStore(target);
      const engine = await Engine.open({
        config: loaded,
        store,
        clock: systemClock,
        log,
        seed: options.seed ?? 'waymark',
        // Messages go out through the configured providers; their `*_env` secrets are read from
        // this process's environment, here and nowhere else.
        delivery: 'configured',
        secrets: process.env,
        tracking: trackingSettings(server.public_url, process.env['WAYMARK_TRACKING_SECRET'], log),
        feedbackVerification: feedbackVerification(loaded.config, process.env, log),
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
      });
      // server.sources (NATS JetStream): WAYMARK_NATS_URL and auth secrets from this environment.
      const sources = openSources(server.sources, {
        ingest: (events) => engine.ingest(events),
        log,
        metrics,
        env: process.env,
      });
      const app = buildApi(engine, { metrics, log, sources });
      engine.start();
      await app.listen({ port, host });
      for (const source of sources) source.start();
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address !== null ? address.port : port;
      context.io.stdout(
        `waymark: serving ${loaded.files.length} config file(s) on http://${host}:${actualPort} (data: ${target.shown})\n`,
      );
      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            log.warn('second signal: exiting now', { signal });
            process.exit(130);
          }
          stopping = true;
          log.info('shutting down', { signal });
          // Sources finish the batch they hold (committed, then acknowledged) before the store closes.
          void Promise.all([app.close(), ...sources.map((source) => source.close())])
            .then(() => engine.close())
            .catch((error: unknown) => {
              log.error('shutdown failed', { error: String(error) });
            })
            .finally(done);
        };
        process.on('SIGTERM', () => {
          stop('SIGTERM');
        });
        process.on('SIGINT', () => {
          stop('SIGINT');
        });
      });
    });
}

/**
 * How provider callbacks are authenticated: the auth token of every Twilio provider configured
 * (the same secret it sends with), SendGrid's Event Webhook public key from
 * SENDGRID_WEBHOOK_PUBLIC_KEY, and the public address Twilio signs.
 */
function feedbackVerification(
  config: WaymarkConfig,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
): FeedbackVerification {
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

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidInputError(`--port: expected a port number 0-65535, got '${text}'`);
  }
  return port;
}

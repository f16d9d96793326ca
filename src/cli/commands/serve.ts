import type { Command } from 'commander';
import { buildApi } from '../../api/index.js';
import { loadConfig } from '../../config/index.js';
import { InvalidInputError } from '../../core/index.js';
import { openSources } from '../../sources/index.js';
import type { CommandContext } from '../program.js';
import {
  openServerProcess,
  parsePort,
  untilStopped,
  addServerStoreFlags,
  addWorkerFlags,
  type WorkerFlags,
} from './server-process.js';

/** Options of `waymark serve`; flags win over the config's `server` section. */
interface ServeOptions extends WorkerFlags {
  config: string;
  data?: string;
  databaseUrl?: string;
  listenDatabaseUrl?: string;
  port?: string;
  host?: string;
  seed?: string;
  role: string;
}

/**
 * `waymark serve --config DIR [--data DIR | --database-url URL] [--role all|api] [--port N]
 * [--host ADDR]`: the API and the worker in one process (role `all`), or the API alone (role
 * `api`, beside `waymark worker` processes on the same PostgreSQL database), on the embedded
 * SQLite store or, when a PostgreSQL URL is given (`--database-url`, `DATABASE_URL`,
 * `server.database_url`), on PostgreSQL. Graceful on the first SIGTERM/SIGINT (stop accepting,
 * finish the current batch, give up the scheduler role, close the store), immediate on the second.
 */
export function registerServeCommand(program: Command, context: CommandContext): void {
  const command = addServerStoreFlags(
    program
      .command('serve')
      .description(
        'run the HTTP API and the worker (embedded store, or PostgreSQL by DATABASE_URL)',
      ),
  )
    .option('--role <role>', 'all (API and workers) or api (HTTP only; run waymark worker)', 'all')
    .option('--port <n>', 'HTTP port (default: server.port, 3000)')
    .option('--host <address>', 'listen address (default: server.host, 127.0.0.1)')
    .option('--seed <seed>', 'seed of random choices; keep it fixed for an installation');
  addWorkerFlags(command).action(async (options: ServeOptions) => {
    if (options.role !== 'all' && options.role !== 'api') {
      throw new InvalidInputError(
        `--role: expected all or api, got '${options.role}' (workers alone: waymark worker)`,
      );
    }
    const role = options.role;
    const loaded = await loadConfig(options.config);
    const server = loaded.config.server;
    const port = options.port === undefined ? server.port : parsePort('--port', options.port);
    const host = options.host ?? server.host;
    const { target, log, metrics, engine } = await openServerProcess(
      loaded,
      options,
      context.env,
      context.io,
      true,
    );
    // server.sources (NATS JetStream): WAYMARK_NATS_URL and auth secrets from this environment.
    const sources = openSources(server.sources, {
      ingest: (events) => engine.ingest(events),
      log,
      metrics,
      env: context.env,
    });
    const app = buildApi(engine, { metrics, log, sources });
    engine.start(role);
    await app.listen({ port, host });
    for (const source of sources) source.start();
    const address = app.server.address();
    const actualPort = typeof address === 'object' && address !== null ? address.port : port;
    context.io.stdout(
      `waymark: serving ${loaded.files.length} config file(s) on http://${host}:${actualPort} (data: ${target.shown}${role === 'api' ? ', role: api' : ''})\n`,
    );
    await untilStopped(log, async () => {
      // Sources finish the batch they hold (committed, then acknowledged) before the store closes.
      await Promise.all([app.close(), ...sources.map((source) => source.close())]);
      await engine.close();
    });
  });
}

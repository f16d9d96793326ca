import { createServer, type Server } from 'node:http';

import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import type { Logger } from '../../core/index.js';
import type { Engine } from '../../engine/index.js';
import type { Metrics } from '../../observability/index.js';
import type { CommandContext } from '../program.js';
import {
  openServerProcess,
  parsePort,
  untilStopped,
  addServerStoreFlags,
  addWorkerFlags,
  type WorkerFlags,
} from './server-process.js';

/** Options of `waymark worker`. */
interface WorkerCommandOptions extends WorkerFlags {
  config: string;
  data?: string;
  databaseUrl?: string;
  listenDatabaseUrl?: string;
  metricsPort?: string;
  metricsHost: string;
  seed?: string;
}

/**
 * `waymark worker --config DIR [--database-url URL] [--metrics-port N]`: the worker loop, the
 * delivery lanes and the scheduled jobs, without the API. Run as many as the load needs, on as
 * many machines, beside `waymark serve --role api` processes: they share one PostgreSQL database,
 * customers are claimed by one process at a time, and one of them (the scheduler role) runs batch
 * triggers, retention, training and journey-event publishing. With `--metrics-port`, a small HTTP
 * server answers `GET /healthz` and `GET /metrics` for probes and Prometheus.
 *
 * SIGTERM/SIGINT: the batch in hand is finished and committed (or, when the commit fails, left to
 * its lease), the lanes finish their pass, the scheduler role is given up, the store is closed,
 * exit 0. A second signal exits at once (130).
 */
export function registerWorkerCommand(program: Command, context: CommandContext): void {
  const command = addServerStoreFlags(
    program
      .command('worker')
      .description('run workers, delivery and scheduled jobs without the API (scale-out)'),
  )
    .option(
      '--metrics-port <n>',
      'serve GET /healthz and GET /metrics on this port (default: none)',
    )
    .option('--metrics-host <address>', 'listen address of the metrics port', '127.0.0.1')
    .option('--seed <seed>', 'seed of random choices; the same as the API processes');
  addWorkerFlags(command).action(async (options: WorkerCommandOptions) => {
    const loaded = await loadConfig(options.config);
    const metricsPort =
      options.metricsPort === undefined ? null : parsePort('--metrics-port', options.metricsPort);
    const { worker, target, log, metrics, store, engine } = await openServerProcess(
      loaded,
      options,
      context.env,
      context.io,
      false,
    );
    metrics.watchStore(store);
    engine.start('worker');
    const probe =
      metricsPort === null
        ? null
        : await serveProbes(engine, metrics, log, metricsPort, options.metricsHost);
    context.io.stdout(
      `waymark: worker ${worker.workerId ?? ''} running ${loaded.files.length} config file(s) (data: ${target.shown}${probe === null ? '' : `, metrics: ${probe.url}`})\n`,
    );
    await untilStopped(log, async () => {
      await engine.close();
      await probe?.close();
    });
  });
}

/**
 * The worker's probe port: `GET /healthz` (200 while the store answers, 503 when it does not; with
 * the process's role and whether it hears other processes' commits) and `GET /metrics`
 * (Prometheus).
 */
async function serveProbes(
  engine: Engine,
  metrics: Metrics,
  log: Logger,
  port: number,
  host: string,
): Promise<{ url: string; close: () => Promise<void> }> {
  /** The answer to one probe request. */
  const answer = async (
    method: string | undefined,
    url: string | undefined,
  ): Promise<{ status: number; type: string; body: string }> => {
    if (method !== 'GET') return { status: 405, type: 'text/plain', body: 'method not allowed\n' };
    if (url === '/metrics') {
      return { status: 200, type: metrics.contentType, body: await metrics.exposition() };
    }
    if (url !== '/healthz') return { status: 404, type: 'text/plain', body: 'not found\n' };
    const json = (status: number, body: Record<string, unknown>) => ({
      status,
      type: 'application/json',
      body: JSON.stringify({ role: 'worker', ...body }),
    });
    try {
      // A real read: a closed or unreachable database fails here.
      await engine.store.pendingEventCount();
    } catch (error) {
      log.warn('health check: store unreachable', { error: String(error) });
      return json(503, { status: 'unavailable', error: 'STORE_UNAVAILABLE' });
    }
    return json(200, { status: 'ok', listening: engine.listening });
  };
  const server: Server = createServer((request, response) => {
    answer(request.method, request.url)
      .then(({ status, type, body }) => {
        response.writeHead(status, { 'content-type': type }).end(body);
      })
      .catch((error: unknown) => {
        log.error('probe failed', { error: String(error) });
        if (!response.headersSent) response.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `http://${host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

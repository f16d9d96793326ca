import { WaymarkError } from '../../core/index.js';
import type { ApiContext } from '../context.js';
import { healthSchema, openApiDocumentSchema } from '../representations.js';
import { defineRoute, type Route } from '../route.js';

/** `GET /healthz`, `GET /metrics`, `GET /openapi.json`. */
export function systemRoutes(ctx: ApiContext, document: () => unknown): Route[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/healthz',
      operationId: 'health',
      summary: 'Liveness and store reachability',
      tag: 'system',
      responses: { 200: { description: 'Healthy.', schema: healthSchema } },
      errors: { 503: 'STORE_UNAVAILABLE: the store did not answer' },
      async handle() {
        try {
          // A real read: a closed, locked or vanished database fails here.
          await ctx.engine.store.pendingEventCount();
        } catch (error) {
          ctx.log.warn('health check: store unreachable', {
            error: error instanceof Error ? error.message : String(error),
          });
          throw new WaymarkError('STORE_UNAVAILABLE', 'the store is not reachable', {
            retryable: true,
            details: { cause: error instanceof WaymarkError ? error.code : 'UNKNOWN' },
          });
        }
        // Degraded providers do not make the server unhealthy (messages fail over); they are
        // reported so an operator sees them.
        const providers = [...ctx.engine.routes.values()].flatMap((route) =>
          route.health().map((p) => ({ channel: route.channel, ...p })),
        );
        // Likewise a stream source that is reconnecting or retrying: HTTP ingestion still works and
        // the stream keeps the messages; its state and last error say what is wrong.
        const sources = await Promise.all(ctx.sources.map((source) => source.health()));
        return {
          status: 200,
          body: { status: 'ok', providers, sources, models: modelHealth(ctx) },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics (text exposition format)',
      tag: 'system',
      responses: {
        200: { description: 'The metrics.', contentType: 'text/plain; version=0.0.4' },
      },
      errors: {},
      async handle() {
        return {
          status: 200,
          body: await ctx.metrics.exposition(),
          contentType: ctx.metrics.contentType,
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/openapi.json',
      operationId: 'openapi',
      summary: 'This API as an OpenAPI 3.1 document',
      tag: 'system',
      responses: { 200: { description: 'The document.', schema: openApiDocumentSchema } },
      errors: {},
      handle() {
        return Promise.resolve({ status: 200, body: document() });
      },
    }),
  ];
}

/**
 * Each model the config names (predictions, `models`, the next-best-action policy): the registry
 * version this process scores with, the circuit of its endpoint, and why it idles when it does.
 * A missing model does not make the server unhealthy either: its predictions wait for it.
 */
function modelHealth(ctx: ApiContext) {
  const config = ctx.engine.config;
  const loaded = ctx.engine.predictionModels;
  const circuits = ctx.engine.remoteModels.circuits();
  const names = new Set<string>([
    ...Object.values(config.predictions).map((p) => p.model),
    ...Object.keys(config.models),
    ...(config.next_best_action.model === undefined ? [] : [config.next_best_action.model]),
  ]);
  return [...names].sort().map((name) => ({
    name,
    version: loaded.status.get(name)?.version ?? null,
    endpoint:
      config.models[name]?.endpoint === undefined ? null : { circuit: circuits[name] ?? 'closed' },
    problem: loaded.status.get(name)?.problem ?? null,
  }));
}

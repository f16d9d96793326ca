import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { InvalidInputError, type Logger, type Store } from '../core/index.js';
import type { Engine } from '../engine/index.js';
import { createMetrics, type Metrics } from '../observability/index.js';
import type { EventSource } from '../sources/index.js';
import { openStore } from '../store/index.js';
import type { ApiContext } from './context.js';
import { ApiError, errorAnswer } from './http-errors.js';
import { MAX_BODY_DEPTH, tooDeepAt } from './input.js';
import { buildOpenApiDocument } from './openapi.js';
import { pathMatcher, type Route } from './route.js';
import { customerRoutes } from './routes/customers.js';
import { eventRoutes } from './routes/events.js';
import { journeyRoutes } from './routes/journeys.js';
import { recordRoutes } from './routes/records.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { feedbackRoutes } from './routes/feedback.js';
import { keepRawBody } from './raw-body.js';
import { decisionRoutes } from './routes/decisions.js';
import { inboxRoutes } from './routes/inbox.js';
import { systemRoutes } from './routes/system.js';
import { taskRoutes } from './routes/tasks.js';

/** Options of `buildApi`; every field has a default. */
export interface ApiOptions {
  /**
   * Metrics to expose and count into. Pass the instance whose `sink` was given to `Engine.open`,
   * or journey counters stay at zero. Default: a fresh registry (HTTP and ingestion counters only).
   */
  metrics?: Metrics;
  /** Where 5xx failures are logged. Default: the engine's logger. */
  log?: Logger;
  /** Largest request body, bytes. Default 5 MiB (1,000 events of ~5 KB each). */
  bodyLimitBytes?: number;
  /**
   * Opens the empty, throw-away store a journey test runs on (closed after the run). Default: a
   * private in-memory SQLite database.
   */
  openScratchStore?: () => Promise<Store>;
  /** `info.version` of the OpenAPI document. Default `1.0.0`. */
  version?: string;
  /** Stream sources the server runs, whose state `/healthz` reports. Default: none. */
  sources?: readonly EventSource[];
}

/** Default largest request body: 5 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 5 * 1024 * 1024;

const JSON_TYPE = 'application/json; charset=utf-8';

/** Label of requests that matched no route, so unknown URLs cannot blow up metric cardinality. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * Builds the HTTP API over an engine: every route under `/v1`, plus `/healthz`, `/metrics` and
 * `/openapi.json`. It does not listen (the `serve` command does) and never starts the engine's
 * worker: the caller decides whether this process processes work.
 */
export function buildApi(engine: Engine, options: ApiOptions = {}): FastifyInstance {
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const metrics = options.metrics ?? createMetrics({ log: options.log ?? engine.log });
  metrics.watchStore(engine.store);
  metrics.watchProviders(() =>
    [...engine.routes.values()].flatMap((route) =>
      route
        .health()
        .map((p) => ({ channel: route.channel, provider: p.provider, circuit: p.circuit })),
    ),
  );
  const ctx: ApiContext = {
    engine,
    metrics,
    log: options.log ?? engine.log,
    sources: options.sources ?? [],
  };

  const app = Fastify({
    logger: false,
    bodyLimit: bodyLimitBytes,
    // Ids are at most 256 characters, which percent-encoding can triple (or more for UTF-8).
    routerOptions: { maxParamLength: 4096 },
    // Node's own request timeout stays; this bounds how long a slow client may hold a socket.
    connectionTimeout: 60_000,
    // Errors found before routing (a malformed percent-encoding, an over-long path parameter)
    // get the same shape as every other error.
    frameworkErrors: (error, _request, reply) => {
      const answer = errorAnswer(error, { bodyLimitBytes });
      // fastify types this reply for a route schema that does not exist yet; it is a plain reply.
      void (reply as FastifyReply).code(answer.status).type(JSON_TYPE).send(answer.body);
    },
    clientErrorHandler: answerClientError,
  });

  // Only JSON bodies are accepted: anything else is a 415 rather than a string handed to a route.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: bodyLimitBytes },
    (request, body, done) => {
      // An empty JSON body means "no body" (POST /pause with a content-type but nothing else),
      // so routes whose body is optional accept it and the others report the missing body.
      const text = typeof body === 'string' ? body : body.toString('utf8');
      keepRawBody(request, text);
      if (text.trim() === '') {
        done(null, undefined);
        return;
      }
      void parseJson(request, text, (error, parsed: unknown) => {
        if (error) {
          done(error, undefined);
          return;
        }
        const deep = tooDeepAt(parsed, MAX_BODY_DEPTH);
        if (deep !== null) {
          done(
            new InvalidInputError(`the body nests deeper than ${MAX_BODY_DEPTH} levels`, {
              problems: [{ path: deep, message: `nested deeper than ${MAX_BODY_DEPTH} levels` }],
            }),
            undefined,
          );
          return;
        }
        done(null, parsed);
      });
    },
  );

  // Form bodies only where a provider or a mail client sends them (Twilio's status callback, RFC
  // 8058 one-click unsubscribe); everywhere else they stay a 415.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: bodyLimitBytes },
    (request, body, done) => {
      const path = request.url.split('?')[0] ?? '';
      if (!FORM_PATHS.some((prefix) => path.startsWith(prefix))) {
        done(
          new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'),
          undefined,
        );
        return;
      }
      const text = typeof body === 'string' ? body : body.toString('utf8');
      done(null, Object.fromEntries(new URLSearchParams(text)));
    },
  );

  app.setErrorHandler((error, request, reply) => {
    const answer = errorAnswer(error, { bodyLimitBytes });
    if (answer.log) {
      ctx.log.error('request failed', {
        method: request.method,
        route: request.routeOptions.url ?? UNMATCHED_ROUTE,
        code: answer.body.error.code,
        error: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
    }
    if (answer.status === 503) void reply.header('retry-after', '1');
    if (answer.status === 405) {
      const allow = (answer.body.error.details as { allow?: string[] } | null)?.allow;
      if (allow) void reply.header('allow', allow.join(', '));
    }
    return reply.code(answer.status).type(JSON_TYPE).send(answer.body);
  });

  let document: unknown = null;
  const routes: Route[] = [
    ...eventRoutes(ctx),
    ...customerRoutes(ctx),
    ...recordRoutes(ctx),
    ...deadLetterRoutes(ctx),
    ...feedbackRoutes(ctx),
    ...inboxRoutes(ctx),
    ...taskRoutes(ctx),
    ...decisionRoutes(ctx),
    ...journeyRoutes(ctx, options.openScratchStore ?? (() => openStore({ file: ':memory:' }))),
    ...systemRoutes(ctx, () => document),
  ];
  document = buildOpenApiDocument(routes, options.version ?? '1.0.0');

  const matchers = routes.map((route) => ({ route, pattern: pathMatcher(route.url) }));
  app.setNotFoundHandler((request) => {
    const path = request.url.split('?')[0] ?? '';
    const allow: string[] = matchers.filter((m) => m.pattern.test(path)).map((m) => m.route.method);
    if (allow.length > 0) {
      if (allow.includes('GET')) allow.push('HEAD');
      return Promise.reject(
        new ApiError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed here`, {
          allow: [...new Set(allow)],
        }),
      );
    }
    return Promise.reject(
      new ApiError(404, 'NOT_FOUND', `no route ${request.method} ${path.slice(0, 200)}`),
    );
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    metrics.httpRequests.inc({ route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    done();
  });

  // Registered as a plugin, so routes are added when the app loads: hooks added by the caller
  // after `buildApi` (an `onRoute` listing, a prefix-wide check) still see every route.
  void app.register((instance, _options, done) => {
    for (const route of routes) {
      instance.route({ method: route.method, url: route.url, handler: route.handler });
    }
    done();
  });
  return app;
}

/** Paths that accept `application/x-www-form-urlencoded` bodies. */
const FORM_PATHS = ['/v1/feedback/twilio', '/v1/t/unsubscribe/'];

/**
 * Answers a request Node's HTTP parser refused (malformed request line or headers, headers too
 * large, a timeout) in the API's error shape; nothing else can be done with such a connection.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', 'the request took too long to arrive']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'HEADERS_TOO_LARGE', 'the request headers are too large']
        : [400, 'BAD_REQUEST', 'the request is not valid HTTP'];
  if (socket.writable) {
    const body = JSON.stringify({ error: { code, message, details: null } });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

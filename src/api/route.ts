/**
 * A route is declared once — method, path, the zod schemas of its inputs and outputs, its errors
 * and its handler — and that one declaration is both registered with fastify and written into the
 * OpenAPI document, so the document cannot miss a route or describe a parameter the route does not
 * check.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { parseInput } from './input.js';

/** Methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A documented response. */
export interface ResponseDoc {
  description: string;
  /** A schema registered in `responseSchemas` (JSON bodies). */
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
}

/** A documented request header. */
export interface HeaderDoc {
  name: string;
  description: string;
}

/** What a handler answers (errors are thrown, not returned). */
export interface Answer {
  status: number;
  body: unknown;
  /** Default: JSON. */
  contentType?: string;
  /** Extra response headers (`Location` of a redirect, cache control). */
  headers?: Readonly<Record<string, string>>;
}

/** Validated inputs handed to a handler. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  request: FastifyRequest;
}

/** The declaration of a route. Schemas are optional; an input without a schema is ignored. */
export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: HttpMethod;
  /** fastify pattern, e.g. `/v1/journeys/:id`. */
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  params?: P;
  query?: Q;
  /** A body schema that accepts `undefined` makes the body optional. */
  body?: B;
  /** Documents the body when the handler validates it elsewhere (a journey definition). */
  bodyDoc?: { id: string; schema: z.ZodType; description: string };
  /** Request headers the handler reads (and validates itself). */
  headers?: HeaderDoc[];
  responses: Record<number, ResponseDoc>;
  /** Error statuses the route may answer, each with when (documented with the Error schema). */
  errors: Record<number, string>;
  handle(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>): Promise<Answer>;
}

/** A declared route with its types erased, ready to register and document. */
export interface Route {
  readonly method: HttpMethod;
  readonly url: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description: string | undefined;
  readonly tag: string;
  readonly params: z.ZodType | undefined;
  readonly query: z.ZodType | undefined;
  readonly body: z.ZodType | undefined;
  readonly bodyDoc: { id: string; schema: z.ZodType; description: string } | undefined;
  readonly headers: readonly HeaderDoc[];
  readonly responses: Record<number, ResponseDoc>;
  readonly errors: Record<number, string>;
  readonly handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/** Declares a route; its handler validates params, query and body before `handle` sees them. */
export function defineRoute<
  P extends z.ZodType = z.ZodUnknown,
  Q extends z.ZodType = z.ZodUnknown,
  B extends z.ZodType = z.ZodUnknown,
>(spec: RouteSpec<P, Q, B>): Route {
  return {
    method: spec.method,
    url: spec.url,
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tag: spec.tag,
    params: spec.params,
    query: spec.query,
    body: spec.body,
    bodyDoc: spec.bodyDoc,
    headers: spec.headers ?? [],
    responses: spec.responses,
    errors: spec.errors,
    async handler(request, reply) {
      // Path first, then query, then body: the first problem reported is the most basic one.
      const params = (
        spec.params ? parseInput(spec.params, request.params, 'path') : undefined
      ) as z.output<P>;
      const query = (
        spec.query ? parseInput(spec.query, request.query, 'query') : undefined
      ) as z.output<Q>;
      const body = (
        spec.body ? parseInput(spec.body, request.body, 'body') : request.body
      ) as z.output<B>;
      const answer = await spec.handle({ params, query, body, request });
      void reply.code(answer.status);
      if (answer.contentType !== undefined) void reply.type(answer.contentType);
      for (const [name, value] of Object.entries(answer.headers ?? {}))
        void reply.header(name, value);
      return answer.body;
    },
  };
}

/** `/v1/journeys/:id` → `/v1/journeys/{id}` (OpenAPI path template). */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/gu, '{$1}');
}

/** Matches concrete paths against a route pattern (for 405 answers). */
export function pathMatcher(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((segment) =>
      segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${escaped}/?$`, 'u');
}

import type { FastifyRequest } from 'fastify';

/**
 * The text of a request body as it arrived, for routes that check a signature over the exact
 * bytes (a re-serialised JSON body would not match). Kept beside the request, never on it.
 */
const rawBodies = new WeakMap<object, string>();

/** Remembers a request's body text (called by the body parsers). */
export function keepRawBody(request: FastifyRequest, text: string): void {
  rawBodies.set(request.raw, text);
}

/** The request's body text, or '' when it had none. */
export function rawBodyOf(request: FastifyRequest): string {
  return rawBodies.get(request.raw) ?? '';
}

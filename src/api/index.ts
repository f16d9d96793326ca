/**
 * The HTTP API (fastify): every route of the guide's `JourneyAPI` and more, versioned under `/v1`,
 * described by the OpenAPI document it serves at `/openapi.json`. Reference: docs/api.md.
 */
export { buildApi, DEFAULT_BODY_LIMIT_BYTES } from './server.js';
export type { ApiOptions } from './server.js';
export { ApiError, statusForCode } from './http-errors.js';
export type { ApiErrorCode } from './http-errors.js';

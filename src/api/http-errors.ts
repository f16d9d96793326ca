/**
 * Turning any failure into the one error shape, `{"error": {"code", "message", "details"}}`, with
 * the HTTP status its code means.
 *
 * The rule that matters: bad input is a 4xx, always. A 5xx means Waymark (or its database) failed;
 * those are logged, and an unexpected one is answered with a generic message so internals (SQL,
 * stack traces, file paths) never reach a client.
 */
import { InvalidInputError, WaymarkError } from '../core/index.js';
import type { ErrorBody } from './representations.js';

/** Error codes the API itself raises (besides those of the engine, store and config). */
export type ApiErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_CONTENT_LENGTH'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'METHOD_NOT_ALLOWED'
  | 'ENROLLMENT_REJECTED'
  | 'NOT_IMPLEMENTED'
  | 'BAD_REQUEST'
  | 'INVALID_URL'
  | 'URI_TOO_LONG'
  /** An unknown URL (an unknown record is the engine's `NotFoundError`, same code). */
  | 'NOT_FOUND';

/** An error the API raises with a status of its own choosing. */
export class ApiError extends WaymarkError {
  declare readonly code: ApiErrorCode;
  /** HTTP status of the answer. */
  readonly status: number;

  constructor(status: number, code: ApiErrorCode, message: string, details?: unknown) {
    super(code, message, { details });
    this.status = status;
  }
}

/** Codes answered 400 besides `InvalidInputError`s and codes ending in `_INVALID`. */
const BAD_REQUEST_CODES = new Set([
  'INVALID_INPUT',
  'INVALID_CURSOR',
  'INVALID_JSON',
  'BAD_REQUEST',
]);

/** Codes answered 409: the request is fine but conflicts with the current state. */
const CONFLICT_CODES = new Set([
  'DEAD_LETTER_STATE',
  'DEAD_LETTER_CUSTOMER_DELETED',
  'STORE_CONFLICT',
  'ENROLLMENT_REJECTED',
  'TASK_NOT_OPEN',
]);

/** Codes answered 503: trying again later can work. */
const UNAVAILABLE_CODES = new Set([
  'TIMEOUT',
  'STORE_UNAVAILABLE',
  'STORE_CLOSED',
  'STORE_LEASE_LOST',
]);

/** The HTTP status a Waymark error code is answered with. */
export function statusForCode(code: string): number {
  if (BAD_REQUEST_CODES.has(code) || code.endsWith('_INVALID')) return 400;
  if (code === 'NOT_FOUND') return 404;
  if (code === 'SIGNATURE_REJECTED') return 403;
  if (CONFLICT_CODES.has(code)) return 409;
  if (code === 'BATCH_TOO_LARGE' || code === 'BODY_TOO_LARGE') return 413;
  if (code === 'URI_TOO_LONG') return 414;
  if (code === 'UNSUPPORTED_MEDIA_TYPE') return 415;
  if (code === 'NOT_IMPLEMENTED') return 501;
  if (UNAVAILABLE_CODES.has(code)) return 503;
  return 500;
}

/** An answer to send for a failure. */
export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  /** True for a 5xx: the operator should see it in the log. */
  log: boolean;
}

/**
 * Maps whatever was thrown to an answer.
 *
 * Fastify's own errors (body parsing, content type, content length) arrive here too, as plain
 * errors with an `FST_ERR_*` code and a `statusCode`.
 */
export function errorAnswer(error: unknown, limits: { bodyLimitBytes: number }): ErrorAnswer {
  if (error instanceof ApiError)
    return answer(error.status, error.code, error.message, error.details);
  if (error instanceof WaymarkError) {
    const status =
      error instanceof InvalidInputError && statusForCode(error.code) === 500
        ? 400
        : statusForCode(error.code);
    if (status === 500) {
      // A known code but a server-side failure: keep the code (clients and operators branch on it),
      // drop message and details, which may carry SQL or internal state.
      return { ...answer(500, error.code, 'internal error; see the server log'), log: true };
    }
    // Components report located problems as a bare list (CONFIG_INVALID, JOURNEY_INVALID, ...);
    // the API always answers them as `details.problems`, so clients read one shape.
    const details = Array.isArray(error.details) ? { problems: error.details } : error.details;
    return { ...answer(status, error.code, error.message, details), log: status >= 500 };
  }
  const framework = frameworkError(error, limits.bodyLimitBytes);
  if (framework) return framework;
  return { ...answer(500, 'INTERNAL', 'internal error; see the server log'), log: true };
}

/** fastify's body-parsing errors, in the API's terms. */
const FRAMEWORK_ERRORS: Partial<
  Record<string, { status: number; code: ApiErrorCode; message: string }>
> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'INVALID_JSON',
    message: 'the request body is not valid JSON',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'INVALID_JSON',
    message: 'the request body is empty',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'BODY_TOO_LARGE',
    message: 'the request body is too large',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'send the body as application/json',
  },
  FST_ERR_BAD_URL: {
    status: 400,
    code: 'INVALID_URL',
    message: 'the URL is not validly percent-encoded',
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    code: 'URI_TOO_LONG',
    message: 'a path parameter is too long',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'INVALID_CONTENT_LENGTH',
    message: 'the content-length does not match the body',
  },
};

function frameworkError(error: unknown, bodyLimitBytes: number): ErrorAnswer | null {
  if (typeof error !== 'object' || error === null) return null;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : null;
  const statusCode =
    'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : null;
  const known = code === null ? undefined : FRAMEWORK_ERRORS[code];
  if (known) {
    return answer(
      known.status,
      known.code,
      known.message,
      known.code === 'BODY_TOO_LARGE'
        ? { limit_bytes: bodyLimitBytes }
        : known.code === 'UNSUPPORTED_MEDIA_TYPE'
          ? { accepted: ['application/json'] }
          : undefined,
    );
  }
  // Other client errors fastify detects (a malformed URL, an unparsable header) keep their 4xx.
  if (statusCode !== null && statusCode >= 400 && statusCode < 500) {
    const message = error instanceof Error ? error.message : 'bad request';
    return answer(statusCode, 'BAD_REQUEST', message);
  }
  return null;
}

function answer(status: number, code: string, message: string, details?: unknown): ErrorAnswer {
  return {
    status,
    body: { error: { code, message, details: details ?? null } },
    log: false,
  };
}

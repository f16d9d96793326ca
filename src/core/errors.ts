/**
 * One error model for the whole codebase.
 *
 * Every error Waymark raises on purpose is a `WaymarkError` with a stable, documented
 * `code` (SCREAMING_SNAKE_CASE). The code is what API responses (`{error: {code, message, details}}`)
 * and CLI output carry unchanged, so clients may branch on it; messages may be reworded.
 * `retryable` says whether trying the same operation again can succeed without a change of input.
 */
export class WaymarkError extends Error {
  /** Stable machine-readable code, e.g. `CONFIG_INVALID`. */
  readonly code: string;
  /** True when the same operation may succeed if simply tried again (transient failure). */
  readonly retryable: boolean;
  /** Structured, JSON-serialisable detail (for example a list of located problems). */
  readonly details: unknown;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; retryable?: boolean; details?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  /** The shape sent to API clients and printed by the CLI in `--json` mode. */
  toJSON(): { code: string; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Input that does not have the expected shape (API body, CLI argument, CSV row). */
export class InvalidInputError extends WaymarkError {
  /** @param code a more specific stable code than `INVALID_INPUT`, e.g. `BATCH_TOO_LARGE`. */
  constructor(message: string, details?: unknown, code = 'INVALID_INPUT') {
    super(code, message, { details });
  }
}

/** A referenced entity (journey, customer, rule, ...) does not exist. */
export class NotFoundError extends WaymarkError {
  constructor(kind: string, id: string) {
    super('NOT_FOUND', `${kind} '${id}' not found`, { details: { kind, id } });
  }
}

/**
 * Marks a branch the type system proves unreachable. Used in exhaustive `switch`es so that a new
 * step type, channel or operator is a compile error rather than a silent `default: break`.
 */
export function assertNever(value: never, what = 'value'): never {
  throw new WaymarkError('INTERNAL', `unexpected ${what}: ${JSON.stringify(value)}`);
}

/**
 * A stored value that does not parse or does not match its schema. It names the Redis key (or
 * the in-memory store) and the field, so an operator can find and repair the entry; callers that
 * loop over many entries report it and carry on with the rest.
 */
export class CorruptStateError extends Error {
  override readonly name = 'CorruptStateError';

  constructor(
    readonly key: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`corrupt entry ${key} [${field}]: ${problem}`);
  }
}

/**
 * The store could not be reached (Redis down, reconnecting, or too slow). Stores fail fast with
 * this instead of queueing: the caller retries on its next reconcile, and the API answers 503.
 */
export class StateUnavailableError extends Error {
  override readonly name = 'StateUnavailableError';

  constructor(
    readonly operation: string,
    options: { cause: unknown },
  ) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`state store unavailable during ${operation}: ${why}`, options);
  }
}

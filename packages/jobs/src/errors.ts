/** Thrown by a handler for a failure that retrying cannot fix: the job fails at once. */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';
}

/**
 * A fenced add refused: the lease whose token the job was added under has moved to another
 * holder (see JobFence). Nothing was added.
 */
export class FencedEnqueueError extends Error {
  override readonly name = 'FencedEnqueueError';

  constructor(readonly key: string) {
    super(`job ${key} not enqueued: the lease it was fenced with has moved to another holder`);
  }
}

/**
 * The queue's store could not take the job (Redis down). Enqueue fails fast rather than waiting:
 * the controller is level-triggered and asks again, with the same key, on its next pass.
 */
export class JobQueueUnavailableError extends Error {
  override readonly name = 'JobQueueUnavailableError';

  constructor(
    readonly key: string,
    options: { cause: unknown },
  ) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`cannot enqueue job ${key}: job queue unavailable (${why})`, options);
  }
}

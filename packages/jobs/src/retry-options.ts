/** How failed attempts are retried: BullMQ's exponential backoff, `delayMs * 2^(n-1)`. */
export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  backoff: { type: 'exponential'; delayMs: number };
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, backoff: { type: 'exponential', delayMs: 1_000 } };

/** Exponential backoff with jitter, for the pause after a failed blocking query. */
export interface BackoffOptions {
  /** Delay after the first failure. */
  readonly initialMs: number;
  /** Ceiling of the delay, however many failures in a row. */
  readonly maxMs: number;
  readonly factor: number;
  /**
   * Share of the delay that is random (0..1). Jitter keeps many watchers that failed
   * together (a Consul leader election) from retrying together.
   */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 60_000, factor: 2, jitter: 0.5 };

/** Delay before retry number `failures` (1 = after the first failure). */
export function backoffDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, failures - 1);
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** exponent);
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(base * (1 - jitter * random()));
}

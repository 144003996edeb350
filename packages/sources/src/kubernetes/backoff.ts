/** Exponential backoff settings; tests shorten them so failures recover in milliseconds. */
export interface BackoffOptions {
  /** First retry delay (default 500 ms). */
  readonly initialMs?: number;
  /** Cap on the delay (default 30 s). */
  readonly maxMs?: number;
}

/**
 * Delay before retry number `attempt` (0-based): exponential with "equal jitter" (half fixed,
 * half random), so many sources restarting after one API server outage do not stampede it.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + (random() * base) / 2);
}

import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How an adapter waits for the cloud to settle: poll every `intervalMs` until `timeoutMs` has
 * passed in all. The defaults are the botocore waiters' cadence; tests pass a few milliseconds.
 */
export interface Pacing {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** A deadline for one action, with the poll interval and a backoff for conflicts. */
export class Deadline {
  private readonly end: number;
  private conflicts = 0;

  constructor(
    private readonly pacing: Pacing,
    private readonly now: () => number = Date.now,
  ) {
    this.end = now() + pacing.timeoutMs;
  }

  get expired(): boolean {
    return this.now() >= this.end;
  }

  /** Waits one poll interval (never past the deadline). */
  async poll(): Promise<void> {
    await sleep(Math.max(0, Math.min(this.pacing.intervalMs, this.end - this.now())));
  }

  /** Waits after a conflict or throttle: the interval doubled per consecutive conflict, up to 8×. */
  async backoff(): Promise<void> {
    const factor = 2 ** Math.min(this.conflicts++, 3);
    await sleep(Math.max(0, Math.min(this.pacing.intervalMs * factor, this.end - this.now())));
  }

  /** A success between conflicts resets the backoff. */
  resetBackoff(): void {
    this.conflicts = 0;
  }
}

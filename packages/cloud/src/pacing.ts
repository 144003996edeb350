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

  /** Waits one poll interval (never past the deadline); `signal` ends the wait early, without throwing. */
  async poll(signal?: AbortSignal): Promise<void> {
    await wait(Math.max(0, Math.min(this.pacing.intervalMs, this.end - this.now())), signal);
  }

  /** Waits after a conflict or throttle: the interval doubled per consecutive conflict, up to 8×. */
  async backoff(signal?: AbortSignal): Promise<void> {
    const factor = 2 ** Math.min(this.conflicts++, 3);
    await wait(Math.max(0, Math.min(this.pacing.intervalMs * factor, this.end - this.now())), signal);
  }

  /** A success between conflicts resets the backoff. */
  resetBackoff(): void {
    this.conflicts = 0;
  }
}

/** Sleeps `ms`, or less when `signal` aborts: the caller looks at its guard right after. */
async function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return;
  await sleep(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
    if (!signal?.aborted) throw error;
  });
}

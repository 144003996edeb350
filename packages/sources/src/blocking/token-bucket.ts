import { setTimeout as sleep } from 'node:timers/promises';

/** Token-bucket limits: `burst` requests at once, then one every `intervalMs`. */
export interface RateLimitOptions {
  readonly burst: number;
  readonly intervalMs: number;
}

/**
 * Consul's docs ask blocking clients to rate-limit their loop with a token bucket (burst 2)
 * rather than sleep on every pass: a change answers at once, but a server that returns
 * instantly (a bug, a proxy that strips `index`) cannot turn the loop into a hot loop.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = options.burst;
    this.refilledAt = now();
  }

  /** Resolves when a token is available and takes it; rejects if `signal` aborts first. */
  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const waitMs = Math.ceil((1 - this.tokens) * this.options.intervalMs);
      await sleep(waitMs, undefined, { signal });
    }
  }

  private refill(): void {
    const now = this.now();
    const earned = (now - this.refilledAt) / this.options.intervalMs;
    this.tokens = Math.min(this.options.burst, this.tokens + earned);
    this.refilledAt = now;
  }
}

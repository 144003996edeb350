import { setTimeout as sleep } from 'node:timers/promises';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { type RateLimitOptions, TokenBucket } from './token-bucket.js';

/** One answer of a blocking endpoint: its index header and the validated body. */
export interface BlockingResult<T> {
  readonly index: number;
  readonly value: T;
}

/** Performs one blocking request at `index`, waiting at most `waitMs` on the server. */
export type BlockingFetch<T> = (request: {
  readonly index: number;
  readonly waitMs: number;
  readonly signal: AbortSignal;
}) => Promise<BlockingResult<T>>;

/** Knobs shared by every blocking watcher; tests shrink them so failures recover in ms. */
export interface BlockingTuning {
  /** Overrides the config's `waitSeconds` (tests use a few hundred ms). */
  readonly waitMs?: number;
  readonly rateLimit?: RateLimitOptions;
  readonly backoff?: BackoffOptions;
  /** Client timeout beyond `wait + wait/16` (the server's documented jitter). */
  readonly timeoutGraceMs?: number;
  /** Per-page size for paginated endpoints (Nomad); absent: the server's default. */
  readonly perPage?: number;
  readonly random?: () => number;
}

/** Consul asks for a burst of 2; one more request per second after that is plenty. */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { burst: 2, intervalMs: 1_000 };
export const DEFAULT_TIMEOUT_GRACE_MS = 5_000;

export interface BlockingQueryOptions<T> {
  readonly fetch: BlockingFetch<T>;
  readonly waitMs: number;
  readonly tuning?: BlockingTuning;
  /** Content identity: a return without a change must not look like one. Default: JSON. */
  readonly fingerprint?: (value: T) => string;
  readonly onChange: (value: T, index: number) => void;
  readonly onUnchanged: (index: number) => void;
  readonly onError: (error: Error, failures: number, retryInMs: number) => void;
}

/**
 * The index to send next, after sending `sent` and receiving `received`, following Consul's
 * (and Nomad's) documented rules.
 */
export function nextIndex(sent: number, received: number): number {
  // An index ≤ 0 is a server bug; sending 0 again would make every query return at once.
  // Checked first: otherwise 0 < 1 reads as "backwards" and the index alternates 0, 1, 0, 1.
  if (received < 1) return 1;
  // Backwards (raft snapshot restore, upgrade): start over with a non-blocking read.
  if (received < sent) return 0;
  return received;
}

/**
 * A loop of blocking queries against one endpoint. It reports content changes only,
 * rate-limits itself, backs off with jitter on errors and stops promptly when asked.
 */
export class BlockingQuery<T> {
  private readonly abort = new AbortController();
  private readonly bucket: TokenBucket;
  private loop: Promise<void> | undefined;
  private index = 0;
  private fingerprintSeen: string | undefined;
  private failures = 0;

  constructor(private readonly options: BlockingQueryOptions<T>) {
    this.bucket = new TokenBucket(options.tuning?.rateLimit ?? DEFAULT_RATE_LIMIT);
  }

  /** The index the next request will carry. */
  get currentIndex(): number {
    return this.index;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Aborts the request in flight and any pause; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    while (!signal.aborted) {
      try {
        await this.bucket.take(signal);
        const result = await this.options.fetch({ index: this.index, waitMs: this.options.waitMs, signal });
        if (signal.aborted) return;
        this.accept(result);
      } catch (error) {
        if (signal.aborted) return;
        await this.fail(error);
      }
    }
  }

  private accept(result: BlockingResult<T>): void {
    this.index = nextIndex(this.index, result.index);
    this.failures = 0;
    const fingerprint = (this.options.fingerprint ?? JSON.stringify)(result.value);
    if (fingerprint === this.fingerprintSeen) {
      this.options.onUnchanged(result.index);
      return;
    }
    this.options.onChange(result.value, result.index);
    // Only after the handler succeeded: if it threw, the next answer is reported again.
    this.fingerprintSeen = fingerprint;
  }

  private async fail(error: unknown): Promise<void> {
    this.failures++;
    const tuning = this.options.tuning;
    const delay = backoffDelay(this.failures, tuning?.backoff ?? DEFAULT_BACKOFF, tuning?.random);
    this.options.onError(error instanceof Error ? error : new Error(String(error)), this.failures, delay);
    await sleep(delay, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }
}

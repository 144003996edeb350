import { PendingWrites } from './pending-writes.js';

export interface PacedRefreshOptions {
  /** Wall time one slice of the round may run before it yields to the event loop. */
  readonly sliceMs?: number;
  /** Responses pending in HTTP/2 above which the round waits for clients to take them. */
  readonly maxPending?: number;
  /**
   * The longest the round waits for pending writes before it goes on anyway: clients that
   * stopped reading must not hold back everyone else's re-send.
   */
  readonly maxWaitMs?: number;
}

const DEFAULTS = { sliceMs: 5, maxPending: 64, maxWaitMs: 1_000 } as const;

interface Round<S> {
  readonly streams: readonly S[];
  next: number;
  /** Writes that were pending when a wait timed out: taken as clients that do not read. */
  stuck: number;
}

/**
 * One round of the periodic re-send at a time, paced so that it never stalls the event loop:
 * it re-sends stream after stream for at most `sliceMs`, then lets the loop turn (changes and
 * ACKs go first); and while more than `maxPending` responses wait for HTTP/2 it waits for
 * clients to take them, so the round's bytes never pile up in the process. A round over
 * 5,000 streams × 30 assignments is about 500 MB: sent in one go (or in fixed batches) it
 * blocked the loop for up to seconds, mostly in garbage collection.
 */
export class PacedRefresh<S> {
  private readonly options: Required<PacedRefreshOptions>;
  private round: Round<S> | undefined;
  private stopped = false;
  private waitTimer: NodeJS.Timeout | undefined;
  private readonly resume = () => this.slice();

  constructor(
    private readonly streams: () => readonly S[],
    private readonly isOpen: (stream: S) => boolean,
    private readonly refresh: (stream: S) => void,
    private readonly writes: PendingWrites = new PendingWrites(),
    options: PacedRefreshOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** True while a round is going. */
  get running(): boolean {
    return this.round !== undefined;
  }

  /** Starts a round over the streams open now, unless one is still going (then this one is not needed). */
  start(): void {
    if (this.round || this.stopped) return;
    this.round = { streams: this.streams(), next: 0, stuck: 0 };
    this.slice();
  }

  stop(): void {
    this.stopped = true;
    this.round = undefined;
    clearTimeout(this.waitTimer);
    this.writes.cancelWait(this.resume);
  }

  private slice(): void {
    clearTimeout(this.waitTimer);
    this.writes.cancelWait(this.resume);
    const round = this.round;
    if (!round) return;
    const until = performance.now() + this.options.sliceMs;
    while (round.next < round.streams.length) {
      if (this.writes.count > round.stuck + this.options.maxPending) {
        this.waitForClients(round);
        return;
      }
      const stream = round.streams[round.next++]!;
      // A stream closed since the round started has nobody to send to.
      if (this.isOpen(stream)) this.refresh(stream);
      if (performance.now() >= until) {
        setImmediate(this.resume);
        return;
      }
    }
    this.round = undefined;
  }

  private waitForClients(round: Round<S>): void {
    this.waitTimer = setTimeout(() => {
      // Whatever is still pending belongs to clients that do not read: pace against the others.
      round.stuck = this.writes.count;
      this.slice();
    }, this.options.maxWaitMs);
    this.waitTimer.unref();
    this.writes.whenAtMost(round.stuck + this.options.maxPending / 2, this.resume);
  }
}

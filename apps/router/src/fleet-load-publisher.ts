import { setImmediate } from 'node:timers/promises';
import { LOAD_BUCKET_SECONDS, type LoadBucket, type MeasuredLoad } from '@spillway/model';
import { Counter, Gauge, type Logger, metricOnce, type Registry } from '@spillway/observability';
import { LOAD_RETENTION_SECONDS, loadBucketDeltas } from '@spillway/xds';

/** Services looked at between two turns of the event loop (a few ms of work at most). */
const SLICE = 250;

/** Where a router's buckets go (RedisLoadBuckets in distributed mode). */
export interface LoadBucketSink {
  publish(router: string, buckets: readonly LoadBucket[]): Promise<void>;
}

export interface FleetLoadPublisherOptions {
  readonly sink: LoadBucketSink;
  /** This router process, unique in the fleet (a restart is a new router). */
  readonly routerId: string;
  /** The router's measuredLoad over a window ending at `at`. */
  readonly measured: (service: string, windowSeconds: number, at: number) => MeasuredLoad | undefined;
  /** The services reports are kept for (the catalog the router publishes). */
  readonly services: () => Iterable<string>;
  /** How often clients report (loadReporting.intervalSeconds): how long a recent bucket can still change. */
  readonly reportIntervalSeconds: number;
  /** How often to publish. */
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly now?: () => number;
}

/**
 * Publishes what this router's clients reported (LRS) so the controller can sum the load of
 * every router: each tick, for every service with reports, the buckets that may still change
 * (the current one and those a report interval back, where an in-progress gauge may still
 * move out), each as what it adds to a window (loadBucketDeltas). Older buckets were final
 * when last sent. One tick at a time; a failed one is counted and logged once per outage, and
 * the next tick sends the same buckets again.
 */
export class FleetLoadPublisher {
  private readonly depth: number;
  private readonly publishes: Counter<'result'>;
  private readonly published: Gauge;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failing = false;
  /** Services with load at the last publication: sent once more when it is gone, so their buckets say 0. */
  private lastLoaded = new Set<string>();

  constructor(private readonly options: FleetLoadPublisherOptions) {
    // A bucket stays open to change for one report interval; never more than the store keeps.
    this.depth = Math.min(
      Math.ceil(options.reportIntervalSeconds / LOAD_BUCKET_SECONDS) + 1,
      LOAD_RETENTION_SECONDS / LOAD_BUCKET_SECONDS,
    );
    this.publishes = metricOnce(options.registry, Counter, {
      name: 'spillway_router_load_publishes_total',
      help: 'Publications of this router’s measured load (LRS buckets) to Redis for the controller: ok, failed',
      labelNames: ['result'],
    });
    this.published = metricOnce(options.registry, Gauge, {
      name: 'spillway_router_load_published_buckets',
      help: '(service, 5 s bucket) entries in the last publication of this router’s measured load',
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the ticks, then sends once more: the last seconds' reports still count. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.publish();
  }

  /** One publication now (unless one is running): what the ticks do. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.publish().finally(() => {
      this.running = undefined;
    });
    await this.running;
  }

  /**
   * The buckets to send now: the recent ones of every service with load in them, and of those
   * that had load at the last publication (their buckets now say 0); `loaded` for the next.
   * Every SLICE services it lets the event loop run: xDS streams are served in between.
   */
  private async collect(at: number): Promise<{ buckets: LoadBucket[]; loaded: Set<string> }> {
    const buckets: LoadBucket[] = [];
    const loaded = new Set<string>();
    let visited = 0;
    for (const service of this.options.services()) {
      if (++visited % SLICE === 0) await setImmediate();
      const windowed = (windowSeconds: number) => this.options.measured(service, windowSeconds, at);
      const deltas = loadBucketDeltas(service, windowed, at, this.depth);
      if (deltas.some((delta) => delta.localities.length > 0)) loaded.add(service);
      else if (!this.lastLoaded.has(service)) continue;
      buckets.push(...deltas);
    }
    return { buckets, loaded };
  }

  private async publish(): Promise<void> {
    const { buckets, loaded } = await this.collect((this.options.now ?? Date.now)());
    if (buckets.length === 0) return;
    try {
      await this.options.sink.publish(this.options.routerId, buckets);
      this.lastLoaded = loaded;
      this.publishes.inc({ result: 'ok' });
      this.published.set(buckets.length);
      if (this.failing) this.options.logger.info('measured load published again');
      this.failing = false;
    } catch (error) {
      this.publishes.inc({ result: 'failed' });
      // One line per outage, not one per tick. The error is Redis's (no URL, no password).
      if (!this.failing) {
        const message = error instanceof Error ? error.message : String(error);
        this.options.logger.warn({ err: message }, 'cannot publish the measured load to Redis; retrying');
      }
      this.failing = true;
    }
  }
}

import type { Locality } from '@spillway/model';
import type { ReportedLocalityLoad } from './load-stats-request.js';

export interface LoadReportStoreOptions {
  /** Width of a time bucket: the reporting interval (a report's counts land in one bucket). */
  readonly bucketSeconds: number;
  /** The longest window that can be asked for; older buckets are overwritten. */
  readonly retentionSeconds: number;
  /** (service, locality) series kept at most; beyond, the least recently reported is dropped. */
  readonly maxSeries?: number;
  /** Localities kept per service; beyond, that service's least recently reported one is dropped. */
  readonly maxLocalitiesPerService?: number;
  /** Called when a series is dropped to make room (metrics). */
  readonly onEvict?: (reason: 'series-cap' | 'locality-cap') => void;
}

export const DEFAULT_MAX_SERIES = 10_000;
export const DEFAULT_MAX_LOCALITIES_PER_SERVICE = 64;

/** One locality of one service over a window: the raw material of `GET /v1/load`. */
export interface WindowedLocalityLoad {
  readonly locality: Locality;
  readonly completed: number;
  readonly errors: number;
  readonly inProgress: number;
}

/** Requests one reporter (an LRS stream) had in progress in one series, at its last report. */
interface InProgressGauge {
  value: number;
  at: number;
}

/** Counts of one (service, locality) in a ring of time buckets. */
interface Series {
  readonly service: string;
  readonly locality: Locality;
  /** The bucket number each slot holds; a slot whose number is stale counts as empty. */
  readonly bucketIds: Float64Array;
  readonly completed: Float64Array;
  readonly errors: Float64Array;
  readonly inProgress: Map<string, InProgressGauge>;
}

/**
 * Load reports summed per (service, locality) into fixed rings of time buckets, so memory
 * depends on the series kept, not on how many clients report or how often:
 * `maxSeries × (retention / bucket + 2) × 24 bytes` at most (10,000 × 122 × 24 ≈ 29 MB by default).
 * Only the in-progress gauges are per reporter (an open LRS stream), and are dropped with it.
 * Pure bookkeeping: the caller passes the time.
 */
export class LoadReportStore {
  /** Map order is recency order: a touched series is re-inserted, so the first is the stalest. */
  private readonly series = new Map<string, Series>();
  private readonly byService = new Map<string, Set<string>>();
  private readonly byReporter = new Map<string, Set<string>>();
  private readonly bucketMs: number;
  private readonly slots: number;
  private readonly maxSeries: number;
  private readonly maxLocalities: number;

  constructor(private readonly options: LoadReportStoreOptions) {
    this.bucketMs = options.bucketSeconds * 1000;
    this.slots = Math.ceil(options.retentionSeconds / options.bucketSeconds) + 2;
    this.maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
    this.maxLocalities = options.maxLocalitiesPerService ?? DEFAULT_MAX_LOCALITIES_PER_SERVICE;
  }

  get retentionSeconds(): number {
    return this.options.retentionSeconds;
  }

  get size(): number {
    return this.series.size;
  }

  /** Adds one reporter's counts for one service, received at `at` (ms since the epoch). */
  record(reporter: string, service: string, localities: readonly ReportedLocalityLoad[], at: number): void {
    const bucket = Math.floor(at / this.bucketMs);
    for (const load of localities) {
      const locality = { region: load.region, zone: load.zone, subZone: load.subZone };
      const series = this.touch(service, locality);
      const slot = bucket % this.slots;
      if (series.bucketIds[slot] !== bucket) {
        series.bucketIds[slot] = bucket;
        series.completed[slot] = 0;
        series.errors[slot] = 0;
      }
      series.completed[slot] = (series.completed[slot] ?? 0) + load.successful + load.errors;
      series.errors[slot] = (series.errors[slot] ?? 0) + load.errors;
      series.inProgress.set(reporter, { value: load.inProgress, at });
      this.reporterSeries(reporter).add(seriesKey(service, locality));
    }
  }

  /** A reporter went away: its in-progress requests are no longer anyone's to report. */
  forget(reporter: string): void {
    for (const key of this.byReporter.get(reporter) ?? []) this.series.get(key)?.inProgress.delete(reporter);
    this.byReporter.delete(reporter);
  }

  /** Each locality of `service` with what was reported in the last `windowSeconds` before `at`. */
  window(service: string, windowSeconds: number, at: number): WindowedLocalityLoad[] {
    const from = at - windowSeconds * 1000;
    // The bucket holding `from` counts whole: a window covers W to W + one bucket, never less
    // (a window of one bucket would otherwise see only the current, just-started one).
    const oldestBucket = Math.floor(from / this.bucketMs);
    const newestBucket = Math.floor(at / this.bucketMs);
    const loads: WindowedLocalityLoad[] = [];
    for (const key of this.byService.get(service) ?? []) {
      const series = this.series.get(key);
      if (!series) continue;
      let completed = 0;
      let errors = 0;
      // Visit only the window's slots (a short window is a few, not the whole ring); a slot
      // counts if it still holds that bucket. The ring has more slots than the longest window.
      const first = Math.max(oldestBucket, newestBucket - this.slots + 1);
      for (let bucket = first; bucket <= newestBucket; bucket++) {
        const slot = bucket % this.slots;
        if (series.bucketIds[slot] !== bucket) continue;
        completed += series.completed[slot] ?? 0;
        errors += series.errors[slot] ?? 0;
      }
      let inProgress = 0;
      const gaugesFrom = oldestBucket * this.bucketMs;
      for (const gauge of series.inProgress.values()) if (gauge.at >= gaugesFrom) inProgress += gauge.value;
      if (completed + inProgress > 0) loads.push({ locality: series.locality, completed, errors, inProgress });
    }
    return loads;
  }

  private touch(service: string, locality: Locality): Series {
    const key = seriesKey(service, locality);
    const existing = this.series.get(key);
    if (existing) {
      this.series.delete(key);
      this.series.set(key, existing);
      return existing;
    }
    const keys = this.byService.get(service) ?? new Set<string>();
    if (keys.size >= this.maxLocalities) this.evict(this.stalest(keys), 'locality-cap');
    if (this.series.size >= this.maxSeries) this.evict(this.series.keys().next().value, 'series-cap');
    const created: Series = {
      service,
      locality,
      bucketIds: new Float64Array(this.slots).fill(-1),
      completed: new Float64Array(this.slots),
      errors: new Float64Array(this.slots),
      inProgress: new Map(),
    };
    this.series.set(key, created);
    keys.add(key);
    this.byService.set(service, keys);
    return created;
  }

  /** The least recently reported of `keys` (the series map iterates stalest first). */
  private stalest(keys: ReadonlySet<string>): string | undefined {
    for (const key of this.series.keys()) if (keys.has(key)) return key;
    return undefined;
  }

  private evict(key: string | undefined, reason: 'series-cap' | 'locality-cap'): void {
    const series = key === undefined ? undefined : this.series.get(key);
    if (!series || key === undefined) return;
    this.series.delete(key);
    const keys = this.byService.get(series.service);
    keys?.delete(key);
    if (keys?.size === 0) this.byService.delete(series.service);
    for (const reporter of series.inProgress.keys()) this.byReporter.get(reporter)?.delete(key);
    this.options.onEvict?.(reason);
  }

  private reporterSeries(reporter: string): Set<string> {
    let keys = this.byReporter.get(reporter);
    if (!keys) {
      keys = new Set();
      this.byReporter.set(reporter, keys);
    }
    return keys;
  }
}

function seriesKey(service: string, locality: Locality): string {
  return `${service}\n${locality.region}/${locality.zone}/${locality.subZone}`;
}

/** One service at one simulated instant: rates and the p99, as a recording rule would see them. */
export interface MetricSample {
  /** Simulated epoch ms. */
  readonly at: number;
  readonly requestsPerSecond: number;
  readonly errorsPerSecond: number;
  readonly p99Seconds: number;
}

/** What a `…rate<window>` series says at one instant: computed over the samples in the window. */
export interface WindowAggregate {
  /** Σ errors / Σ requests; NaN with no requests (0/0, as PromQL). */
  readonly errorRatio: number;
  readonly requestsPerSecond: number;
  /** Request-weighted mean of the samples' p99 (an approximation of a histogram quantile). */
  readonly p99Seconds: number;
}

/**
 * A service's samples at a fixed step, kept for the longest window anyone asks about (plus
 * slack). Samples are appended in time order; a query for a window reads the ones inside it.
 * Early in a run a window holds less history than it names: Prometheus's rate() over a series
 * younger than the window behaves the same way (it uses what exists).
 */
export class MetricsHistory {
  private readonly samples: MetricSample[] = [];

  constructor(private readonly retentionMs: number) {}

  get latest(): MetricSample | undefined {
    return this.samples.at(-1);
  }

  append(sample: MetricSample): void {
    this.samples.push(sample);
    const horizon = sample.at - this.retentionMs;
    let drop = 0;
    while (drop < this.samples.length && (this.samples[drop]?.at ?? 0) < horizon) drop++;
    if (drop > 0) this.samples.splice(0, drop);
  }

  /** The aggregate over (at − windowMs, at]; undefined when no sample lies in it. */
  window(at: number, windowMs: number): WindowAggregate | undefined {
    let requests = 0;
    let errors = 0;
    let weightedP99 = 0;
    let count = 0;
    for (const sample of this.samples) {
      if (sample.at <= at - windowMs || sample.at > at) continue;
      requests += sample.requestsPerSecond;
      errors += sample.errorsPerSecond;
      weightedP99 += sample.p99Seconds * sample.requestsPerSecond;
      count++;
    }
    if (count === 0) return undefined;
    return {
      errorRatio: requests === 0 ? Number.NaN : errors / requests,
      requestsPerSecond: requests / count,
      p99Seconds: requests === 0 ? Number.NaN : weightedP99 / requests,
    };
  }
}

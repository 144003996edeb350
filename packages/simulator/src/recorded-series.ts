import type { WindowAggregate } from './metrics-history.js';

/**
 * The recording-rule series the simulator serves, named as in infra/ Prometheus rules:
 *   service:http_requests_errors:ratio_rate<W>{service="NAME.NS"}        error ratio over W
 *   service:http_request_duration_seconds:p99_rate<W>{service="NAME.NS"} p99 latency over W (s)
 *   service:http_requests:rate<W>{service="NAME.NS"}                     requests per second over W
 * W is a Prometheus duration of one unit: 30s, 5m, 1h, 6h, 1d.
 */
export type SeriesKind = 'error-ratio' | 'p99' | 'rps';

export interface RecordedSeries {
  readonly kind: SeriesKind;
  readonly windowMs: number;
}

const FAMILIES: readonly { readonly prefix: string; readonly kind: SeriesKind }[] = [
  { prefix: 'service:http_requests_errors:ratio_rate', kind: 'error-ratio' },
  { prefix: 'service:http_request_duration_seconds:p99_rate', kind: 'p99' },
  { prefix: 'service:http_requests:rate', kind: 'rps' },
];

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The series a metric name stands for; undefined for a name the simulator does not record. */
export function recordedSeries(metric: string): RecordedSeries | undefined {
  for (const family of FAMILIES) {
    if (!metric.startsWith(family.prefix)) continue;
    const window = /^(\d+)([smhd])$/.exec(metric.slice(family.prefix.length));
    const unit = window?.[2];
    if (!window || !unit) return undefined;
    const windowMs = Number(window[1]) * (UNIT_MS[unit] ?? 0);
    return windowMs > 0 ? { kind: family.kind, windowMs } : undefined;
  }
  return undefined;
}

/** The number a series shows for a window's aggregate. */
export function seriesValue(series: RecordedSeries, aggregate: WindowAggregate): number {
  switch (series.kind) {
    case 'error-ratio':
      return aggregate.errorRatio;
    case 'p99':
      return aggregate.p99Seconds;
    case 'rps':
      return aggregate.requestsPerSecond;
  }
}

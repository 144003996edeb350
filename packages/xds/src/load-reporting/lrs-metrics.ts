import { Counter, Gauge, metricOnce, type Registry } from '@spillway/observability';

/** Load reporting (LRS) on the xDS port: streams, reports taken and refused, what the store holds. */
export class LrsMetrics {
  readonly streams: Gauge;
  readonly reports: Counter<'result'>;
  readonly dropped: Counter<'reason'>;
  readonly requests: Counter;
  readonly series: Gauge;
  readonly evicted: Counter<'reason'>;

  constructor(registry: Registry) {
    this.streams = metricOnce(registry, Gauge, { name: 'spillway_lrs_streams', help: 'Open LRS streams' });
    this.reports = metricOnce(registry, Counter, {
      name: 'spillway_lrs_reports_total',
      help: 'Load reports received: accepted, or rejected whole (invalid)',
      labelNames: ['result'],
    });
    this.dropped = metricOnce(registry, Counter, {
      name: 'spillway_lrs_cluster_stats_dropped_total',
      help: 'Cluster stats in accepted reports that were not kept (unknown service, not authorized)',
      labelNames: ['reason'],
    });
    this.requests = metricOnce(registry, Counter, {
      name: 'spillway_lrs_requests_total',
      help: 'Completed requests reported by clients (successful + errors) and kept',
    });
    this.series = metricOnce(registry, Gauge, {
      name: 'spillway_lrs_series',
      help: '(service, locality) series held in the load report store',
    });
    this.evicted = metricOnce(registry, Counter, {
      name: 'spillway_lrs_series_evicted_total',
      help: 'Series dropped to keep the load report store bounded (series-cap, locality-cap)',
      labelNames: ['reason'],
    });
  }
}

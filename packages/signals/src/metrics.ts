import { Counter, metricOnce, type Registry } from '@spillway/observability';

/** A counter on `registry`, or the one already there: several clients may share one registry. */
function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  return metricOnce(registry, Counter, { name, help, labelNames }) as Counter<L>;
}

/** The Prometheus client's own metrics. */
export class PrometheusQueryMetrics {
  readonly queries: Counter<string>;
  readonly errors: Counter<'error_type'>;

  constructor(registry: Registry) {
    this.queries = counter(registry, 'spillway_prometheus_queries_total', 'Instant queries sent to Prometheus.');
    this.errors = counter(
      registry,
      'spillway_prometheus_query_errors_total',
      'Instant queries that failed, by PrometheusQueryError.errorType.',
      ['error_type'],
    );
  }
}

/** The Alertmanager webhook intake's metrics. */
export class AlertmanagerWebhookMetrics {
  readonly alerts: Counter<'status'>;
  readonly unmatched: Counter<string>;
  readonly rejected: Counter<string>;
  readonly truncatedGroups: Counter<string>;

  constructor(registry: Registry) {
    this.alerts = counter(
      registry,
      'spillway_alertmanager_webhook_alerts_total',
      'Alerts received in Alertmanager webhook notifications, by alert status.',
      ['status'],
    );
    this.unmatched = counter(
      registry,
      'spillway_alertmanager_webhook_alerts_unmatched_total',
      'Received alerts that match no burst policy (recorded and ignored).',
    );
    this.rejected = counter(
      registry,
      'spillway_alertmanager_webhook_rejected_total',
      'Webhook bodies rejected as malformed or not payload version 4.',
    );
    this.truncatedGroups = counter(
      registry,
      'spillway_alertmanager_webhook_truncated_groups_total',
      'Webhook notifications whose alert list Alertmanager truncated (max_alerts).',
    );
  }
}

import type { CatalogReader, TrafficPolicyReader } from '@spillway/model';
import { createMetricsRegistry, silentLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { type RunningRouter, startRouter } from '@spillway/router';

/** The real router on a free loopback port, quiet, with its own metrics registry (and LRS when asked). */
export function startLoopbackRouter(
  catalog: CatalogReader,
  policies: TrafficPolicyReader = new InMemoryTrafficPolicyStore(),
  options: { loadReportingSeconds?: number } = {},
): Promise<RunningRouter> {
  return startRouter({
    catalog,
    policies,
    ...(options.loadReportingSeconds ? { loadReporting: { intervalSeconds: options.loadReportingSeconds } } : {}),
    xdsAddress: '127.0.0.1:0',
    logger: silentLogger(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
  });
}

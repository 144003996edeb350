import { collectDefaultMetrics, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * A registry per service instance (not prom-client's global one), so several services can run
 * in one process (embedded mode, tests) without clashing metric names.
 */
export function createMetricsRegistry(
  options: { defaultMetrics?: boolean; labels?: Record<string, string> } = {},
): Registry {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

import { type Counter, collectDefaultMetrics, type Gauge, type Histogram, Registry } from 'prom-client';

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

/**
 * The metric already registered under `options.name`, or a new one. A component that is
 * stopped and started again on the same registry (the router restarted by a drill, several
 * clients sharing one service registry) keeps counting on the same series instead of throwing.
 */
export function metricOnce<M extends Counter<string> | Gauge<string> | Histogram<string>>(
  registry: Registry,
  kind: new (configuration: {
    name: string;
    help: string;
    labelNames: readonly string[];
    registers: Registry[];
    buckets?: number[];
  }) => M,
  /** `buckets` only for a Histogram. */
  options: { name: string; help: string; labelNames?: readonly string[]; buckets?: number[] },
): M {
  const existing = registry.getSingleMetric(options.name);
  if (existing) {
    if (!(existing instanceof kind)) throw new Error(`metric ${options.name} is registered with another type`);
    return existing;
  }
  return new kind({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames ?? [],
    registers: [registry],
    ...(options.buckets ? { buckets: options.buckets } : {}),
  });
}

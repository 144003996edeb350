import { type Counter, collectDefaultMetrics, type Gauge, type Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The label every series of a process's registry carries, naming which Spillway process it is
 * (`embedded`, `federation`, `router`, `controller`, `drill`). Not `instance` (Prometheus's own
 * target label: a scraped `instance` is renamed `exported_instance`) nor `service` (the mesh
 * service on burst and SLO series).
 */
export const PROCESS_LABEL = 'spillway_process';

/**
 * A registry per service instance (not prom-client's global one), so several services can run
 * in one process (embedded mode, tests) without clashing metric names.
 */
export function createMetricsRegistry(options: { defaultMetrics?: boolean; process?: string } = {}): Registry {
  const registry = new Registry();
  if (options.process) registry.setDefaultLabels({ [PROCESS_LABEL]: options.process });
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

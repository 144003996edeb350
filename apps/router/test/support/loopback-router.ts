import { createMetricsRegistry, silentLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { type RouterOptions, type RunningRouter, startRouter } from '../../src/index.js';

export type LoopbackRouterOptions = Pick<RouterOptions, 'catalog'> &
  Partial<Omit<RouterOptions, 'catalog' | 'xdsAddress' | 'httpAddress'>> & {
    /** Serve the HTTP API too (default true). */
    readonly http?: boolean;
  };

/**
 * The real router with xDS, and its HTTP API unless `http: false`, on free loopback ports: no
 * traffic policies, quiet, its own metrics registry, unless the test gives them.
 */
export function startLoopbackRouter(options: LoopbackRouterOptions): Promise<RunningRouter> {
  const { http = true, ...given } = options;
  return startRouter({
    policies: new InMemoryTrafficPolicyStore(),
    logger: silentLogger(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    xdsAddress: '127.0.0.1:0',
    ...(http ? { httpAddress: '127.0.0.1:0' } : {}),
    ...given,
  });
}

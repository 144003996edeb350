import { formatCatalogSummary, startFederation } from '@spillway/federation';
import { createLogger, createMetricsRegistry } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { type RunningRouter, registerXdsClientRoutes, startRouter } from '@spillway/router';
import { loadConfigOrDefault } from '../load-config.js';
import { stopOnSignals } from '../shutdown.js';

export interface UpOptions {
  readonly config?: string;
  readonly listen?: string;
  readonly xds?: string;
}

/**
 * `spillway up`: every service in one process (embedded mode) — the federation's catalog
 * feeds the router in memory, traffic policies live in memory, one HTTP server serves all APIs.
 */
export async function up(options: UpOptions): Promise<void> {
  const config = await loadConfigOrDefault(options.config);
  const logger = createLogger('spillway');
  const registry = createMetricsRegistry({ labels: { instance: 'embedded' } });
  const policies = new InMemoryTrafficPolicyStore();
  let router: RunningRouter | undefined;

  const federation = await startFederation({
    config,
    logger,
    registry,
    httpAddress: options.listen ?? config.listen.http,
    routes: [(app) => registerXdsClientRoutes(app, () => router?.clients() ?? [])],
  });
  try {
    router = await startRouter({
      catalog: federation.store,
      policies,
      xdsAddress: options.xds ?? config.listen.xds,
      logger,
      registry,
    });
  } catch (error) {
    await federation.stop();
    throw error;
  }
  const xdsHost = (options.xds ?? config.listen.xds).replace(/:\d+$/, '');
  process.stdout.write(
    `Spillway (embedded): ${config.clusters.length} cluster(s) from ${options.config ?? 'the embedded default config'}\n` +
      `  API      ${federation.url}/v1/services  ${federation.url}/v1/xds/clients\n` +
      `  metrics  ${federation.url}/metrics\n` +
      `  xDS      ${xdsHost}:${router.xdsPort}  (dial xds:///NAME.NS)\n`,
  );
  const print = () => process.stdout.write(`${formatCatalogSummary(federation.store.current())}\n`);
  federation.store.subscribe(print);
  if (federation.store.current().version > 0) print();

  const running = router;
  stopOnSignals(logger, async () => {
    await running.stop();
    await federation.stop();
  });
}

import { redisStores, startController } from '@spillway/controller';
import { createCatalogStore, type Federation, formatCatalogSummary, startFederation } from '@spillway/federation';
import { createLogger, createMetricsRegistry } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { type RunningRouter, registerXdsClientRoutes, startRouter } from '@spillway/router';
import { setUpAuth } from '../auth-setup.js';
import { loadConfigOrDefault } from '../load-config.js';
import { stopOnSignals } from '../shutdown.js';

export interface UpOptions {
  readonly config?: string;
  readonly listen?: string;
  readonly xds?: string;
  readonly prometheus?: string;
}

/**
 * `spillway up`: every service in one process (embedded mode) — the federation's catalog
 * feeds the router in memory, traffic policies live in memory, one HTTP server serves all APIs.
 */
export async function up(options: UpOptions): Promise<void> {
  const config = await loadConfigOrDefault(options.config);
  const logger = createLogger('spillway');
  const registry = createMetricsRegistry({ labels: { instance: 'embedded' } });
  // With a Redis URL, state, lease, jobs and policies live there (and survive this process).
  const stores = config.redis ? await redisStores(config.redis, { logger }) : undefined;
  const policies = stores?.traffic ?? new InMemoryTrafficPolicyStore();
  const httpAddress = options.listen ?? config.listen.http;
  const auth = await setUpAuth(config, httpAddress);
  const catalog = createCatalogStore(config, logger, registry);
  const controller = await startController({
    config,
    catalog,
    traffic: policies,
    ...(stores ? { stores } : {}),
    logger,
    registry,
    ...(options.prometheus ? { prometheusUrl: options.prometheus } : {}),
  });
  let router: RunningRouter | undefined;
  let federation: Federation;
  try {
    federation = await startFederation({
      config,
      logger,
      registry,
      store: catalog,
      httpAddress,
      hooks: [auth.register],
      routes: [(app) => registerXdsClientRoutes(app, () => router?.clients() ?? []), (app) => controller.routes(app)],
    });
  } catch (error) {
    await controller.stop();
    throw error;
  }
  try {
    router = await startRouter({
      catalog,
      policies,
      xdsAddress: options.xds ?? config.listen.xds,
      logger,
      registry,
    });
  } catch (error) {
    await controller.stop();
    await federation.stop();
    throw error;
  }
  const xdsHost = (options.xds ?? config.listen.xds).replace(/:\d+$/, '');
  process.stdout.write(
    `Spillway (embedded): ${config.clusters.length} cluster(s) from ${options.config ?? 'the embedded default config'}\n` +
      `  API      ${federation.url}/v1/services  ${federation.url}/v1/xds/clients\n` +
      `  metrics  ${federation.url}/metrics\n` +
      `  xDS      ${xdsHost}:${router.xdsPort}  (dial xds:///NAME.NS)\n` +
      `  bursts   ${federation.url}/v1/bursts  (${config.policies.length} burst polic${config.policies.length === 1 ? 'y' : 'ies'})\n` +
      `${auth.banner}\n`,
  );
  const print = () => process.stdout.write(`${formatCatalogSummary(federation.store.current())}\n`);
  federation.store.subscribe(print);
  if (federation.store.current().version > 0) print();

  const [runningRouter, runningFederation] = [router, federation];
  stopOnSignals(logger, async () => {
    await controller.stop();
    await runningRouter.stop();
    await runningFederation.stop();
  });
}

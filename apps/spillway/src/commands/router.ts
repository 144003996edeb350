import { RemoteCatalog } from '@spillway/catalog';
import { redisTrafficPolicies } from '@spillway/controller';
import { createLogger, createMetricsRegistry } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { startRouter } from '@spillway/router';
import { loadConfigOrDefault } from '../load-config.js';
import { stopOnSignals } from '../shutdown.js';

export interface RouterCommandOptions {
  readonly config?: string;
  readonly federation: string;
  readonly xds?: string;
  readonly listen: string;
}

/**
 * `spillway router`: the locality router as its own process, following a federation service's
 * change feed. It serves its last good catalog while the federation is unreachable.
 */
export async function router(options: RouterCommandOptions): Promise<void> {
  const config = await loadConfigOrDefault(options.config);
  const logger = createLogger('spillway-router');
  const catalog = new RemoteCatalog({ url: options.federation, logger });
  catalog.start();
  // With Redis, the router serves the policies the controller sets; alone, there are none.
  const shared = config.redis ? await redisTrafficPolicies(config.redis, logger) : undefined;
  const running = await startRouter({
    catalog,
    policies: shared?.policies ?? new InMemoryTrafficPolicyStore(),
    xdsAddress: options.xds ?? config.listen.xds,
    httpAddress: options.listen,
    logger,
    registry: createMetricsRegistry({ labels: { service: 'router' } }),
  });
  process.stdout.write(
    `Spillway router: following ${options.federation}\n` +
      `  xDS      port ${running.xdsPort}\n` +
      `  API      http://${options.listen.replace(/:\d+$/, '')}:${running.httpPort}/v1/xds/clients\n`,
  );
  stopOnSignals(logger, async () => {
    await running.stop();
    await catalog.stop();
    await shared?.close();
  });
}

import { formatCatalogSummary, startFederation } from '@spillway/federation';
import { createLogger, createMetricsRegistry } from '@spillway/observability';
import { httpTransport, refuseOpenFederation } from '../http-transport.js';
import { loadConfigOrDefault } from '../load-config.js';
import { stopOnSignals } from '../shutdown.js';

/** `spillway federation`: the federation service as its own process. */
export async function federation(options: { config?: string; listen?: string }): Promise<void> {
  const config = await loadConfigOrDefault(options.config);
  const logger = createLogger('spillway-federation');
  const registry = createMetricsRegistry({ process: 'federation' });
  const httpAddress = options.listen ?? config.listen.http;
  await refuseOpenFederation(config, httpAddress);
  const transport = await httpTransport(config, httpAddress, { logger, registry });
  const running = await startFederation({
    config,
    logger,
    registry,
    httpAddress,
    ...(transport.https ? { https: transport.https } : {}),
  });
  process.stdout.write(
    `Spillway federation: ${config.clusters.length} cluster(s)\n` +
      `  API      ${running.url}/v1/services  ${running.url}/v1/catalog/changes\n` +
      `  metrics  ${running.url}/metrics\n`,
  );
  running.store.subscribe((_change, snapshot) => process.stdout.write(`${formatCatalogSummary(snapshot)}\n`));
  stopOnSignals(logger, () => running.stop());
}

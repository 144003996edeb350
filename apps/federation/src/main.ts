import { ConfigError, embeddedDefaultConfig, loadConfigFile, type SpillwayConfig } from '@spillway/config';
import { createLogger } from '@spillway/observability';
import { Command } from 'commander';
import { startFederation } from './federation-service.js';
import { formatCatalogSummary } from './summary.js';

/** `spillway-federation [--config FILE]`: the federation service as its own process. */
async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('spillway-federation')
    .description('Merge Kubernetes, Consul, Nomad, EKS and static registries into one versioned catalog')
    .option('-c, --config <file>', 'config file (YAML); default: the embedded demo config')
    .option('--listen <host:port>', 'HTTP API address (overrides listen.http)')
    .parse(argv);
  const options = program.opts<{ config?: string; listen?: string }>();
  const logger = createLogger('spillway-federation');

  let config: SpillwayConfig;
  try {
    config = options.config ? await loadConfigFile(options.config) : embeddedDefaultConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`spillway: invalid config\n${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  const federation = await startFederation({
    config,
    logger,
    ...(options.listen ? { httpAddress: options.listen } : {}),
  });
  process.stdout.write(
    `Spillway federation: ${config.clusters.length} cluster(s) from ${options.config ?? 'the embedded default config'}\n` +
      `  API      ${federation.url}/v1/services  ${federation.url}/v1/clusters\n` +
      `  metrics  ${federation.url}/metrics\n`,
  );
  const unsubscribe = federation.store.subscribe((_change, snapshot) => {
    process.stdout.write(`${formatCatalogSummary(snapshot)}\n`);
  });
  if (federation.store.current().version > 0)
    process.stdout.write(`${formatCatalogSummary(federation.store.current())}\n`);

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    unsubscribe();
    await federation.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`spillway-federation: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

/**
 * One router process of the horizontal benchmark (router-horizontal.bench.ts): `startRouter`, as
 * `spillway router` runs it, following the federation at FEDERATION_URL through its HTTP change
 * feed (RemoteCatalog). It says `listening` with its xDS port once it holds the whole catalog,
 * answers `stats` with its own CPU and peak RSS, and stops on `stop` or when its parent goes.
 * Started by the benchmark through IPC; not meant to be run by hand.
 */
import { RemoteCatalog } from '@spillway/catalog';
import { createMetricsRegistry, silentLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { startRouter } from '@spillway/router';

export type RouterCommand = { readonly kind: 'stats' } | { readonly kind: 'stop' };
export type RouterReply =
  | { readonly kind: 'listening'; readonly port: number }
  | { readonly kind: 'stats'; readonly cpuMicros: number; readonly maxRssBytes: number; readonly streams: number }
  | { readonly kind: 'failed'; readonly error: string };

const reply = (message: RouterReply) => process.send?.(message);

async function main(): Promise<void> {
  const url = process.env['FEDERATION_URL'];
  const services = Number(process.env['BENCH_SERVICES_EXPECTED']);
  if (!url || !Number.isInteger(services)) throw new Error('FEDERATION_URL and BENCH_SERVICES_EXPECTED are required');
  const catalog = new RemoteCatalog({ url, waitSeconds: 30 });
  catalog.start();
  const deadline = Date.now() + 120_000;
  while (catalog.current().services.size < services) {
    if (Date.now() > deadline) throw new Error(`no full catalog from ${url} within 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const router = await startRouter({
    catalog,
    policies: new InMemoryTrafficPolicyStore(),
    xdsAddress: '127.0.0.1:0',
    logger: silentLogger(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    // As in the router benchmark: the periodic re-send (470 MB at 5,000 streams) is measured
    // there on its own, not left to fire in the middle of a fan-out.
    refreshIntervalMs: 3_600_000,
  });
  reply({ kind: 'listening', port: router.xdsPort });
  const stop = async () => {
    await router.stop();
    await catalog.stop();
    process.exit(0);
  };
  process.on('message', (command: RouterCommand) => {
    if (command.kind === 'stop') void stop();
    else {
      const cpu = process.cpuUsage();
      reply({
        kind: 'stats',
        cpuMicros: cpu.user + cpu.system,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        streams: router.clients().length,
      });
    }
  });
  // The benchmark owns this process: when it goes, so does the router.
  process.on('disconnect', () => process.exit(0));
}

main().catch((error: unknown) => {
  reply({ kind: 'failed', error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});

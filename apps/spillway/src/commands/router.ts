import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { RemoteCatalog } from '@spillway/catalog';
import { registerConsole } from '@spillway/console';
import { redisTrafficPolicies } from '@spillway/controller';
import { admitDrill, type DrillFile, DrillService, DrillWorld, registerDrillRoutes } from '@spillway/drill';
import { createLogger, createMetricsRegistry } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import {
  CatalogSnapshotWriter,
  RouterOverrides,
  type RunningRouter,
  seedFromSnapshotFile,
  startRouter,
} from '@spillway/router';
import { loopbackFor } from '../addresses.js';
import { setUpAuth } from '../auth-setup.js';
import { httpTransport, serviceClientTls } from '../http-transport.js';
import { loadConfigOrDefault } from '../load-config.js';
import { redisAccessFromConfig } from '../redis-access.js';
import { stopOnSignals } from '../shutdown.js';
import { loadReportingOption, preflightXdsPort, refuseDrillsOverMutualTls, xdsPortSecurity } from '../xds-exposure.js';

export interface RouterCommandOptions {
  readonly config?: string;
  readonly federation: string;
  readonly xds?: string;
  readonly listen: string;
}

/**
 * `spillway router`: the locality router as its own process, following a federation service's
 * change feed. It serves its last good catalog while the federation is unreachable; with
 * `router.snapshotFile` also across its own restarts. Until it has a catalog, xDS requests wait.
 * Live drills run here (`POST /v1/drills`): they act through this router's overrides only.
 */
export async function router(options: RouterCommandOptions): Promise<void> {
  const config = await loadConfigOrDefault(options.config);
  const xdsAddress = options.xds ?? config.listen.xds;
  await preflightXdsPort(config, xdsAddress);
  const logger = createLogger('spillway-router');
  const registry = createMetricsRegistry({ process: 'router' });
  const auth = await setUpAuth(config, options.listen);
  const transport = await httpTransport(config, options.listen, { logger, registry });
  const federationTls = serviceClientTls(config, options.federation, { logger, registry });
  const catalog = new RemoteCatalog({
    url: options.federation,
    logger,
    ...(federationTls ? { httpsAgent: federationTls } : {}),
  });
  const { snapshotFile, snapshotIntervalSeconds } = config.router;
  const snapshotNote = snapshotFile ? await seedFromSnapshotFile(catalog, snapshotFile, logger) : undefined;
  catalog.start();
  const snapshots = snapshotFile
    ? new CatalogSnapshotWriter({
        path: snapshotFile,
        catalog,
        federation: options.federation,
        intervalMs: snapshotIntervalSeconds * 1000,
        logger,
        registry,
      })
    : undefined;
  snapshots?.start();
  // With Redis, the router serves the policies the controller sets; alone, there are none.
  const shared = config.redis
    ? await redisTrafficPolicies(config.redis, logger, redisAccessFromConfig(config))
    : undefined;
  const overrides = new RouterOverrides({ logger: logger.child({ component: 'overrides' }) });
  let running: RunningRouter | undefined;
  let xdsTarget = '';
  const drills = new DrillService({
    logger,
    world: (mode) => {
      if (!running) throw new Error('the router is not serving yet');
      refuseDrillsOverMutualTls(config);
      return new DrillWorld(mode, { xdsAddress: xdsTarget, ...running.published, overrides });
    },
  });
  const admit = (drill: DrillFile) =>
    admitDrill(drill, {
      catalog,
      maxShare: (service) => config.policies.find((policy) => policy.service === service)?.maxShare,
    });
  running = await startRouter({
    catalog,
    policies: shared?.policies ?? new InMemoryTrafficPolicyStore(),
    overrides,
    xdsAddress,
    ...(config.security ? { security: config.security } : {}),
    ...xdsPortSecurity(config),
    ...loadReportingOption(config),
    ...(shared && config.loadReporting.enabled
      ? {
          fleetLoad: {
            sink: shared.loadBuckets,
            routerId: routerId(),
            intervalMs: config.loadReporting.publishIntervalSeconds * 1000,
          },
        }
      : {}),
    httpAddress: options.listen,
    httpPlugins: [
      auth.register,
      (app) => registerDrillRoutes(app, { drills, admit }),
      (app) => registerConsole(app, { pages: ['drills', 'xds'] }),
    ],
    ...(transport.https ? { https: transport.https } : {}),
    // Policies read from Redis: /readyz says so when Redis does not answer.
    ...(shared ? { readinessChecks: [shared.health] } : {}),
    logger,
    registry,
    catalogStatus: { freshness: () => catalog.freshness(), ...(snapshotNote ? { snapshotNote } : {}) },
  });
  xdsTarget = `${loopbackFor(xdsAddress)}:${running.xdsPort}`;
  const api = `${transport.scheme}://${options.listen.replace(/:\d+$/, '')}:${running.httpPort}`;
  process.stdout.write(
    `Spillway router: following ${options.federation}\n` +
      `  xDS      port ${running.xdsPort}\n` +
      `  console  ${api}/ui\n` +
      `  API      ${api}/v1/xds/clients  ${api}/v1/router/overrides\n` +
      `  drills   ${api}/v1/drills  (live drills: spillway drill run FILE --api ${api})\n` +
      `${auth.banner}\n`,
  );
  const started = running;
  stopOnSignals(logger, async () => {
    await drills.stop();
    await started.stop();
    overrides.stop();
    await catalog.stop();
    await snapshots?.stop();
    federationTls?.close();
    await shared?.close();
  });
}

/** This router process among the fleet's: the pod (host) name, and a suffix since a restart is a new process. */
function routerId(): string {
  return `${hostname()}-${randomBytes(4).toString('hex')}`;
}

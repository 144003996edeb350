import type { Denial } from '@spillway/auth';
import type { SpillwayConfig } from '@spillway/config';
import { registerConsole } from '@spillway/console';
import {
  type ControllerOptions,
  type ControllerStores,
  customResourcesKubeConfig,
  type RunningController,
  startController,
} from '@spillway/controller';
import {
  admitDrill,
  costOfBursts,
  type DrillFile,
  type DrillMode,
  DrillService,
  DrillWorld,
  registerDrillRoutes,
} from '@spillway/drill';
import { createCatalogStore, type Federation, startFederation } from '@spillway/federation';
import type { MeasuredLoad, TrafficPolicyReader, TrafficPolicyWriter } from '@spillway/model';
import type { Logger, Registry } from '@spillway/observability';
import {
  overriddenCatalog,
  overriddenPolicies,
  RouterOverrides,
  type RunningRouter,
  registerEdsRoutes,
  registerLoadRoutes,
  registerOverrideRoutes,
  registerXdsClientRoutes,
  startRouter,
} from '@spillway/router';
import { realTimeRangeQueries, type SimulatedFleet } from '@spillway/simulator';
import type { HttpsServing } from '@spillway/tls';
import type { FastifyInstance } from 'fastify';
import { loopbackFor } from './addresses.js';
import { DrillResources } from './drill-resources.js';
import { loadReportingOption, refuseDrillsOverMutualTls, xdsPortSecurity } from './xds-exposure.js';

export interface EmbeddedStackOptions {
  readonly config: SpillwayConfig;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly traffic: TrafficPolicyReader & TrafficPolicyWriter;
  readonly stores?: ControllerStores;
  /** The simulated world (sources, cloud adapters, Prometheus) instead of the config's clusters. */
  readonly fleet?: SimulatedFleet;
  readonly prometheusUrl?: string;
  readonly httpAddress: string;
  readonly xdsAddress: string;
  /** Installs authentication on the shared HTTP server; refused requests go to `onDenied`. */
  readonly auth: (app: FastifyInstance, onDenied?: (denial: Denial) => void) => void;
  /** Serve the shared API over HTTPS only, with these (watched) certificate files. */
  readonly https?: HttpsServing;
}

/** Federation, controller and router in one process, with one HTTP server for every API. */
export interface EmbeddedStack {
  readonly federation: Federation;
  readonly controller: RunningController;
  readonly drills: DrillService;
  readonly overrides: RouterOverrides;
  /** Why a drill may not run here (unknown target, a forced share above maxShare), or undefined. */
  admit(drill: DrillFile): string | undefined;
  readonly xdsPort: number;
  /** `host:port` a local client dials for xDS. */
  readonly xdsTarget: string;
  router(): RunningRouter;
  /** Stops the router, waits, starts it again on the same port (drills). */
  restartRouter(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the embedded stack. The router publishes from the catalog and policies as router
 * overrides (drills) shape them; the controller sees the catalog unshaped, and the simulated
 * fleet, when there is one, feels the shares the router actually publishes.
 */
export async function startEmbeddedStack(options: EmbeddedStackOptions): Promise<EmbeddedStack> {
  const { config, logger, registry, fleet } = options;
  const catalog = createCatalogStore(config, logger, registry);
  const overrides = new RouterOverrides({ logger: logger.child({ component: 'overrides' }), registry });
  const routerCatalog = overriddenCatalog(catalog, overrides);
  const routerPolicies = overriddenPolicies(options.traffic, overrides);
  fleet?.useTraffic(routerPolicies);
  const controller = await startController({
    config,
    catalog,
    traffic: options.traffic,
    ...(options.stores ? { stores: options.stores } : {}),
    logger,
    registry,
    ...(fleet
      ? {
          adapters: fleet.adapters,
          prometheusUrl: fleet.prometheusUrl,
          // The fleet's Prometheus answers on its faster clock (another --prometheus is real).
          ...(options.prometheusUrl ? {} : { rangeQueries: simulatedRangeQueries(fleet) }),
          tickMs: 200,
          capacityTtlMs: 500,
        }
      : {}),
    ...(options.prometheusUrl ? { prometheusUrl: options.prometheusUrl } : {}),
    // In-process: the router started below (and again after a router-restart drill action).
    ...(config.loadReporting.enabled
      ? { measuredLoad: { measuredLoad: async (s, w) => inProcessLoad(router, s, w) } }
      : {}),
  });
  let router: RunningRouter | undefined;
  let xdsTarget = '';
  const drills = new DrillService({
    logger,
    world: (mode: DrillMode) => {
      refuseDrillsOverMutualTls(config);
      return new DrillWorld(mode, {
        xdsAddress: xdsTarget,
        catalog: routerCatalog,
        policies: routerPolicies,
        overrides,
        ...(fleet ? { fleet } : {}),
        ...(fleet?.pki ? { probeIdentity: fleet.pki.probeFiles } : {}),
        restartRouter: (downMs) => restart(downMs),
        measuredLoad: (service, windowSeconds) => router?.measuredLoad(service, windowSeconds),
        burstCost: async (service, sinceMs, untilMs) => {
          const { bursts } = await controller.stores.bursts.page({ service, limit: 100 });
          return costOfBursts(bursts, sinceMs, untilMs);
        },
      });
    },
  });
  const admit = (drill: DrillFile) =>
    admitDrill(drill, {
      catalog,
      maxShare: (service) => controller.policies.get(service)?.maxShare,
      meshMtls: fleet?.pki !== undefined,
    });
  let federation: Federation;
  try {
    federation = await startFederation({
      config,
      logger,
      registry,
      apiTitle: 'Spillway API (embedded: federation, controller and router)',
      store: catalog,
      ...(fleet ? { sources: fleet.sources } : {}),
      httpAddress: options.httpAddress,
      ...(options.https ? { https: options.https } : {}),
      hooks: [(app) => options.auth(app, controller.onDenied)],
      readiness: controller.readiness,
      routes: [
        (app) => registerXdsClientRoutes(app, () => router?.clients() ?? []),
        (app) => registerLoadRoutes(app, () => router),
        (app) => registerOverrideRoutes(app, overrides),
        (app) => registerDrillRoutes(app, { drills, admit }),
        (app) => controller.routes(app),
        (app) => registerEdsRoutes(app, { catalog: () => routerCatalog, policies: () => routerPolicies }),
        (app) => registerConsole(app, { pages: ['bursts', 'drills', 'fleet', 'services', 'xds'] }),
      ],
    });
  } catch (error) {
    await controller.stop();
    throw error;
  }
  const startOn = (xdsAddress: string) =>
    startRouter({
      catalog: routerCatalog,
      policies: routerPolicies,
      xdsAddress,
      ...(config.security ? { security: config.security } : {}),
      ...xdsPortSecurity(config),
      ...loadReportingOption(config),
      logger,
      registry,
    });
  try {
    router = await startOn(options.xdsAddress);
  } catch (error) {
    await controller.stop();
    await federation.stop();
    throw error;
  }
  const drillResources = watchDrills(options, drills, admit, controller);
  const xdsPort = router.xdsPort;
  xdsTarget = `${loopbackFor(options.xdsAddress)}:${xdsPort}`;
  const restart = async (downMs: number) => {
    await router?.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    router = await startOn(options.xdsAddress.replace(/:\d+$/, `:${xdsPort}`));
  };
  return {
    federation,
    controller,
    drills,
    overrides,
    admit,
    xdsPort,
    xdsTarget,
    router: () => router!,
    restartRouter: restart,
    async stop() {
      await drillResources?.stop();
      await drills.stop();
      await controller.stop();
      await router?.stop();
      await federation.stop();
      overrides.stop();
      routerCatalog.stop();
      routerPolicies.stop();
    },
  };
}

/** Drill resources through this stack's drill service, when `customResources.drills` is on. */
function watchDrills(
  options: EmbeddedStackOptions,
  drills: DrillService,
  admit: (drill: DrillFile) => string | undefined,
  controller: RunningController,
): DrillResources | undefined {
  const settings = options.config.customResources;
  if (!settings?.drills) return undefined;
  const resources = new DrillResources({
    kubeConfig: customResourcesKubeConfig(settings),
    namespace: settings.namespace,
    drills,
    admit,
    isLeader: () => controller.controller.isLeader(),
    owner: controller.controller.owner,
    logger: options.logger,
    intervalMs: settings.statusIntervalSeconds * 1000,
  });
  resources.start();
  return resources;
}

/** The measured load from the router in this process; an error while it is restarting. */
function inProcessLoad(router: RunningRouter | undefined, service: string, windowSeconds: number): MeasuredLoad {
  const load = router?.measuredLoad(service, windowSeconds);
  if (!load) throw new Error('the router is not running: no measured load');
  return load;
}

/** The fleet's Prometheus answers on its own, faster clock: the controller's range queries are translated. */
function simulatedRangeQueries(fleet: SimulatedFleet): NonNullable<ControllerOptions['rangeQueries']> {
  return (client) => realTimeRangeQueries(client, fleet.clock);
}

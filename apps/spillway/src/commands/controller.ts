import { API_VERSION, operationalRouteOptions, registerOpenApi } from '@spillway/api';
import { RemoteCatalog } from '@spillway/catalog';
import type { SpillwayConfig } from '@spillway/config';
import { registerConsole } from '@spillway/console';
import {
  alertBookLimits,
  customResourcesKubeConfig,
  describeChange,
  FleetMeasuredLoad,
  type RedisControllerStores,
  RemoteMeasuredLoad,
  type RunningController,
  redisStores,
  startController,
} from '@spillway/controller';
import type { MeasuredLoadReader } from '@spillway/model';
import {
  createLogger,
  createMetricsRegistry,
  enforceHttpLimits,
  httpServerOptions,
  installProblemHandlers,
  type Logger,
  registerOperationalRoutes,
} from '@spillway/observability';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { setUpAuth } from '../auth-setup.js';
import { reloadConfigOnChange } from '../config-reload.js';
import { DrillRefusal } from '../drill-refusal.js';
import { httpTransport, serviceClientTls } from '../http-transport.js';
import { CliError, loadConfigOrDefault } from '../load-config.js';
import { describePolicyCount } from '../policy-count.js';
import { redisAccessFromConfig } from '../redis-access.js';
import { stopOnSignals } from '../shutdown.js';

export interface ControllerCommandOptions {
  readonly config?: string;
  readonly federation: string;
  readonly listen: string;
  readonly prometheus?: string;
  /**
   * Deprecated: one router's API, whose `GET /v1/load` is then the measured load (that router's
   * clients only). Without it the controller sums every router's load from Redis.
   */
  readonly router?: string;
}

/**
 * `spillway controller`: the burst controller as its own process (distributed mode). It needs
 * Redis: state, lease and jobs live there, so several controllers can run and one decides.
 */
export async function controller(options: ControllerCommandOptions): Promise<void> {
  const config = await loadConfigOrDefault(options.config);
  if (!config.redis)
    throw new CliError('spillway controller needs redis: set redis: in the config or SPILLWAY_REDIS_URL', 2);
  const logger = createLogger('spillway-controller');
  const registry = createMetricsRegistry({ process: 'controller' });
  const auth = await setUpAuth(config, options.listen);
  const transport = await httpTransport(config, options.listen, { logger, registry });
  const access = redisAccessFromConfig(config);
  const federationTls = serviceClientTls(config, options.federation, { logger, registry });
  const catalog = new RemoteCatalog({
    url: options.federation,
    logger,
    ...(federationTls ? { httpsAgent: federationTls } : {}),
  });
  catalog.start();
  const stores = await redisStores(config.redis, {
    logger,
    access,
    alerts: alertBookLimits(config),
    retention: config.retention,
    controller: config.controller,
  });
  const routerTls = options.router ? serviceClientTls(config, options.router, { logger, registry }) : undefined;
  const measuredLoad = config.loadReporting.enabled
    ? measuredLoadReader(options.router, stores, routerTls, logger)
    : undefined;
  const running = await startController({
    config,
    ...(measuredLoad ? { measuredLoad } : {}),
    catalog,
    traffic: stores.traffic,
    stores,
    logger,
    registry,
    ...(options.prometheus ? { prometheusUrl: options.prometheus } : {}),
  });
  const drillRefusal = refuseDrills(config, running, logger);
  const httpLogger: FastifyBaseLogger = logger.child({ component: 'http' });
  const app: FastifyInstance = enforceHttpLimits(
    Fastify({
      ...httpServerOptions(),
      loggerInstance: httpLogger,
      ...(transport.https ? { serverFactory: transport.https.serverFactory } : {}),
    }),
  );
  installProblemHandlers(app);
  registerOpenApi(app, { title: 'Spillway controller API', version: API_VERSION });
  auth.register(app, running.onDenied);
  registerOperationalRoutes(app, { registry, checks: running.readiness, routeOptions: operationalRouteOptions });
  running.routes(app);
  registerConsole(app, { pages: ['bursts'] });
  const separator = options.listen.lastIndexOf(':');
  await app.listen({
    host: options.listen.slice(0, separator),
    port: Number(options.listen.slice(separator + 1)),
    listenTextResolver: (text) => `Server listening at ${text.replace(/^https?:/, `${transport.scheme}:`)}`,
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // Watched before the banner: an edit made once the banner is out is never missed.
  const stopReloads = options.config ? await reloadConfigOnChange(options.config, running, logger) : undefined;
  const policies = () => describePolicies(config, running);
  process.stdout.write(
    `Spillway controller (${running.controller.owner}): following ${options.federation}, state in Redis\n` +
      `  console  ${transport.scheme}://${options.listen.slice(0, separator)}:${port}/ui\n` +
      `  API      ${transport.scheme}://${options.listen.slice(0, separator)}:${port}/v1/bursts\n` +
      `  policies ${policies()}\n` +
      `${auth.banner}\n`,
  );
  logger.info({ policies: policies() }, 'burst policies in force');
  // A reload or a BurstPolicy resource changes the set the banner named: say so, as `spillway up` does.
  const stopPolicyLines = running.policies.subscribe((change) => {
    const changed = describeChange(change);
    process.stdout.write(`  policies ${policies()}  (${changed})\n`);
    logger.info({ policies: policies(), change: changed }, 'burst policies in force changed');
  });
  stopOnSignals(logger, async () => {
    stopReloads?.();
    stopPolicyLines();
    await app.close();
    await drillRefusal?.stop();
    await running.stop();
    await catalog.stop();
    federationTls?.close();
    routerTls?.close();
  });
}

/** The policies in force (the file's and BurstPolicy resources'), counted, and named when few. */
function describePolicies(config: SpillwayConfig, running: RunningController): string {
  const services = running.policies.current().map((policy) => policy.service);
  return describePolicyCount(running.policies.counts(), config.customResources !== undefined, services);
}

/**
 * The measured load the controller acts on: every router's, summed from Redis, where each router
 * publishes what its clients report. `--router URL` still reads that one router's `GET /v1/load`,
 * which with several routers is only its clients' share of the load.
 */
function measuredLoadReader(
  router: string | undefined,
  stores: RedisControllerStores,
  routerTls: ReturnType<typeof serviceClientTls>,
  logger: Logger,
): MeasuredLoadReader {
  if (!router) return new FleetMeasuredLoad(stores.loadBuckets);
  logger.warn(
    { router },
    '--router is deprecated: the measured load is then that one router’s clients only; without it the controller sums every router’s load from Redis',
  );
  return new RemoteMeasuredLoad(router, routerTls);
}

/**
 * With `customResources.drills` on, Drill objects are answered (status Error, a Warning event):
 * this process has no drill service, and an unanswered Drill would look like one still waiting.
 */
function refuseDrills(config: SpillwayConfig, running: RunningController, logger: Logger): DrillRefusal | undefined {
  const settings = config.customResources;
  if (!settings?.drills) return undefined;
  const refusal = new DrillRefusal({
    kubeConfig: customResourcesKubeConfig(settings),
    namespace: settings.namespace,
    isLeader: () => running.controller.isLeader(),
    owner: running.controller.owner,
    logger,
    intervalMs: settings.statusIntervalSeconds * 1000,
  });
  refusal.start();
  return refusal;
}

import type { CatalogReader, MeshSecurity, ProximityRing, ServiceKey, TrafficPolicyReader } from '@spillway/model';
import type { Logger, ReadinessCheck, Registry } from '@spillway/observability';
import type { HttpsServing } from '@spillway/tls';
import {
  DEFAULT_XDS_ADDRESS,
  type LoadReportingOptions,
  type XdsAuthorizationRule,
  type XdsClientInfo,
  XdsServer,
  type XdsTlsOptions,
} from '@spillway/xds';
import type { FastifyInstance } from 'fastify';
import { catalogReadiness, type FollowedCatalogStatus, registerCatalogAgeMetric } from './catalog-freshness.js';
import { FleetLoadPublisher, type LoadBucketSink } from './fleet-load-publisher.js';
import type { LoadSource } from './load-routes.js';
import { overriddenCatalog, overriddenPolicies } from './overrides/overridden-readers.js';
import type { RouterOverrides } from './overrides/router-overrides.js';
import { buildRouterHttpServer } from './router-http-server.js';

export interface RouterOptions {
  readonly catalog: CatalogReader;
  readonly policies: TrafficPolicyReader;
  /** `host:port` for ADS; default 127.0.0.1:18000, port 0 for any free port. */
  readonly xdsAddress?: string;
  /** Mutual TLS on the xDS port (`tls.xds`); plaintext without it. */
  readonly xdsTls?: XdsTlsOptions;
  /** `xdsAuthorization.rules`: which identities may claim which localities and watch which services. */
  readonly xdsAuthorization?: readonly XdsAuthorizationRule[];
  /** `host:port` for the HTTP API; no HTTP server when absent (embedded mode shares one). */
  readonly httpAddress?: string;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly proximity?: (service: ServiceKey) => readonly ProximityRing[] | undefined;
  /** Service-to-service mTLS published through xDS (config `security:`). */
  readonly security?: MeshSecurity;
  /**
   * Drains and forced shares applied to what the router publishes (and listed on
   * `GET /v1/router/overrides`). The caller owns it: `stop()` leaves it running, so overrides
   * survive a router restart.
   */
  readonly overrides?: RouterOverrides;
  /** Installed on the HTTP server before its routes (authentication, the drill API). */
  readonly httpPlugins?: readonly ((app: FastifyInstance) => void)[];
  /** Serve the HTTP API over HTTPS only, with these (watched) certificate files. */
  readonly https?: HttpsServing;
  /** For a catalog followed from a federation: its age and origin in `/readyz` and a metric. */
  readonly catalogStatus?: FollowedCatalogStatus;
  /** More `/readyz` checks, e.g. the Redis the policies come from (every /readyz covers what the process reads). */
  readonly readinessChecks?: readonly ReadinessCheck[];
  /** LRS on the xDS port (config `loadReporting`); absent: no load reports, `GET /v1/load` is a 404. */
  readonly loadReporting?: LoadReportingOptions;
  /**
   * Distributed mode: publish what clients report (LRS) for the controller to sum over every
   * router (FleetLoadPublisher). Needs `loadReporting`.
   */
  readonly fleetLoad?: { readonly sink: LoadBucketSink; readonly routerId: string; readonly intervalMs: number };
  /** How often every assignment is re-sent (XdsServerOptions.refreshIntervalMs); default 60 s. */
  readonly refreshIntervalMs?: number;
}

export interface RunningRouter extends LoadSource {
  readonly xdsPort: number;
  readonly httpPort?: number;
  /** What the router publishes from: the catalog and policies with the overrides applied. */
  readonly published: { readonly catalog: CatalogReader; readonly policies: TrafficPolicyReader };
  clients(): XdsClientInfo[];
  /** Ends every xDS stream, then closes both servers. */
  stop(): Promise<void>;
}

/** Starts the locality router: the xDS server and, if asked, its HTTP server. */
export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const overrides = options.overrides;
  const catalog = overrides ? overriddenCatalog(options.catalog, overrides) : undefined;
  const policies = overrides ? overriddenPolicies(options.policies, overrides) : undefined;
  const published = { catalog: catalog ?? options.catalog, policies: policies ?? options.policies };
  const stopReaders = () => {
    catalog?.stop();
    policies?.stop();
  };
  const xds = new XdsServer({
    catalog: catalog ?? options.catalog,
    policies: policies ?? options.policies,
    logger: options.logger.child({ component: 'xds' }),
    registry: options.registry,
    ...(options.proximity ? { proximity: options.proximity } : {}),
    ...(options.security ? { security: options.security } : {}),
    ...(options.xdsTls ? { tls: options.xdsTls } : {}),
    ...(options.xdsAuthorization ? { authorization: options.xdsAuthorization } : {}),
    ...(options.loadReporting ? { loadReporting: options.loadReporting } : {}),
    ...(options.refreshIntervalMs ? { refreshIntervalMs: options.refreshIntervalMs } : {}),
  });
  const load: LoadSource = {
    measuredLoad: (service, windowSeconds) => xds.measuredLoad(service, windowSeconds),
    hasService: (service) => published.catalog.current().services.has(service),
  };
  if (options.catalogStatus) registerCatalogAgeMetric(options.registry, options.catalogStatus);
  let xdsPort: number;
  try {
    xdsPort = await xds.listen(options.xdsAddress ?? DEFAULT_XDS_ADDRESS);
  } catch (error) {
    stopReaders();
    throw error;
  }
  const publisher = fleetLoadPublisher(options, xds, () => published.catalog.current().services.keys());
  publisher?.start();
  const stopServing = async () => {
    await publisher?.stop();
    await xds.stop();
    stopReaders();
  };
  if (!options.httpAddress) {
    return { ...load, xdsPort, published, clients: () => xds.clients(), stop: stopServing };
  }
  const http = buildRouterHttpServer({
    logger: options.logger.child({ component: 'http' }),
    registry: options.registry,
    checks: [catalogReadiness(options.catalog, options.catalogStatus), ...(options.readinessChecks ?? [])],
    clients: () => xds.clients(),
    load,
    eds: {
      catalog: () => published.catalog,
      policies: () => published.policies,
      ...(options.proximity ? { proximity: options.proximity } : {}),
    },
    ...(overrides ? { overrides } : {}),
    ...(options.httpPlugins ? { plugins: options.httpPlugins } : {}),
    ...(options.https ? { https: options.https } : {}),
  });
  const { host, port } = parseAddress(options.httpAddress);
  try {
    const scheme = options.https ? 'https' : 'http';
    await http.listen({
      host,
      port,
      listenTextResolver: (text) => `Server listening at ${text.replace(/^https?:/, `${scheme}:`)}`,
    });
  } catch (error) {
    await stopServing();
    throw error;
  }
  const address = http.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : port;
  return {
    ...load,
    xdsPort,
    httpPort,
    published,
    clients: () => xds.clients(),
    stop: async () => {
      await stopServing();
      await http.close();
    },
  };
}

function fleetLoadPublisher(
  options: RouterOptions,
  xds: XdsServer,
  services: () => Iterable<string>,
): FleetLoadPublisher | undefined {
  const { fleetLoad, loadReporting } = options;
  if (!fleetLoad || !loadReporting) return undefined;
  return new FleetLoadPublisher({
    ...fleetLoad,
    measured: (service, windowSeconds, at) => xds.measuredLoad(service, windowSeconds, at),
    services,
    reportIntervalSeconds: loadReporting.intervalSeconds,
    logger: options.logger.child({ component: 'fleet-load' }),
    registry: options.registry,
  });
}

function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid address "${address}": expected host:port`);
  }
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

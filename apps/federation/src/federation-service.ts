import { API_VERSION, type OpenApiRegistration, operationalRouteOptions, registerOpenApi } from '@spillway/api';
import { CatalogStore } from '@spillway/catalog';
import type { SpillwayConfig } from '@spillway/config';
import type { RegistrySource } from '@spillway/model';
import {
  createMetricsRegistry,
  enforceHttpLimits,
  httpServerOptions,
  installProblemHandlers,
  type Logger,
  type ReadinessCheck,
  type Registry,
  registerOperationalRoutes,
} from '@spillway/observability';
import { createSource } from '@spillway/sources';
import type { HttpsServing } from '@spillway/tls';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerCatalogRoutes } from './http/catalog-routes.js';

export interface FederationOptions {
  readonly config: SpillwayConfig;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** The catalog to fill; default: a new one (embedded mode builds it first to share it). */
  readonly store?: CatalogStore;
  /** Sources to federate; default: one per configured cluster. */
  readonly sources?: readonly RegistrySource[];
  /** `host:port` for the HTTP API; default config.listen.http. Port 0 picks a free port. */
  readonly httpAddress?: string;
  /** More readiness checks for `/readyz` (embedded mode: the controller's Redis). */
  readonly readiness?: readonly ReadinessCheck[];
  /** Hooks installed before any route (authentication). */
  readonly hooks?: readonly ((app: FastifyInstance) => void)[];
  /** More routes on the same HTTP server (embedded mode mounts the other services' APIs). */
  readonly routes?: readonly ((app: FastifyInstance) => void)[];
  /** Serve the API over HTTPS only, with these (watched) certificate files. */
  readonly https?: HttpsServing;
  /** The title of GET /openapi.json (embedded mode serves every service's routes). */
  readonly apiTitle?: string;
}

export interface Federation {
  readonly store: CatalogStore;
  readonly url: string;
  readonly app: FastifyInstance;
  /** The routes this server registered and its OpenAPI document. */
  readonly openApi: OpenApiRegistration;
  stop(): Promise<void>;
}

/**
 * The federation service: starts every source, merges what they report into the catalog and
 * serves it over HTTP. A source that fails to start is reported as failing, not fatal: the
 * other sites still need their catalog.
 */
export async function startFederation(options: FederationOptions): Promise<Federation> {
  const { config, logger } = options;
  const registry = options.registry ?? createMetricsRegistry({ process: 'federation' });
  const store = options.store ?? createCatalogStore(config, logger, registry);
  const sources = options.sources ?? config.clusters.map((cluster) => createSource(cluster, { logger }));
  const staleAfter = new Map(config.clusters.map((cluster) => [cluster.name, cluster.staleAfterSeconds]));
  for (const source of sources) {
    const seconds = staleAfter.get(source.name);
    const sink = store.attach({ ...describe(source), ...(seconds ? { staleAfterMs: seconds * 1000 } : {}) });
    source.start(sink).catch((error: Error) => sink.failed(error));
  }

  // pino's Logger is a FastifyBaseLogger; naming the base type keeps FastifyInstance's default generics.
  const httpLogger: FastifyBaseLogger = logger.child({ component: 'http' });
  const app: FastifyInstance = enforceHttpLimits(
    Fastify({
      ...httpServerOptions(),
      loggerInstance: httpLogger,
      ...(options.https ? { serverFactory: options.https.serverFactory } : {}),
    }),
  );
  installProblemHandlers(app);
  // Before any route: it collects them as they are registered.
  const openApi = registerOpenApi(app, { title: options.apiTitle ?? 'Spillway federation API', version: API_VERSION });
  for (const install of options.hooks ?? []) install(app);
  registerOperationalRoutes(app, {
    registry,
    checks: [{ name: 'sources-synced', check: () => syncedCheck(store) }, ...(options.readiness ?? [])],
    routeOptions: operationalRouteOptions,
  });
  registerCatalogRoutes(app, store);
  for (const register of options.routes ?? []) register(app);
  const url = await listen(app, options.httpAddress ?? config.listen.http, options.https ? 'https' : 'http');

  return {
    store,
    url,
    app,
    openApi,
    async stop() {
      await Promise.allSettled(sources.map((source) => source.stop()));
      store.close();
      await app.close();
    },
  };
}

/**
 * The catalog as the config describes it (grace period, history, initial sync), with its
 * metrics. Its first version waits for every source (see CatalogStoreOptions.initialSyncMs).
 */
export function createCatalogStore(config: SpillwayConfig, logger: Logger, registry: Registry): CatalogStore {
  return new CatalogStore({
    staleAfterMs: config.federation.staleAfterSeconds * 1000,
    historySize: config.federation.changeHistory,
    initialSyncMs: config.federation.initialSyncSeconds * 1000,
    logger: logger.child({ component: 'catalog' }),
    registry,
  });
}

function describe(source: RegistrySource) {
  return { name: source.name, kind: source.kind, environment: source.environment, region: source.region };
}

function syncedCheck(store: CatalogStore) {
  const waiting = store
    .sourceStatuses()
    .filter((status) => status.lastSyncAt === null)
    .map((status) => status.name);
  return waiting.length === 0 ? { ready: true } : { ready: false, detail: `waiting for ${waiting.join(', ')}` };
}

/** Listens on `host:port` and returns the base URL (`scheme://host:port`) with the port actually bound. */
export async function listen(
  app: FastifyInstance,
  address: string,
  scheme: 'http' | 'https' = 'http',
): Promise<string> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(separator + 1));
  // Fastify names the scheme from its `https` option, which a server factory does not set.
  await app.listen({
    host,
    port,
    listenTextResolver: (text) => `Server listening at ${text.replace(/^https?:/, `${scheme}:`)}`,
  });
  const bound = app.server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
}

import {
  API_VERSION,
  type OverridesResponse,
  operationalRouteOptions,
  RouterOverridesRoute,
  registerOpenApi,
  routeOptions,
  XdsClientsRoute,
} from '@spillway/api';
import {
  enforceHttpLimits,
  httpServerOptions,
  installProblemHandlers,
  type Logger,
  type ReadinessCheck,
  type Registry,
  registerOperationalRoutes,
} from '@spillway/observability';
import type { HttpsServing } from '@spillway/tls';
import type { XdsClientInfo } from '@spillway/xds';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { type EdsRouteOptions, registerEdsRoutes } from './eds-routes.js';
import { type LoadSource, registerLoadRoutes } from './load-routes.js';
import type { RouterOverrides } from './overrides/router-overrides.js';

export interface RouterHttpOptions {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly checks: readonly ReadinessCheck[];
  readonly clients: () => readonly XdsClientInfo[];
  /** `GET /v1/load`: what clients reported over LRS. */
  readonly load?: LoadSource;
  /** What the router publishes from, for `GET /v1/services/{ns}/{name}/eds`. */
  readonly eds?: EdsRouteOptions;
  /** When given, `GET /v1/router/overrides` lists the overrides in force. */
  readonly overrides?: RouterOverrides;
  /** Installed first: authentication hooks, then extra routes (the drill API). */
  readonly plugins?: readonly ((app: FastifyInstance) => void)[];
  /** Serve HTTPS only, with these (watched) certificate files. */
  readonly https?: HttpsServing;
}

/** The router's HTTP face: operational routes and the xDS clients view. */
export function buildRouterHttpServer(options: RouterHttpOptions): FastifyInstance {
  // Widened to Fastify's logger interface so the instance has Fastify's default type parameters.
  const app = enforceHttpLimits(
    Fastify({
      ...httpServerOptions(),
      loggerInstance: options.logger as FastifyBaseLogger,
      ...(options.https ? { serverFactory: options.https.serverFactory } : {}),
    }),
  );
  installProblemHandlers(app);
  registerOpenApi(app, { title: 'Spillway router API', version: API_VERSION });
  for (const plugin of options.plugins ?? []) plugin(app);
  registerOperationalRoutes(app, {
    registry: options.registry,
    checks: options.checks,
    routeOptions: operationalRouteOptions,
  });
  registerXdsClientRoutes(app, options.clients);
  registerLoadRoutes(app, () => options.load);
  if (options.overrides) registerOverrideRoutes(app, options.overrides);
  if (options.eds) registerEdsRoutes(app, options.eds);
  return app;
}

/** `GET /v1/xds/clients`; embedded mode mounts it on the one shared HTTP server. */
export function registerXdsClientRoutes(app: FastifyInstance, clients: () => readonly XdsClientInfo[]): void {
  app.get(XdsClientsRoute.url, routeOptions(XdsClientsRoute), async () => ({ clients: clients() }));
}

/** `GET /v1/router/overrides`: the drains and forced shares in force, with owner and deadline. */
export function registerOverrideRoutes(app: FastifyInstance, overrides: RouterOverrides): void {
  app.get(
    RouterOverridesRoute.url,
    routeOptions(RouterOverridesRoute),
    async () => ({ overrides: overrides.list() }) satisfies OverridesResponse,
  );
}

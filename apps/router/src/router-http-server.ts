import {
  installProblemHandlers,
  type Logger,
  type ReadinessCheck,
  type Registry,
  registerOperationalRoutes,
} from '@spillway/observability';
import type { XdsClientInfo } from '@spillway/xds';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';

export interface RouterHttpOptions {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly checks: readonly ReadinessCheck[];
  readonly clients: () => readonly XdsClientInfo[];
}

/** The router's HTTP face: operational routes and the xDS clients view. */
export function buildRouterHttpServer(options: RouterHttpOptions): FastifyInstance {
  // Widened to Fastify's logger interface so the instance has Fastify's default type parameters.
  const app = Fastify({ loggerInstance: options.logger as FastifyBaseLogger });
  installProblemHandlers(app);
  registerOperationalRoutes(app, { registry: options.registry, checks: options.checks });
  registerXdsClientRoutes(app, options.clients);
  return app;
}

/** `GET /v1/xds/clients`; embedded mode mounts it on the one shared HTTP server. */
export function registerXdsClientRoutes(app: FastifyInstance, clients: () => readonly XdsClientInfo[]): void {
  app.get('/v1/xds/clients', async () => ({ clients: clients() }));
}

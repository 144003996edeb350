import type { FastifyInstance, RouteShorthandOptions } from 'fastify';
import type { Registry } from 'prom-client';

/** A named readiness condition; `detail` says what is missing when it is not ready. */
export interface ReadinessCheck {
  readonly name: string;
  check(): { ready: boolean; detail?: string };
}

/** Route options of the operational routes, by URL: their API contracts (packages/api `operationalRouteOptions`). */
export type OperationalRouteOptions = Readonly<
  Partial<Record<'/healthz' | '/readyz' | '/metrics', RouteShorthandOptions>>
>;

/**
 * `/healthz` answers while the process serves HTTP; `/readyz` only when every check passes
 * (503 with the failing checks otherwise); `/metrics` in Prometheus text format.
 */
export function registerOperationalRoutes(
  app: FastifyInstance,
  options: { registry: Registry; checks?: readonly ReadinessCheck[]; routeOptions?: OperationalRouteOptions },
): void {
  const routeOptions = options.routeOptions ?? {};
  app.get('/healthz', routeOptions['/healthz'] ?? {}, async () => ({ status: 'ok' }));
  app.get('/readyz', routeOptions['/readyz'] ?? {}, async (_request, reply) => {
    const results = (options.checks ?? []).map((check) => ({ name: check.name, ...check.check() }));
    const ready = results.every((result) => result.ready);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
  });
  app.get('/metrics', routeOptions['/metrics'] ?? {}, async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(body);
  });
}

import {
  CatalogChangesRoute,
  type CatalogDelta,
  ChangesQuery,
  GetServiceRoute,
  ListClustersRoute,
  ListServicesRoute,
  routeOptions,
  type ServiceSummary,
  ServicesQuery,
} from '@spillway/api';
import type { CatalogStore } from '@spillway/catalog';
import { parseServiceKey, type Service, serviceKey } from '@spillway/model';
import { sendProblem } from '@spillway/observability';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';

/** A row of GET /v1/services: enough to see where a service runs and how healthy it is. */
function summarize(service: Service): ServiceSummary {
  const environments = [...new Set(service.endpoints.map((e) => e.environment))].sort();
  const clusters = [...new Set(service.endpoints.map((e) => e.cluster))].sort();
  return {
    key: serviceKey(service.name, service.namespace),
    name: service.name,
    namespace: service.namespace,
    endpoints: service.endpoints.length,
    healthy: service.endpoints.filter((e) => e.health === 'healthy').length,
    environments,
    clusters,
  };
}

/** Read API of the federated catalog (contracts in packages/api). Reads are open: they are served on loopback by default. */
export function registerCatalogRoutes(app: FastifyInstance, store: CatalogStore): void {
  app.get(ListClustersRoute.url, routeOptions(ListClustersRoute), async () => {
    const snapshot = store.current();
    return { version: snapshot.version, clusters: snapshot.sources };
  });

  app.get(ListServicesRoute.url, routeOptions(ListServicesRoute), async (request, reply) => {
    const query = ServicesQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, query.error);
    const snapshot = store.current();
    const services = [...snapshot.services.values()]
      .filter((service) => !query.data.namespace || service.namespace === query.data.namespace)
      .map(summarize)
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    return { version: snapshot.version, services };
  });

  app.get<{ Params: { ns: string; name: string } }>(
    GetServiceRoute.url,
    routeOptions(GetServiceRoute),
    async (request, reply) => {
      const { ns, name } = request.params;
      const key = serviceKey(name, ns);
      const snapshot = store.current();
      const service = parseServiceKey(key) ? snapshot.services.get(key) : undefined;
      if (!service) {
        return sendProblem(reply, { title: 'Not Found', status: 404, detail: `no service ${key} in the catalog` });
      }
      return { version: snapshot.version, key, ...service };
    },
  );

  app.get(CatalogChangesRoute.url, routeOptions(CatalogChangesRoute), async (request, reply) => {
    const query = ChangesQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, query.error);
    const { wait, epoch } = query.data;
    // An index counted by another run (a restart, another replica) says nothing about this run's
    // history, even when this run is already past it: that follower starts from nothing.
    const index = epoch !== undefined && epoch !== store.epoch ? 0 : query.data.index;
    const abort = new AbortController();
    request.raw.once('close', () => abort.abort());
    const version = await store.waitForVersionAfter(index, wait, abort.signal);
    reply.header('X-Spillway-Index', String(version));
    return catalogDelta(store, index);
  });
}

/**
 * What a follower at `index` of this run needs to reach `version`: only the services that changed
 * when the history still covers it, everything (`reset: true`) when it does not or when index is 0.
 */
function catalogDelta(store: CatalogStore, index: number): CatalogDelta {
  const snapshot = store.current();
  const epoch = store.epoch;
  const since = index === 0 ? undefined : store.changesSince(index);
  if (!since) {
    return { index: snapshot.version, epoch, reset: true, services: [...snapshot.services.values()], removed: [] };
  }
  const services = [...since.changed].flatMap((key) => snapshot.services.get(key) ?? []);
  return { index: snapshot.version, epoch, reset: false, services, removed: [...since.removed] };
}

function badRequest(reply: Parameters<typeof sendProblem>[0], error: z.ZodError) {
  return sendProblem(reply, {
    title: 'Bad Request',
    status: 400,
    detail: error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`).join('; '),
  });
}

import type { CatalogStore } from '@spillway/catalog';
import { parseServiceKey, type Service, serviceKey } from '@spillway/model';
import { sendProblem } from '@spillway/observability';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

const MAX_WAIT_MS = 300_000;

/** Consul-style durations: `500ms`, `30s`, `5m`. */
const Duration = z
  .string()
  .regex(/^\d+(ms|s|m)$/, 'expected a duration such as 500ms, 30s or 5m')
  .transform((text) => {
    const value = Number.parseInt(text, 10);
    const unit = text.endsWith('ms') ? 1 : text.endsWith('s') ? 1000 : 60_000;
    return Math.min(value * unit, MAX_WAIT_MS);
  });

const ChangesQuery = z.strictObject({
  index: z.coerce.number().int().min(0).default(0),
  wait: Duration.default(30_000),
});

const ServicesQuery = z.strictObject({ namespace: z.string().optional() });

/** A row of GET /v1/services: enough to see where a service runs and how healthy it is. */
function summarize(service: Service) {
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

/** Read API of the federated catalog. Reads are open: they are served on loopback by default. */
export function registerCatalogRoutes(app: FastifyInstance, store: CatalogStore): void {
  app.get('/v1/clusters', async () => {
    const snapshot = store.current();
    return { version: snapshot.version, clusters: snapshot.sources };
  });

  app.get('/v1/services', async (request, reply) => {
    const query = ServicesQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, query.error);
    const snapshot = store.current();
    const services = [...snapshot.services.values()]
      .filter((service) => !query.data.namespace || service.namespace === query.data.namespace)
      .map(summarize)
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    return { version: snapshot.version, services };
  });

  app.get<{ Params: { ns: string; name: string } }>('/v1/services/:ns/:name', async (request, reply) => {
    const { ns, name } = request.params;
    const key = serviceKey(name, ns);
    const snapshot = store.current();
    const service = parseServiceKey(key) ? snapshot.services.get(key) : undefined;
    if (!service) {
      return sendProblem(reply, { title: 'Not Found', status: 404, detail: `no service ${key} in the catalog` });
    }
    return { version: snapshot.version, key, ...service };
  });

  app.get('/v1/catalog/changes', async (request, reply) => {
    const query = ChangesQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, query.error);
    const { index, wait } = query.data;
    const abort = new AbortController();
    request.raw.once('close', () => abort.abort());
    const version = await store.waitForVersionAfter(index, wait, abort.signal);
    reply.header('X-Spillway-Index', String(version));
    return catalogDelta(store, index);
  });
}

/**
 * What a follower at `index` needs to reach `version`: only the services that changed when the
 * history still covers it, everything (`reset: true`) when it does not or when index is 0.
 */
function catalogDelta(store: CatalogStore, index: number) {
  const snapshot = store.current();
  const since = index === 0 ? undefined : store.changesSince(index);
  if (!since) return { index: snapshot.version, reset: true, services: [...snapshot.services.values()], removed: [] };
  const services = [...since.changed].flatMap((key) => snapshot.services.get(key) ?? []);
  return { index: snapshot.version, reset: false, services, removed: [...since.removed] };
}

function badRequest(reply: Parameters<typeof sendProblem>[0], error: z.ZodError) {
  return sendProblem(reply, {
    title: 'Bad Request',
    status: 400,
    detail: error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`).join('; '),
  });
}

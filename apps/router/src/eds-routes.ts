import { routeOptions, ServiceEdsQuery, ServiceEdsRoute } from '@spillway/api';
import { computeLoadAssignment, type LoadAssignment } from '@spillway/eds';
import {
  type CatalogReader,
  type Environment,
  type Locality,
  localityKey,
  type ProximityRing,
  parseServiceKey,
  type ServiceKey,
  serviceKey,
  type TrafficPolicyReader,
} from '@spillway/model';
import { sendProblem } from '@spillway/observability';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';

/** At most this many client localities per answer (one view each). */
export const MAX_EDS_VIEWS = 64;

export interface EdsRouteOptions {
  /** What the router publishes from: the catalog and policies with overrides applied. */
  readonly catalog: () => CatalogReader;
  readonly policies: () => TrafficPolicyReader;
  readonly proximity?: (service: ServiceKey) => readonly ProximityRing[] | undefined;
}

/**
 * The ClusterLoadAssignment a client in a given locality gets for a service now, computed by the
 * same pure function the router's view cache calls (what `istioctl proxy-config endpoints`
 * shows, without needing a connected client). Read-only.
 */
export function registerEdsRoutes(app: FastifyInstance, options: EdsRouteOptions): void {
  app.get<{ Params: { ns: string; name: string } }>(
    ServiceEdsRoute.url,
    routeOptions(ServiceEdsRoute),
    async (request, reply) => {
      const query = ServiceEdsQuery.safeParse(request.query ?? {});
      if (!query.success) {
        const detail = query.error.issues
          .map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`)
          .join('; ');
        return sendProblem(reply, { title: 'Bad Request', status: 400, detail });
      }
      const key = serviceKey(request.params.name, request.params.ns);
      const snapshot = options.catalog().current();
      const service = parseServiceKey(key) ? snapshot.services.get(key) : undefined;
      if (!service)
        return sendProblem(reply, { title: 'Not Found', status: 404, detail: `no service ${key} in the catalog` });
      const policy = options.policies().get(key);
      const proximity = options.proximity?.(key);
      const clients = query.data.region !== undefined ? [requested(query.data)] : endpointLocalities(service.endpoints);
      const views = clients.slice(0, MAX_EDS_VIEWS).map((client) => {
        const assignment = computeLoadAssignment(service, client, policy, proximity ? { proximity } : {});
        return {
          client: { locality: client.locality, environment: assignment.clientEnvironment },
          ...present(assignment),
        };
      });
      return { service: key, catalogVersion: snapshot.version, policyShare: policy?.cloudShare ?? 0, views };
    },
  );
}

function requested(query: z.infer<typeof ServiceEdsQuery>): { locality: Locality; environment?: Environment } {
  return {
    locality: { region: query.region ?? '', zone: query.zone ?? '', subZone: query.subZone ?? '' },
    ...(query.environment ? { environment: query.environment } : {}),
  };
}

/** Clients are assumed to run where the service's own endpoints run (one view per locality). */
function endpointLocalities(
  endpoints: readonly { locality: Locality; environment: Environment }[],
): { locality: Locality; environment: Environment }[] {
  const seen = new Map<string, { locality: Locality; environment: Environment }>();
  for (const endpoint of endpoints) {
    const key = `${endpoint.environment}|${localityKey(endpoint.locality)}`;
    if (!seen.has(key)) seen.set(key, { locality: endpoint.locality, environment: endpoint.environment });
  }
  return [...seen.values()].sort((a, b) => (localityKey(a.locality) < localityKey(b.locality) ? -1 : 1));
}

function present(assignment: LoadAssignment) {
  return {
    cloudShare: assignment.cloudShare,
    priorities: assignment.priorities.map((level, priority) => ({
      priority,
      localities: level.localities.map((locality) => ({
        locality: locality.locality,
        environment: locality.environment,
        weight: locality.weight,
        endpoints: locality.endpoints.map((endpoint) => ({ ...endpoint })),
      })),
    })),
  };
}

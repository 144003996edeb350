import {
  type Endpoint,
  endpointId,
  HEALTH_RANK,
  parseServiceKey,
  type Service,
  type ServiceKey,
  type SourceState,
} from '@spillway/model';

/** What one source contributes to one service, with the source's liveness verdict. */
export interface Contribution {
  readonly source: string;
  readonly state: SourceState;
  readonly endpoints: readonly Endpoint[];
}

/** One source's whole view, for a full merge. */
export interface SourceView {
  readonly source: string;
  readonly state: SourceState;
  readonly services: ReadonlyMap<ServiceKey, readonly Endpoint[]>;
}

/**
 * Merges what every source reports for one service. Pure and order-independent:
 * - an endpoint of a `stale` source is served `unhealthy` (the catalog never serves stale
 *   endpoints as if they were fresh, and never drops them silently either);
 * - an address:port reported by two registries (a pod that is both in Kubernetes and in
 *   Consul) is one endpoint: the healthiest report wins, then the source name decides, so the
 *   result does not depend on the order events arrived in;
 * - endpoints are sorted by address and port, so equal inputs give equal outputs.
 * Returns undefined when no source has an endpoint for the service.
 */
export function mergeService(key: ServiceKey, contributions: readonly Contribution[]): Service | undefined {
  const byId = new Map<string, Endpoint>();
  const owner = new Map<string, string>();
  for (const contribution of contributions) {
    for (const reported of contribution.endpoints) {
      const endpoint = contribution.state === 'stale' ? asUnhealthy(reported) : reported;
      const id = endpointId(endpoint);
      const current = byId.get(id);
      if (current === undefined || prefer(endpoint, contribution.source, current, owner.get(id) ?? '')) {
        byId.set(id, endpoint);
        owner.set(id, contribution.source);
      }
    }
  }
  if (byId.size === 0) return undefined;
  const identity = parseServiceKey(key);
  if (!identity) return undefined;
  const endpoints = [...byId.values()].sort(compareEndpoints);
  return { name: identity.name, namespace: identity.namespace, endpoints };
}

/** The whole catalog from every source's view: the reference the incremental store must equal. */
export function mergeCatalog(views: readonly SourceView[]): Map<ServiceKey, Service> {
  const keys = new Set<ServiceKey>();
  for (const view of views) for (const key of view.services.keys()) keys.add(key);
  const services = new Map<ServiceKey, Service>();
  for (const key of [...keys].sort()) {
    const contributions = views.map((view) => ({
      source: view.source,
      state: view.state,
      endpoints: view.services.get(key) ?? [],
    }));
    const merged = mergeService(key, contributions);
    if (merged) services.set(key, merged);
  }
  return services;
}

/** Field-by-field equality of two merged services: decides whether a version is needed. */
export function sameService(a: Service | undefined, b: Service | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.endpoints.length !== b.endpoints.length) return false;
  return a.endpoints.every((endpoint, index) => sameEndpoint(endpoint, b.endpoints[index] as Endpoint));
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return (
    a.address === b.address &&
    a.port === b.port &&
    a.cluster === b.cluster &&
    a.environment === b.environment &&
    a.health === b.health &&
    a.weight === b.weight &&
    a.locality.region === b.locality.region &&
    a.locality.zone === b.locality.zone &&
    a.locality.subZone === b.locality.subZone &&
    sameLabels(a.labels, b.labels)
  );
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function prefer(candidate: Endpoint, candidateSource: string, current: Endpoint, currentSource: string): boolean {
  const byHealth = HEALTH_RANK[candidate.health] - HEALTH_RANK[current.health];
  if (byHealth !== 0) return byHealth < 0;
  return candidateSource < currentSource;
}

function asUnhealthy(endpoint: Endpoint): Endpoint {
  return endpoint.health === 'unhealthy' ? endpoint : { ...endpoint, health: 'unhealthy' };
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.port - b.port;
}

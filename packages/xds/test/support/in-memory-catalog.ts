import { LayeredMap } from '@spillway/catalog';
import type { CatalogChange, CatalogReader, CatalogSnapshot, Endpoint, Service, ServiceKey } from '@spillway/model';

/**
 * A CatalogReader held in memory: tests set whole services and watch the router follow.
 * Snapshots are LayeredMaps, as the real catalogs' are, so a change costs what it costs the
 * router in production (the benchmark times it), not a copy of every service.
 */
export class InMemoryCatalog implements CatalogReader {
  private services = LayeredMap.empty<ServiceKey, Service>();
  private snapshot: CatalogSnapshot = { version: 0, services: this.services, sources: [] };
  private readonly listeners = new Set<(change: CatalogChange, snapshot: CatalogSnapshot) => void>();

  current(): CatalogSnapshot {
    return this.snapshot;
  }

  subscribe(listener: (change: CatalogChange, snapshot: CatalogSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setService(service: Service): void {
    const key = `${service.name}.${service.namespace}`;
    this.publish(this.services.derive(new Map([[key, service]]), []), [key], []);
  }

  /** Rewrites the endpoints of one service (e.g. to mark some unhealthy). */
  updateEndpoints(key: ServiceKey, update: (endpoint: Endpoint) => Endpoint): void {
    const service = this.snapshot.services.get(key);
    if (!service) throw new Error(`no service ${key}`);
    this.setService({ ...service, endpoints: service.endpoints.map(update) });
  }

  removeService(key: ServiceKey): void {
    if (!this.services.has(key)) return;
    this.publish(this.services.derive(new Map(), [key]), [], [key]);
  }

  private publish(services: LayeredMap<ServiceKey, Service>, changed: ServiceKey[], removed: ServiceKey[]): void {
    this.services = services;
    const previousVersion = this.snapshot.version;
    this.snapshot = { version: previousVersion + 1, services, sources: [] };
    const change: CatalogChange = { version: this.snapshot.version, previousVersion, changed, removed };
    for (const listener of this.listeners) listener(change, this.snapshot);
  }
}

export function endpoint(
  address: string,
  port: number,
  locality: { region: string; zone: string },
  overrides: Partial<Endpoint> = {},
): Endpoint {
  const cloud = locality.region.startsWith('us-');
  return {
    address,
    port,
    cluster: cloud ? 'eks' : 'k8s',
    environment: cloud ? 'cloud' : 'onprem',
    locality: { ...locality, subZone: '' },
    health: 'healthy',
    weight: 1,
    labels: {},
    ...overrides,
  };
}

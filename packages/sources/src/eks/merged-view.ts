import { type Endpoint, endpointId, type ServiceKey } from '@spillway/model';
import { type ServiceEndpoints, SourceError, type SourceSink } from '../source.js';

/**
 * Merges the views of an EKS source's clusters into the one view its sink receives. Each
 * cluster's KubernetesSource reports to its own sink from `sinkFor`; a cluster's full view
 * (replaceAll) becomes a full merged view, its per-service updates become merged updates of
 * those services. Endpoints get an `eks.cluster` label; an address:port two clusters both
 * report is kept once (first cluster by name).
 */
export class MergedView {
  private readonly clusters = new Map<string, Map<ServiceKey, readonly Endpoint[]>>();

  constructor(
    private readonly sourceName: string,
    private readonly parent: () => SourceSink | undefined,
  ) {}

  sinkFor(cluster: string): SourceSink {
    return {
      replaceAll: (services) => {
        this.clusters.set(cluster, new Map([...services].filter(([, endpoints]) => endpoints.length > 0)));
        this.parent()?.replaceAll(this.all());
      },
      replaceServices: (services) => {
        const view = this.clusters.get(cluster) ?? new Map<ServiceKey, readonly Endpoint[]>();
        for (const [key, endpoints] of services) {
          if (endpoints.length > 0) view.set(key, endpoints);
          else view.delete(key);
        }
        this.clusters.set(cluster, view);
        this.parent()?.replaceServices(this.merged(services.keys()));
      },
      alive: () => this.parent()?.alive(),
      failed: (error) => this.parent()?.failed(this.wrap(cluster, error)),
    };
  }

  /** A cluster went away (deleted, stopped): its services are re-merged without it. */
  remove(cluster: string): void {
    const view = this.clusters.get(cluster);
    this.clusters.delete(cluster);
    if (view && view.size > 0) this.parent()?.replaceServices(this.merged(view.keys()));
  }

  private all(): ServiceEndpoints {
    const keys = new Set<ServiceKey>();
    for (const view of this.clusters.values()) for (const key of view.keys()) keys.add(key);
    return this.merged(keys);
  }

  private merged(keys: Iterable<ServiceKey>): Map<ServiceKey, Endpoint[]> {
    const result = new Map<ServiceKey, Endpoint[]>();
    const names = [...this.clusters.keys()].sort();
    for (const key of keys) {
      const byId = new Map<string, Endpoint>();
      for (const name of names) {
        for (const endpoint of this.clusters.get(name)?.get(key) ?? []) {
          const id = endpointId(endpoint);
          if (!byId.has(id)) byId.set(id, { ...endpoint, labels: { ...endpoint.labels, 'eks.cluster': name } });
        }
      }
      result.set(key, [...byId.values()]);
    }
    return result;
  }

  private wrap(cluster: string, error: Error): SourceError {
    // The cluster's KubernetesSource already prefixed the source name: say which cluster instead.
    const prefix = `${this.sourceName}: `;
    const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return new SourceError(this.sourceName, `EKS cluster "${cluster}": ${detail}`, { cause: error });
  }
}

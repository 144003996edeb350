import { isIP } from 'node:net';
import { computeLoadAssignment } from '@spillway/eds';
import type {
  CatalogChange,
  CatalogReader,
  CatalogSnapshot,
  MeshSecurity,
  ProximityRing,
  Service,
  ServiceKey,
  ServiceSecurity,
  TrafficPolicyReader,
} from '@spillway/model';
import { type ClientNode, viewKey } from './client-node.js';
import type { EncodedResource } from './encoded-resource.js';
import type { ResourceSource } from './resource-source.js';
import { clusterLoadAssignmentResource } from './resources/cluster-load-assignment-resource.js';
import { clusterResource } from './resources/cluster-resource.js';
import { listenerResource } from './resources/listener-resource.js';
import { routeConfigurationResource } from './resources/route-configuration-resource.js';
import { ServerAddressIndex } from './resources/server-address-index.js';
import { parseServerListenerName, serverListenerResource } from './resources/server-listener-resource.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  isServedTypeUrl,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
} from './type-urls.js';

export interface ViewCacheOptions {
  /** Ring order per service; DEFAULT_PROXIMITY when it returns undefined. */
  readonly proximity?: (service: ServiceKey) => readonly ProximityRing[] | undefined;
  /** Called once per resource encoded (metrics). */
  readonly onEncode?: (typeUrl: string) => void;
  /** Service-to-service mTLS to publish (Cluster TLS contexts, server Listeners). */
  readonly security?: MeshSecurity;
  /** Called after each catalog snapshot the cache took in (and after streams were told). */
  readonly onSnapshot?: (snapshot: CatalogSnapshot) => void;
  /** Clusters name this server as their LRS server (`lrs_server: { self: {} }`). */
  readonly loadReporting?: boolean;
}

interface SharedResources {
  readonly [LISTENER_TYPE_URL]: EncodedResource;
  readonly [ROUTE_CONFIGURATION_TYPE_URL]: EncodedResource;
  /** The Cluster as gRPC reads it (certificate provider instances)… */
  readonly [CLUSTER_TYPE_URL]: EncodedResource;
  /** …and as Envoy reads it (SDS secrets); the same object when the service has no TLS. */
  readonly envoyCluster: EncodedResource;
}

/**
 * Knows what each distinct view should contain and encodes each resource once.
 * - Listener, RouteConfiguration and Cluster depend only on the service key: encoded once
 *   when the service first appears, shared by every client, dropped when it disappears.
 * - A ClusterLoadAssignment depends on the service, the client's view (locality and stated
 *   environment) and the service's traffic policy: encoded on first demand per view, then
 *   shared by every client with that view. A catalog change or a policy change drops only the
 *   changed services' assignments; the next demand re-encodes them once per view.
 * It keeps the last snapshot it saw, so if its inputs go quiet it keeps serving that state.
 */
export class ViewCache implements ResourceSource {
  private snapshot: CatalogSnapshot;
  private readonly shared = new Map<ServiceKey, SharedResources>();
  private readonly assignments = new Map<ServiceKey, Map<string, EncodedResource>>();
  private readonly listeners = new Set<(names: ReadonlySet<string>) => void>();
  private readonly unsubscribers: (() => void)[] = [];
  /** Server Listeners by name: they depend only on which service owns the address. */
  private readonly serverListeners = new Map<string, EncodedResource>();
  private readonly serverAddresses = new ServerAddressIndex();
  private readonly securityByService: ReadonlyMap<ServiceKey, ServiceSecurity>;
  private encodeCount = 0;

  constructor(
    private readonly catalog: CatalogReader,
    private readonly policies: TrafficPolicyReader,
    private readonly options: ViewCacheOptions = {},
  ) {
    this.snapshot = catalog.current();
    this.securityByService = new Map((options.security?.services ?? []).map((entry) => [entry.service, entry]));
  }

  /** Starts following the catalog and the policies. */
  start(): void {
    this.snapshot = this.catalog.current();
    this.unsubscribers.push(
      this.catalog.subscribe((change, snapshot) => this.onCatalogChange(change, snapshot)),
      this.policies.subscribe((service) => this.invalidate([service], [])),
    );
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
  }

  /** How many resources were encoded so far: lets tests prove bytes are shared. */
  get encodes(): number {
    return this.encodeCount;
  }

  names(typeUrl: string): readonly string[] {
    return isServedTypeUrl(typeUrl) ? [...this.snapshot.services.keys()].sort() : [];
  }

  resource(typeUrl: string, name: string, node: ClientNode): EncodedResource | undefined {
    const service = this.snapshot.services.get(name);
    if (!service) return typeUrl === LISTENER_TYPE_URL ? this.serverListener(name) : undefined;
    switch (typeUrl) {
      case LISTENER_TYPE_URL:
      case ROUTE_CONFIGURATION_TYPE_URL:
        return this.sharedResources(name)[typeUrl];
      case CLUSTER_TYPE_URL:
        return node.kind === 'envoy' ? this.sharedResources(name).envoyCluster : this.sharedResources(name)[typeUrl];
      case CLUSTER_LOAD_ASSIGNMENT_TYPE_URL:
        return this.assignment(name, service, node);
      default:
        return undefined;
    }
  }

  onChange(listener: (names: ReadonlySet<string>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private onCatalogChange(change: CatalogChange, snapshot: CatalogSnapshot): void {
    this.snapshot = snapshot;
    const moved = this.serverAddresses.update(snapshot, [...change.changed, ...change.removed]);
    for (const name of moved) this.serverListeners.delete(name);
    this.invalidate(change.changed, change.removed, moved);
    this.options.onSnapshot?.(snapshot);
  }

  private invalidate(
    changed: readonly ServiceKey[],
    removed: readonly ServiceKey[],
    serverListeners: readonly string[] = [],
  ): void {
    for (const key of [...changed, ...removed]) this.assignments.delete(key);
    for (const key of removed) this.shared.delete(key);
    const names = new Set([...changed, ...removed, ...serverListeners]);
    if (names.size === 0) return;
    for (const listener of this.listeners) listener(names);
  }

  private sharedResources(key: ServiceKey): SharedResources {
    let resources = this.shared.get(key);
    if (!resources) {
      const mesh = this.options.security;
      const entry = this.securityByService.get(key);
      const tls = mesh && entry && entry.mtls !== 'DISABLE' ? { mesh, entry } : undefined;
      const lrs = this.options.loadReporting === true;
      const grpcCluster = this.counted(clusterResource(key, tls && { ...tls, dialect: 'grpc' }, lrs));
      resources = {
        [LISTENER_TYPE_URL]: this.counted(listenerResource(key)),
        [ROUTE_CONFIGURATION_TYPE_URL]: this.counted(routeConfigurationResource(key)),
        [CLUSTER_TYPE_URL]: grpcCluster,
        envoyCluster: tls ? this.counted(clusterResource(key, { ...tls, dialect: 'envoy' }, lrs)) : grpcCluster,
      };
      this.shared.set(key, resources);
    }
    return resources;
  }

  /** The Listener an xDS-enabled gRPC server asks for: exists only for an address the catalog knows. */
  private serverListener(name: string): EncodedResource | undefined {
    const cached = this.serverListeners.get(name);
    if (cached) return cached;
    const where = parseServerListenerName(name);
    const owner = where && this.serverAddresses.owner(this.snapshot, where);
    if (!where || !owner) return undefined;
    const resource = this.counted(
      serverListenerResource(where, this.options.security, this.securityByService.get(owner)),
    );
    this.serverListeners.set(name, resource);
    return resource;
  }

  private assignment(key: ServiceKey, service: Service, node: ClientNode): EncodedResource {
    let views = this.assignments.get(key);
    if (!views) {
      views = new Map();
      this.assignments.set(key, views);
    }
    const view = viewKey(node);
    let resource = views.get(view);
    if (!resource) {
      const proximity = this.options.proximity?.(key);
      const assignment = computeLoadAssignment(
        servableService(service),
        { locality: node.locality, ...(node.environment ? { environment: node.environment } : {}) },
        this.policies.get(key),
        proximity ? { proximity } : {},
      );
      resource = this.counted(clusterLoadAssignmentResource(key, assignment));
      views.set(view, resource);
    }
    return resource;
  }

  private counted(resource: EncodedResource): EncodedResource {
    this.encodeCount++;
    this.options.onEncode?.(resource.typeUrl);
    return resource;
  }
}

/** xDS clients accept only IP addresses in EDS (gRPC NACKs the whole assignment for a hostname). */
function servableService(service: Service): Service {
  const endpoints = service.endpoints.filter((endpoint) => isIP(endpoint.address) !== 0);
  return endpoints.length === service.endpoints.length ? service : { ...service, endpoints };
}

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
import { ViewUse } from './view-use.js';
import { type ResourceWatch, WatchIndex } from './watch-index.js';

export interface ViewCacheOptions {
  /** Ring order per service; DEFAULT_PROXIMITY when it returns undefined. */
  readonly proximity?: (service: ServiceKey) => readonly ProximityRing[] | undefined;
  /** Called once per resource encoded (metrics). */
  readonly onEncode?: (typeUrl: string) => void;
  /** Service-to-service mTLS to publish (Cluster TLS contexts, server Listeners). */
  readonly security?: MeshSecurity;
  /** Seconds one change took to reach its watching streams (views computed, responses queued). */
  readonly onFanOut?: (seconds: number) => void;
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
 *   changed services' assignments; the next demand re-encodes them once per view. A view is
 *   kept only while a watch uses it: when its last client unsubscribes or leaves, it goes.
 * A change reaches only the watches that cover the changed names (WatchIndex).
 * It keeps the last snapshot it saw, so if its inputs go quiet it keeps serving that state.
 */
export class ViewCache implements ResourceSource {
  private snapshot: CatalogSnapshot;
  private readonly shared = new Map<ServiceKey, SharedResources>();
  private readonly assignments = new Map<ServiceKey, Map<string, EncodedResource>>();
  private readonly index = new WatchIndex();
  private readonly viewUse = new ViewUse();
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

  watch(typeUrl: string, node: ClientNode, onChange: (names: ReadonlySet<string>) => void): ResourceWatch {
    if (typeUrl !== CLUSTER_LOAD_ASSIGNMENT_TYPE_URL) return this.index.watch(onChange);
    const view = viewKey(node);
    return this.index.watch(onChange, {
      added: (service) => this.viewUse.retain(service, view),
      removed: (service) => {
        if (this.viewUse.release(service, view)) this.dropView(service, view);
      },
      wildcard: (on) => {
        if (on) this.viewUse.retainWildcard(view);
        else if (this.viewUse.releaseWildcard(view)) this.dropUnusedViews(view);
      },
    });
  }

  /** Open watches (one per stream and type URL). */
  get watches(): number {
    return this.index.size;
  }

  /** Encoded ClusterLoadAssignments held (one per service and view in use). */
  get assignmentViews(): number {
    let count = 0;
    for (const views of this.assignments.values()) count += views.size;
    return count;
  }

  /** The last wildcard watch with `view` is gone: keep its assignments only where a named watch uses them. */
  private dropUnusedViews(view: string): void {
    for (const [service, views] of this.assignments) {
      if (views.has(view) && !this.viewUse.inUse(service, view)) this.dropView(service, view);
    }
  }

  private dropView(service: ServiceKey, view: string): void {
    const views = this.assignments.get(service);
    if (!views?.delete(view)) return;
    if (views.size === 0) this.assignments.delete(service);
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
    const started = performance.now();
    this.index.notify(names);
    this.options.onFanOut?.((performance.now() - started) / 1000);
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
    const view = viewKey(node);
    let resource = this.assignments.get(key)?.get(view);
    if (!resource) {
      const proximity = this.options.proximity?.(key);
      const assignment = computeLoadAssignment(
        servableService(service),
        { locality: node.locality, ...(node.environment ? { environment: node.environment } : {}) },
        this.policies.get(key),
        proximity ? { proximity } : {},
      );
      resource = this.counted(clusterLoadAssignmentResource(key, assignment));
      // Kept for the next client with this view only while some watch uses it.
      if (this.viewUse.inUse(key, view)) this.keepAssignment(key, view, resource);
    }
    return resource;
  }

  private keepAssignment(key: ServiceKey, view: string, resource: EncodedResource): void {
    let views = this.assignments.get(key);
    if (!views) {
      views = new Map();
      this.assignments.set(key, views);
    }
    views.set(view, resource);
  }

  private counted(resource: EncodedResource): EncodedResource {
    this.encodeCount++;
    this.options.onEncode?.(resource.typeUrl);
    return resource;
  }
}

/** Each catalog service object's servable form, found once for all its views. */
const servable = new WeakMap<Service, Service>();

/** xDS clients accept only IP addresses in EDS (gRPC NACKs the whole assignment for a hostname). */
function servableService(service: Service): Service {
  let result = servable.get(service);
  if (!result) {
    const endpoints = service.endpoints.filter((endpoint) => isIP(endpoint.address) !== 0);
    result = endpoints.length === service.endpoints.length ? service : { ...service, endpoints };
    servable.set(service, result);
  }
  return result;
}

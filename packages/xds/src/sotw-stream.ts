import { type ClientNode, clientNode } from './client-node.js';
import { CONTROL_PLANE, type DiscoveryRequestMessage, type DiscoveryResponseMessage } from './discovery-messages.js';
import { type EncodedResource, hashVersion } from './encoded-resource.js';
import type { ResourceSource } from './resource-source.js';
import {
  describeSubscriptions,
  type NackRecord,
  NonceSequence,
  type StreamObserver,
  type StreamSnapshot,
} from './stream-observer.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL } from './type-urls.js';

/** Types whose SotW responses need not repeat unchanged resources (xDS protocol, "incremental" RDS/EDS). */
const INCREMENTAL_TYPE_URLS: ReadonlySet<string> = new Set([
  ROUTE_CONFIGURATION_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
]);

/** What one SotW stream knows about one type URL. */
interface SotwTypeState {
  readonly typeUrl: string;
  /** Explicitly subscribed names (without `*`). */
  names: ReadonlySet<string>;
  wildcard: boolean;
  /** Once a request named a resource, an empty list means "nothing", no longer "everything". */
  explicit: boolean;
  lastSentVersion: string | null;
  lastSentNonce: string | null;
  /** Name → version of every resource this stream was sent (what the client should hold). */
  readonly sent: Map<string, string>;
  /** The names in the last response: a NACK rejects exactly these. */
  lastSentNames: readonly string[];
  ackedVersion: string | null;
  lastNack: NackRecord | null;
}

/**
 * State-of-the-world protocol for one ADS stream, independent of gRPC and of the content:
 * requests in, responses out through `send`.
 * - A request without a nonce (first one, or a client back from a reconnect) is always
 *   answered with the current state, even at the version the client says it has.
 * - A request whose nonce is not the latest sent for its type is stale and ignored.
 * - With the latest nonce: `error_detail` makes it a NACK (recorded, the client keeps its
 *   last good version, nothing is re-sent until the content changes); otherwise an ACK. Either
 *   way a changed subscription is answered at once, even at an unchanged version.
 * - Listener and Cluster responses carry every subscribed resource that exists (an omitted one
 *   is deleted). RouteConfiguration and ClusterLoadAssignment responses are incremental in SotW
 *   too (omission means nothing): a content change sends only the ones that changed since this
 *   stream last got them. First answers, subscription changes and the periodic refresh send all.
 *   A response's version is a hash of every subscribed resource's name and version, so
 *   "changed?" is a compare.
 */
export class SotwStream {
  private node: ClientNode | null = null;
  private readonly types = new Map<string, SotwTypeState>();
  private readonly nonces = new NonceSequence();
  private readonly connectedSince = new Date().toISOString();

  constructor(
    private readonly source: ResourceSource,
    private readonly send: (response: DiscoveryResponseMessage) => void,
    private readonly observer: StreamObserver,
  ) {}

  handleRequest(request: DiscoveryRequestMessage): void {
    if (!this.node && request.node) this.node = clientNode(request.node);
    const state = this.typeState(request.type_url);
    const nonce = request.response_nonce;
    if (nonce !== '' && nonce !== state.lastSentNonce) return;
    if (nonce !== '') this.recordAckOrNack(state, request);
    const subscriptionChanged = this.updateSubscription(state, request.resource_names);
    if (nonce === '' || subscriptionChanged) this.respond(state);
  }

  /** Content changed for `names`: re-send each affected type whose version moved. */
  handleChange(names: ReadonlySet<string>): void {
    for (const state of this.types.values()) {
      if (state.lastSentNonce === null || !this.affects(state, names)) continue;
      // Computed once and reused by respond(): with thousands of streams this is the hot path.
      const resources = this.resources(state);
      const version = this.versionOf(resources);
      if (version === state.lastSentVersion) continue;
      if (!INCREMENTAL_TYPE_URLS.has(state.typeUrl)) {
        this.respond(state, resources, version);
        continue;
      }
      const changed = resources.filter((resource) => state.sent.get(resource.name) !== resource.version);
      // Only removals: nothing to say in an incremental type (the Cluster's removal says it).
      if (changed.length > 0) this.respond(state, changed, version, 'changed');
    }
  }

  /** Re-sends the current state of `typeUrl` even if unchanged (keeps `endpoint_stale_after` from firing). */
  refresh(typeUrl: string): void {
    const state = this.types.get(typeUrl);
    if (state?.lastSentNonce) this.respond(state);
  }

  snapshot(): StreamSnapshot {
    return {
      protocol: 'sotw',
      node: this.node,
      connectedSince: this.connectedSince,
      types: describeSubscriptions(this.types.values()),
    };
  }

  private typeState(typeUrl: string): SotwTypeState {
    let state = this.types.get(typeUrl);
    if (!state) {
      state = {
        typeUrl,
        names: new Set(),
        wildcard: false,
        explicit: false,
        lastSentVersion: null,
        lastSentNonce: null,
        sent: new Map(),
        lastSentNames: [],
        ackedVersion: null,
        lastNack: null,
      };
      this.types.set(typeUrl, state);
    }
    return state;
  }

  private recordAckOrNack(state: SotwTypeState, request: DiscoveryRequestMessage): void {
    if (request.error_detail) {
      state.ackedVersion = request.version_info || state.ackedVersion;
      state.lastNack = {
        at: new Date().toISOString(),
        typeUrl: state.typeUrl,
        rejectedVersion: state.lastSentVersion ?? '',
        keptVersion: request.version_info,
        detail: request.error_detail.message,
      };
      this.observer.onNack(state.lastNack, this.node);
      // The client kept its old copies of these: send them again at the next change.
      for (const name of state.lastSentNames) state.sent.delete(name);
    } else {
      state.ackedVersion = request.version_info;
      this.observer.onAck(state.typeUrl, request.version_info);
    }
  }

  /** Applies the legacy-wildcard rule; returns whether the subscription changed. */
  private updateSubscription(state: SotwTypeState, resourceNames: readonly string[]): boolean {
    const names = new Set(resourceNames.filter((name) => name !== '*'));
    const wildcard = resourceNames.includes('*') || (resourceNames.length === 0 && !state.explicit);
    const changed = wildcard !== state.wildcard || !sameSet(names, state.names);
    state.explicit ||= resourceNames.length > 0;
    state.names = names;
    state.wildcard = wildcard;
    return changed;
  }

  private affects(state: SotwTypeState, names: ReadonlySet<string>): boolean {
    if (state.wildcard) return true;
    for (const name of names) if (state.names.has(name)) return true;
    return false;
  }

  private resources(state: SotwTypeState): EncodedResource[] {
    const wanted = new Set(state.names);
    if (state.wildcard) for (const name of this.source.names(state.typeUrl)) wanted.add(name);
    const node = this.node ?? clientNode(undefined);
    return [...wanted]
      .sort()
      .map((name) => this.source.resource(state.typeUrl, name, node))
      .filter((resource): resource is EncodedResource => resource !== undefined);
  }

  private versionOf(resources: readonly EncodedResource[]): string {
    return hashVersion(...resources.flatMap((resource) => [resource.name, resource.version]));
  }

  /** Sends `resources` at `version`: the whole state (`all`), or the changed part of an incremental type. */
  private respond(
    state: SotwTypeState,
    resources: readonly EncodedResource[] = this.resources(state),
    version: string = this.versionOf(resources),
    scope: 'all' | 'changed' = 'all',
  ): void {
    if (scope === 'all') state.sent.clear();
    for (const resource of resources) state.sent.set(resource.name, resource.version);
    state.lastSentNames = resources.map((resource) => resource.name);
    state.lastSentVersion = version;
    state.lastSentNonce = this.nonces.take();
    this.send({
      version_info: state.lastSentVersion,
      resources: resources.map((resource) => ({ type_url: resource.typeUrl, value: resource.value })),
      type_url: state.typeUrl,
      nonce: state.lastSentNonce,
      control_plane: CONTROL_PLANE,
    });
    this.observer.onResponse(state.typeUrl, resources.length);
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}

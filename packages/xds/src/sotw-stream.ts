import { type ClientNode, clientNode } from './client-node.js';
import {
  type AnyMessage,
  CONTROL_PLANE,
  type DiscoveryRequestMessage,
  type DiscoveryResponseMessage,
} from './discovery-messages.js';
import type { EncodedResource } from './encoded-resource.js';
import type { ResourceSource } from './resource-source.js';
import {
  describeSubscriptions,
  type NackRecord,
  NonceSequence,
  type StreamObserver,
  type StreamSnapshot,
} from './stream-observer.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL } from './type-urls.js';
import { VersionSet } from './version-set.js';
import type { ResourceWatch } from './watch-index.js';

/** Types whose SotW responses need not repeat unchanged resources (xDS protocol, "incremental" RDS/EDS). */
const INCREMENTAL_TYPE_URLS: ReadonlySet<string> = new Set([
  ROUTE_CONFIGURATION_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
]);

/** What one SotW stream knows about one type URL. */
interface SotwTypeState {
  readonly typeUrl: string;
  /** Responses carry only what changed (RDS, EDS), not every subscribed resource. */
  readonly incremental: boolean;
  /** Explicitly subscribed names (without `*`). */
  names: ReadonlySet<string>;
  wildcard: boolean;
  /** Once a request named a resource, an empty list means "nothing", no longer "everything". */
  explicit: boolean;
  lastSentVersion: string | null;
  lastSentNonce: string | null;
  /**
   * Every subscribed resource that exists, at the version last sent or found unchanged: what
   * the client should hold. Its version is the type version; it changes entry by entry.
   */
  readonly current: VersionSet;
  /** Names the client NACKed: it still holds older copies, so they go out with the next change. */
  readonly rejected: Set<string>;
  /**
   * What the last response carried: a NACK rejects exactly these. One resource is kept as it
   * is (the usual change), not in an array of its own that every watching stream would keep.
   */
  lastSent: EncodedResource | readonly EncodedResource[];
  ackedVersion: string | null;
  lastNack: NackRecord | null;
  /** The source's watch on exactly this type's subscription. */
  watch: ResourceWatch;
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
 *   A response's version is a hash of every subscribed resource's name and version, kept
 *   entry by entry (VersionSet): a change costs the changed resources, not the whole set.
 * - The stream hears only of changes to what it subscribed (a watch per type URL).
 */
export class SotwStream {
  private node: ClientNode | null = null;
  private readonly types = new Map<string, SotwTypeState>();
  private readonly nonces = new NonceSequence();
  private readonly connectedSince = new Date().toISOString();

  constructor(
    private readonly source: ResourceSource,
    private readonly write: (response: DiscoveryResponseMessage) => void,
    private readonly observer: StreamObserver,
  ) {}

  handleRequest(request: DiscoveryRequestMessage): void {
    if (!this.node && request.node) this.setNode(clientNode(request.node));
    const state = this.typeState(request.type_url);
    const nonce = request.response_nonce;
    if (nonce !== '' && nonce !== state.lastSentNonce) return;
    if (nonce !== '') this.recordAckOrNack(state, request);
    const subscriptionChanged = this.updateSubscription(state, request.resource_names);
    if (nonce === '' || subscriptionChanged) this.respond(state);
  }

  /**
   * Content may have changed for `names` (those of `state`'s subscription, from its watch):
   * look at those names only, and answer if any of them moved. The hot path of a change.
   */
  private handleChange(state: SotwTypeState, names: ReadonlySet<string>): void {
    if (state.lastSentNonce === null) return;
    const node = this.node ?? clientNode(undefined);
    const changed: EncodedResource[] = [];
    // The watch covers exactly what the stream wants (its names, or all with the wildcard).
    for (const name of names) {
      const resource = this.source.resource(state.typeUrl, name, node);
      if (!resource) state.current.delete(name);
      else if (state.current.hold(resource) !== 'same') changed.push(resource);
    }
    if (!state.incremental) {
      if (changed.length > 0 || state.current.version() !== state.lastSentVersion) this.respond(state);
      return;
    }
    // Only removals: nothing to say in an incremental type (the Cluster's removal says it).
    if (changed.length === 0) return;
    if (state.rejected.size > 0) {
      const included = new Set(changed.map((resource) => resource.name));
      for (const name of state.rejected) {
        const resource = included.has(name) ? undefined : this.source.resource(state.typeUrl, name, node);
        if (resource && (state.wildcard || state.names.has(name))) changed.push(resource);
      }
      state.rejected.clear();
    }
    if (changed.length > 1) changed.sort(byName);
    this.send(state, changed);
  }

  /** Re-sends the current state of `typeUrl` even if unchanged (keeps `endpoint_stale_after` from firing). */
  refresh(typeUrl: string): void {
    const state = this.types.get(typeUrl);
    if (state?.lastSentNonce) this.respond(state);
  }

  /** The stream ended: stop watching. */
  close(): void {
    for (const state of this.types.values()) state.watch.cancel();
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
      const created: SotwTypeState = {
        typeUrl,
        incremental: INCREMENTAL_TYPE_URLS.has(typeUrl),
        names: new Set(),
        wildcard: false,
        explicit: false,
        lastSentVersion: null,
        lastSentNonce: null,
        current: new VersionSet(),
        rejected: new Set(),
        lastSent: [],
        ackedVersion: null,
        lastNack: null,
        watch: this.openWatch(typeUrl, () => created),
      };
      state = created;
      this.types.set(typeUrl, state);
    }
    return state;
  }

  private openWatch(typeUrl: string, state: () => SotwTypeState): ResourceWatch {
    const node = this.node ?? clientNode(undefined);
    return this.source.watch(typeUrl, node, (names) => this.handleChange(state(), names));
  }

  /**
   * The node arrived (normally with the first request). A type asked for before it was
   * watched as an anonymous client's view: watch it again with the client's own.
   */
  private setNode(node: ClientNode): void {
    this.node = node;
    for (const state of this.types.values()) {
      state.watch.cancel();
      state.watch = this.openWatch(state.typeUrl, () => state);
      state.watch.setWildcard(state.wildcard);
      for (const name of state.names) state.watch.add(name);
    }
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
      const sent = state.lastSent;
      for (const resource of Array.isArray(sent) ? sent : [sent]) state.rejected.add(resource.name);
    } else {
      state.ackedVersion = request.version_info;
      this.observer.onAck(state.typeUrl, request.version_info);
    }
  }

  /** Applies the legacy-wildcard rule; returns whether the subscription changed. */
  private updateSubscription(state: SotwTypeState, resourceNames: readonly string[]): boolean {
    // Nearly every request is an ACK that repeats the subscription: tell so without building a set.
    if (!state.wildcard && resourceNames.length > 0 && namesAre(resourceNames, state.names)) return false;
    const names = new Set(resourceNames.filter((name) => name !== '*'));
    const wildcard = resourceNames.includes('*') || (resourceNames.length === 0 && !state.explicit);
    const changed = wildcard !== state.wildcard || !sameSet(names, state.names);
    state.explicit ||= resourceNames.length > 0;
    if (changed) {
      for (const name of state.names) if (!names.has(name)) state.watch.remove(name);
      for (const name of names) state.watch.add(name);
      state.watch.setWildcard(wildcard);
    }
    state.names = names;
    state.wildcard = wildcard;
    return changed;
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

  /** Sends the whole current state of the type (first answer, subscription change, refresh, CDS/LDS change). */
  private respond(state: SotwTypeState): void {
    const resources = this.resources(state);
    state.current.clear();
    for (const resource of resources) state.current.setResource(resource);
    state.rejected.clear();
    this.send(state, resources);
  }

  /** Sends `resources` at the current type version: the whole state, or the changed part of an incremental type. */
  private send(state: SotwTypeState, resources: readonly EncodedResource[]): void {
    state.lastSent = resources.length === 1 ? resources[0]! : resources;
    state.lastSentVersion = state.current.version();
    state.lastSentNonce = this.nonces.take();
    const anys: AnyMessage[] = [];
    for (const resource of resources) anys.push({ type_url: resource.typeUrl, value: resource.value });
    this.write({
      version_info: state.lastSentVersion,
      resources: anys,
      type_url: state.typeUrl,
      nonce: state.lastSentNonce,
      control_plane: CONTROL_PLANE,
    });
    this.observer.onResponse(state.typeUrl, resources.length);
  }
}

function byName(a: EncodedResource, b: EncodedResource): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** `list` names exactly the members of `set` (no `*`, no other name; repeats allowed). */
function namesAre(list: readonly string[], set: ReadonlySet<string>): boolean {
  if (list.length < set.size) return false;
  for (const name of list) if (!set.has(name)) return false;
  // Every listed name is in the set: the set is covered unless the list repeats some of them.
  return list.length === set.size || new Set(list).size === set.size;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}

import { type ClientNode, clientNode } from './client-node.js';
import {
  CONTROL_PLANE,
  type DeltaDiscoveryRequestMessage,
  type DeltaDiscoveryResponseMessage,
  type DeltaResourceMessage,
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
import { VersionSet } from './version-set.js';
import type { ResourceWatch } from './watch-index.js';

const MAX_PENDING_NONCES = 64;
const NOTHING_FORCED: ReadonlySet<string> = new Set();

/** What one Delta stream knows about one type URL. */
interface DeltaTypeState {
  readonly typeUrl: string;
  readonly names: Set<string>;
  wildcard: boolean;
  /**
   * Versions the client holds, as it told us (initial_resource_versions) or as we sent them;
   * its version (kept entry by entry) is the system version of the next response.
   */
  readonly known: VersionSet;
  /** Subscribed names already reported as not existing, so the report is not repeated. */
  readonly reportedMissing: Set<string>;
  /** Nonce → system version of each response not yet ACKed or NACKed. */
  readonly pending: Map<string, string>;
  lastSentVersion: string | null;
  ackedVersion: string | null;
  lastNack: NackRecord | null;
  /** Covers the subscribed names and the held ones (whose removal the client must hear of). */
  watch: ResourceWatch;
}

interface Diff {
  readonly send: EncodedResource[];
  readonly removed: string[];
}

/**
 * Incremental (Delta) protocol for one ADS stream.
 * - Subscription changes are honoured whatever the nonce; the nonce only pairs ACK/NACK.
 * - The first request of a type with neither subscribe nor unsubscribe is a (legacy) wildcard;
 *   `*` subscribes to the wildcard explicitly.
 * - `initial_resource_versions` seeds what the client holds, so a reconnecting client gets
 *   only what changed, and `removed_resources` for what it holds that no longer exists.
 * - A (re-)subscribed name is always sent, even if the client seems to hold that version; a
 *   subscribed name that does not exist is reported once in `removed_resources`.
 * - Unsubscribing needs no answer, except that a name also covered by the wildcard is re-sent.
 * - A NACK is recorded and not retried: the resource is re-sent only when its bytes change.
 * - Work is proportional to what a request or a change names: a change looks only at the
 *   changed names the stream covers, an ACK at nothing; the system version is kept entry by
 *   entry (VersionSet).
 */
export class DeltaStream {
  private node: ClientNode | null = null;
  private readonly types = new Map<string, DeltaTypeState>();
  private readonly nonces = new NonceSequence();
  private readonly connectedSince = new Date().toISOString();

  constructor(
    private readonly source: ResourceSource,
    private readonly send: (response: DeltaDiscoveryResponseMessage) => void,
    private readonly observer: StreamObserver,
  ) {}

  handleRequest(request: DeltaDiscoveryRequestMessage): void {
    if (!this.node && request.node) this.setNode(clientNode(request.node));
    const isNew = !this.types.has(request.type_url);
    const state = this.typeState(request.type_url);
    if (isNew) this.seed(state, request);
    if (request.response_nonce !== '') this.recordAckOrNack(state, request);
    const wildcard = state.wildcard;
    const forced = this.updateSubscription(state, request);
    // Only what this request names can have moved, unless the stream is new or its wildcard changed.
    const scope =
      isNew || wildcard !== state.wildcard
        ? 'all'
        : [...request.resource_names_subscribe, ...request.resource_names_unsubscribe].filter((name) => name !== '*');
    this.respond(state, this.diff(state, forced, scope));
  }

  /** Content may have changed for `names` (those `state`'s watch covers): send what moved. */
  private handleChange(state: DeltaTypeState, names: ReadonlySet<string>): void {
    this.respond(state, this.diff(state, NOTHING_FORCED, names));
  }

  /** Re-sends every resource of `typeUrl` the client holds (keeps `endpoint_stale_after` from firing). */
  refresh(typeUrl: string): void {
    const state = this.types.get(typeUrl);
    if (state) this.respond(state, this.diff(state, new Set(state.known.keys()), 'all'));
  }

  /** The stream ended: stop watching. */
  close(): void {
    for (const state of this.types.values()) state.watch.cancel();
  }

  snapshot(): StreamSnapshot {
    return {
      protocol: 'delta',
      node: this.node,
      connectedSince: this.connectedSince,
      types: describeSubscriptions(this.types.values()),
    };
  }

  private typeState(typeUrl: string): DeltaTypeState {
    let state = this.types.get(typeUrl);
    if (!state) {
      const created: DeltaTypeState = {
        typeUrl,
        names: new Set(),
        wildcard: false,
        known: new VersionSet(),
        reportedMissing: new Set(),
        pending: new Map(),
        lastSentVersion: null,
        ackedVersion: null,
        lastNack: null,
        watch: this.openWatch(typeUrl, () => created),
      };
      state = created;
      this.types.set(typeUrl, state);
    }
    return state;
  }

  private openWatch(typeUrl: string, state: () => DeltaTypeState): ResourceWatch {
    const node = this.node ?? clientNode(undefined);
    return this.source.watch(typeUrl, node, (names) => this.handleChange(state(), names));
  }

  /** The node arrived after a type was asked for: watch that type again with the client's own view. */
  private setNode(node: ClientNode): void {
    this.node = node;
    for (const state of this.types.values()) {
      state.watch.cancel();
      state.watch = this.openWatch(state.typeUrl, () => state);
      state.watch.setWildcard(state.wildcard);
      for (const name of state.names) state.watch.add(name);
      for (const name of state.known.keys()) state.watch.add(name);
    }
  }

  /** The watch covers `name` while it is subscribed or held. */
  private follow(state: DeltaTypeState, name: string): void {
    if (state.names.has(name) || state.known.has(name)) state.watch.add(name);
    else state.watch.remove(name);
  }

  private seed(state: DeltaTypeState, request: DeltaDiscoveryRequestMessage): void {
    for (const [name, version] of Object.entries(request.initial_resource_versions ?? {})) {
      state.known.set(name, version);
      state.watch.add(name);
    }
    const legacyWildcard =
      request.resource_names_subscribe.length === 0 && request.resource_names_unsubscribe.length === 0;
    if (legacyWildcard) {
      state.wildcard = true;
      state.watch.setWildcard(true);
    }
  }

  private recordAckOrNack(state: DeltaTypeState, request: DeltaDiscoveryRequestMessage): void {
    const version = state.pending.get(request.response_nonce);
    if (version === undefined) return;
    state.pending.delete(request.response_nonce);
    if (request.error_detail) {
      state.lastNack = {
        at: new Date().toISOString(),
        typeUrl: state.typeUrl,
        rejectedVersion: version,
        keptVersion: state.ackedVersion ?? '',
        detail: request.error_detail.message,
      };
      this.observer.onNack(state.lastNack, this.node);
    } else {
      state.ackedVersion = version;
      this.observer.onAck(state.typeUrl, version);
    }
  }

  /** Applies subscribe/unsubscribe; returns the names that must be sent even if unchanged. */
  private updateSubscription(state: DeltaTypeState, request: DeltaDiscoveryRequestMessage): Set<string> {
    const forced = new Set<string>();
    for (const name of request.resource_names_subscribe) {
      if (name === '*') {
        state.wildcard = true;
        state.watch.setWildcard(true);
        continue;
      }
      state.names.add(name);
      state.reportedMissing.delete(name);
      forced.add(name);
      state.watch.add(name);
    }
    for (const name of request.resource_names_unsubscribe) {
      if (name === '*') {
        state.wildcard = false;
        state.watch.setWildcard(false);
        for (const held of [...state.known.keys()]) {
          if (state.names.has(held)) continue;
          state.known.delete(held);
          state.watch.remove(held);
        }
        continue;
      }
      state.names.delete(name);
      state.reportedMissing.delete(name);
      // Still covered by the wildcard: the client cannot tell, so say it again (or remove it in diff).
      if (state.wildcard) forced.add(name);
      else state.known.delete(name);
      this.follow(state, name);
    }
    return forced;
  }

  /**
   * What to send and what to report removed, looking at `scope`: every name the stream wants
   * or holds (`all`), or only these names (what a request or a change concerns).
   */
  private diff(state: DeltaTypeState, forced: ReadonlySet<string>, scope: Iterable<string> | 'all'): Diff {
    const names = this.candidates(state, forced, scope);
    const node = this.node ?? clientNode(undefined);
    const send: EncodedResource[] = [];
    const removed: string[] = [];
    for (const name of names.size > 1 ? [...names].sort() : names) {
      const wanted = state.wildcard || state.names.has(name);
      const resource = wanted ? this.source.resource(state.typeUrl, name, node) : undefined;
      if (resource) {
        if (forced.has(name) || state.known.get(name) !== resource.version) send.push(resource);
      } else if (
        state.known.has(name) ||
        forced.has(name) ||
        (state.names.has(name) && !state.reportedMissing.has(name))
      ) {
        removed.push(name);
      }
    }
    return { send, removed };
  }

  /** The names `diff` looks at; a change's own set as it is (the hot path: one name, nothing forced). */
  private candidates(
    state: DeltaTypeState,
    forced: ReadonlySet<string>,
    scope: Iterable<string> | 'all',
  ): ReadonlySet<string> {
    if (scope instanceof Set && forced.size === 0) return scope as ReadonlySet<string>;
    const names = new Set(scope === 'all' ? state.names : scope);
    if (scope === 'all') {
      if (state.wildcard) for (const name of this.source.names(state.typeUrl)) names.add(name);
      for (const name of state.known.keys()) names.add(name);
    }
    for (const name of forced) names.add(name);
    return names;
  }

  private respond(state: DeltaTypeState, diff: Diff): void {
    if (diff.send.length === 0 && diff.removed.length === 0) return;
    // A name newly held is watched from now on (a name held already is watched already).
    for (const resource of diff.send) if (state.known.hold(resource) === 'added') state.watch.add(resource.name);
    for (const name of diff.removed) {
      state.known.delete(name);
      if (state.names.has(name)) state.reportedMissing.add(name);
      this.follow(state, name);
    }
    const nonce = this.nonces.take();
    const systemVersion = state.known.version();
    state.pending.set(nonce, systemVersion);
    // A client answers every response; keep only a bounded tail in case one never does.
    if (state.pending.size > MAX_PENDING_NONCES) state.pending.delete(state.pending.keys().next().value ?? '');
    state.lastSentVersion = systemVersion;
    const resources: DeltaResourceMessage[] = [];
    for (const resource of diff.send) {
      const { name, version, typeUrl, value } = resource;
      resources.push({ name, version, resource: { type_url: typeUrl, value } });
    }
    this.send({
      system_version_info: systemVersion,
      resources,
      type_url: state.typeUrl,
      removed_resources: diff.removed,
      nonce,
      control_plane: CONTROL_PLANE,
    });
    this.observer.onResponse(state.typeUrl, diff.send.length);
  }
}

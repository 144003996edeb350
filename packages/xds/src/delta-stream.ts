import { type ClientNode, clientNode } from './client-node.js';
import {
  CONTROL_PLANE,
  type DeltaDiscoveryRequestMessage,
  type DeltaDiscoveryResponseMessage,
} from './discovery-messages.js';
import { type EncodedResource, hashVersion } from './encoded-resource.js';
import type { ResourceSource } from './resource-source.js';
import {
  describeSubscriptions,
  type NackRecord,
  NonceSequence,
  type StreamObserver,
  type StreamSnapshot,
} from './stream-observer.js';

const MAX_PENDING_NONCES = 64;

/** What one Delta stream knows about one type URL. */
interface DeltaTypeState {
  readonly typeUrl: string;
  readonly names: Set<string>;
  wildcard: boolean;
  /** Versions the client holds, as it told us (initial_resource_versions) or as we sent them. */
  readonly known: Map<string, string>;
  /** Subscribed names already reported as not existing, so the report is not repeated. */
  readonly reportedMissing: Set<string>;
  /** Nonce → system version of each response not yet ACKed or NACKed. */
  readonly pending: Map<string, string>;
  lastSentVersion: string | null;
  ackedVersion: string | null;
  lastNack: NackRecord | null;
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
    if (!this.node && request.node) this.node = clientNode(request.node);
    const isNew = !this.types.has(request.type_url);
    const state = this.typeState(request.type_url);
    if (isNew) this.seed(state, request);
    if (request.response_nonce !== '') this.recordAckOrNack(state, request);
    const forced = this.updateSubscription(state, request);
    this.respond(state, this.diff(state, forced));
  }

  handleChange(names: ReadonlySet<string>): void {
    for (const state of this.types.values()) {
      if (state.wildcard || [...names].some((name) => state.names.has(name) || state.known.has(name))) {
        this.respond(state, this.diff(state, new Set()));
      }
    }
  }

  /** Re-sends every resource of `typeUrl` the client holds (keeps `endpoint_stale_after` from firing). */
  refresh(typeUrl: string): void {
    const state = this.types.get(typeUrl);
    if (state) this.respond(state, this.diff(state, new Set(state.known.keys())));
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
      state = {
        typeUrl,
        names: new Set(),
        wildcard: false,
        known: new Map(),
        reportedMissing: new Set(),
        pending: new Map(),
        lastSentVersion: null,
        ackedVersion: null,
        lastNack: null,
      };
      this.types.set(typeUrl, state);
    }
    return state;
  }

  private seed(state: DeltaTypeState, request: DeltaDiscoveryRequestMessage): void {
    for (const [name, version] of Object.entries(request.initial_resource_versions ?? {})) {
      state.known.set(name, version);
    }
    const legacyWildcard =
      request.resource_names_subscribe.length === 0 && request.resource_names_unsubscribe.length === 0;
    if (legacyWildcard) state.wildcard = true;
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
        continue;
      }
      state.names.add(name);
      state.reportedMissing.delete(name);
      forced.add(name);
    }
    for (const name of request.resource_names_unsubscribe) {
      if (name === '*') {
        state.wildcard = false;
        for (const held of [...state.known.keys()]) if (!state.names.has(held)) state.known.delete(held);
        continue;
      }
      state.names.delete(name);
      state.reportedMissing.delete(name);
      // Still covered by the wildcard: the client cannot tell, so say it again (or remove it in diff).
      if (state.wildcard) forced.add(name);
      else state.known.delete(name);
    }
    return forced;
  }

  private diff(state: DeltaTypeState, forced: ReadonlySet<string>): Diff {
    const wanted = new Set(state.names);
    if (state.wildcard) for (const name of this.source.names(state.typeUrl)) wanted.add(name);
    const node = this.node ?? clientNode(undefined);
    const send: EncodedResource[] = [];
    const removed: string[] = [];
    for (const name of [...wanted].sort()) {
      const resource = this.source.resource(state.typeUrl, name, node);
      if (resource) {
        if (forced.has(name) || state.known.get(name) !== resource.version) send.push(resource);
      } else if (state.known.has(name) || (state.names.has(name) && !state.reportedMissing.has(name))) {
        removed.push(name);
      }
    }
    for (const name of state.known.keys()) if (!wanted.has(name)) removed.push(name);
    for (const name of forced) if (!wanted.has(name) && !removed.includes(name)) removed.push(name);
    return { send, removed: removed.sort() };
  }

  private respond(state: DeltaTypeState, diff: Diff): void {
    if (diff.send.length === 0 && diff.removed.length === 0) return;
    for (const resource of diff.send) state.known.set(resource.name, resource.version);
    for (const name of diff.removed) {
      state.known.delete(name);
      if (state.names.has(name)) state.reportedMissing.add(name);
    }
    const nonce = this.nonces.take();
    const systemVersion = hashVersion(...[...state.known.entries()].sort().flat());
    state.pending.set(nonce, systemVersion);
    // A client answers every response; keep only a bounded tail in case one never does.
    if (state.pending.size > MAX_PENDING_NONCES) state.pending.delete(state.pending.keys().next().value ?? '');
    state.lastSentVersion = systemVersion;
    this.send({
      system_version_info: systemVersion,
      resources: diff.send.map((resource) => ({
        name: resource.name,
        version: resource.version,
        resource: { type_url: resource.typeUrl, value: resource.value },
      })),
      type_url: state.typeUrl,
      removed_resources: diff.removed,
      nonce,
      control_plane: CONTROL_PLANE,
    });
    this.observer.onResponse(state.typeUrl, diff.send.length);
  }
}

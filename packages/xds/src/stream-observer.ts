import type { ClientNode } from './client-node.js';

/** A NACK as the clients view shows it: when, for which type, what the client said. */
export interface NackRecord {
  readonly at: string;
  readonly typeUrl: string;
  /** The version the client rejected (the one sent with the NACKed nonce). */
  readonly rejectedVersion: string;
  /** The version the client keeps using (its last good one). */
  readonly keptVersion: string;
  readonly detail: string;
}

/** One type URL on one stream, for `GET /v1/xds/clients`. */
export interface TypeSubscriptionSnapshot {
  readonly typeUrl: string;
  /** Subscribed names; `*` stands for a wildcard subscription. */
  readonly subscribed: readonly string[];
  readonly lastSentVersion: string | null;
  readonly ackedVersion: string | null;
  readonly lastNack: NackRecord | null;
}

/** The per-type bookkeeping both stream kinds keep, as far as the clients view needs it. */
export interface SubscriptionState {
  readonly typeUrl: string;
  readonly names: ReadonlySet<string>;
  readonly wildcard: boolean;
  readonly lastSentVersion: string | null;
  readonly ackedVersion: string | null;
  readonly lastNack: NackRecord | null;
}

export function describeSubscriptions(states: Iterable<SubscriptionState>): TypeSubscriptionSnapshot[] {
  return [...states].map((state) => ({
    typeUrl: state.typeUrl,
    subscribed: [...(state.wildcard ? ['*'] : []), ...[...state.names].sort()],
    lastSentVersion: state.lastSentVersion,
    ackedVersion: state.ackedVersion,
    lastNack: state.lastNack,
  }));
}

export interface StreamSnapshot {
  readonly protocol: 'sotw' | 'delta';
  readonly node: ClientNode | null;
  readonly connectedSince: string;
  readonly types: readonly TypeSubscriptionSnapshot[];
}

/** What a stream reports as it runs: the server turns it into logs and metrics. */
export interface StreamObserver {
  onResponse(typeUrl: string, resourceCount: number): void;
  onAck(typeUrl: string, version: string): void;
  onNack(nack: NackRecord, node: ClientNode | null): void;
}

/** Makes nonces unique within a stream; they never need to survive it. */
export class NonceSequence {
  private next = 0;
  take(): string {
    this.next++;
    return this.next.toString(36);
  }
}

import type { Environment, Locality } from '@spillway/model';
import type { NackRecord, StreamSnapshot } from './stream-observer.js';
import { typeName } from './type-urls.js';

/** One connected xDS client, as `GET /v1/xds/clients` shows it. */
export interface XdsClientInfo {
  readonly nodeId: string;
  /** The identity its certificate proves (SPIFFE ID, else subject CN); null over plaintext. */
  readonly identity: string | null;
  readonly cluster: string;
  readonly locality: Locality;
  readonly environment: Environment | null;
  readonly kind: 'grpc' | 'envoy' | 'unknown';
  readonly userAgent: string;
  readonly protocol: 'sotw' | 'delta';
  readonly connectedSince: string;
  /** Per type (short name, e.g. `ClusterLoadAssignment`). */
  readonly resources: Readonly<Record<string, XdsTypeInfo>>;
  /** The most recent NACK over all types, if any. */
  readonly lastNack: NackRecord | null;
}

export interface XdsTypeInfo {
  readonly typeUrl: string;
  readonly subscribed: readonly string[];
  readonly ackedVersion: string | null;
  readonly lastSentVersion: string | null;
  readonly lastNack: NackRecord | null;
}

/** Anything that can describe itself: the SotW and Delta streams. */
export interface DescribedStream {
  snapshot(): StreamSnapshot;
}

/** What the transport knows of a stream's peer (the stream itself only sees requests). */
export interface StreamPeer {
  readonly identity: string | null;
}

/** The open streams, read on demand: the registry never copies state it would have to keep in sync. */
export class ClientRegistry<S extends DescribedStream = DescribedStream> {
  private readonly open = new Map<S, StreamPeer>();

  add(stream: S, peer: StreamPeer = { identity: null }): void {
    this.open.set(stream, peer);
  }

  remove(stream: S): void {
    this.open.delete(stream);
  }

  has(stream: S): boolean {
    return this.open.has(stream);
  }

  streams(): readonly S[] {
    return [...this.open.keys()];
  }

  clients(): XdsClientInfo[] {
    return [...this.open].map(([stream, peer]) => describe(stream.snapshot(), peer));
  }
}

function describe(snapshot: StreamSnapshot, peer: StreamPeer): XdsClientInfo {
  const resources: Record<string, XdsTypeInfo> = {};
  let lastNack: NackRecord | null = null;
  for (const type of snapshot.types) {
    resources[typeName(type.typeUrl)] = {
      typeUrl: type.typeUrl,
      subscribed: type.subscribed,
      ackedVersion: type.ackedVersion,
      lastSentVersion: type.lastSentVersion,
      lastNack: type.lastNack,
    };
    if (type.lastNack && (!lastNack || type.lastNack.at >= lastNack.at)) lastNack = type.lastNack;
  }
  const node = snapshot.node;
  return {
    nodeId: node?.id ?? '',
    identity: peer.identity,
    cluster: node?.cluster ?? '',
    locality: node?.locality ?? { region: '', zone: '', subZone: '' },
    environment: node?.environment ?? null,
    kind: node?.kind ?? 'unknown',
    userAgent: node?.userAgent ?? '',
    protocol: snapshot.protocol,
    connectedSince: snapshot.connectedSince,
    resources,
    lastNack,
  };
}

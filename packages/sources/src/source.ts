import type { Endpoint, Environment, ServiceKey, SourceKind } from '@spillway/model';

/** Endpoints per service, as one source sees them. */
export type ServiceEndpoints = ReadonlyMap<ServiceKey, readonly Endpoint[]>;

/**
 * Where a source reports what it sees. The catalog implements it; a source never merges,
 * never decides staleness and never keeps metrics of its liveness: it only reports.
 */
export interface SourceSink {
  /** The source's complete view; replaces everything it reported before (initial list, relist). */
  replaceAll(services: ServiceEndpoints): void;
  /** Replaces some services' endpoints; an empty list removes the service from this source. */
  replaceServices(services: ServiceEndpoints): void;
  /** A successful contact that changed nothing (unchanged poll, watch bookmark, reconnect). */
  alive(): void;
  /** A failed contact. The source keeps retrying with backoff by itself. */
  failed(error: Error): void;
}

/** A service registry Spillway federates: Kubernetes, Consul, Nomad, EKS or a static list. */
export interface RegistrySource {
  readonly name: string;
  readonly kind: SourceKind;
  readonly environment: Environment;
  readonly region: string;
  /** Starts watching in the background; resolves once started, not on the first sync. */
  start(sink: SourceSink): Promise<void>;
  /** Stops watching and releases every connection and timer; idempotent. */
  stop(): Promise<void>;
}

/** Error from a source, typed so the catalog and the API can say which source and why. */
export class SourceError extends Error {
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
    this.name = 'SourceError';
  }
}

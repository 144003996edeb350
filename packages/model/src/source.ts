import { z } from 'zod';
import type { Endpoint } from './endpoint.js';
import { Environment } from './locality.js';
import type { ServiceKey } from './service.js';

export const SourceKind = z.enum(['static', 'kubernetes', 'consul', 'nomad', 'eks']);
export type SourceKind = z.infer<typeof SourceKind>;

/**
 * A source's liveness as the catalog sees it:
 * - `syncing`: started, no complete view yet;
 * - `live`: its last contact succeeded;
 * - `failing`: its last contact failed, endpoints kept as they were (inside the grace period);
 * - `stale`: failing for longer than the grace period; its endpoints are served unhealthy.
 */
export const SourceState = z.enum(['syncing', 'live', 'failing', 'stale']);
export type SourceState = z.infer<typeof SourceState>;

export const SourceStatus = z.object({
  name: z.string(),
  kind: SourceKind,
  environment: Environment,
  region: z.string(),
  state: SourceState,
  /** ISO time of the last successful contact (list, watch event, poll). */
  lastSyncAt: z.string().nullable(),
  /** ISO time since which the source has been failing; null while it is healthy. */
  failingSince: z.string().nullable(),
  /** ISO time at which the source went past its grace period. */
  staleSince: z.string().nullable(),
  lastError: z.string().nullable(),
  serviceCount: z.number().int(),
  endpointCount: z.number().int(),
});
export type SourceStatus = z.infer<typeof SourceStatus>;

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

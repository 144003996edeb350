import type { Environment, Locality } from '@spillway/model';

/** xDS `HealthStatus` values Spillway emits (Envoy treats DRAINING as unhealthy, gRPC drops it). */
export type EndpointHealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'DRAINING';

export interface EndpointAssignment {
  readonly address: string;
  readonly port: number;
  readonly health: EndpointHealthStatus;
  /** `load_balancing_weight` of the LbEndpoint, 1..128. */
  readonly weight: number;
}

export interface LocalityAssignment {
  readonly locality: Locality;
  readonly environment: Environment;
  /** `load_balancing_weight` of the LocalityLbEndpoints: uint32, at least 1. */
  readonly weight: number;
  readonly endpoints: readonly EndpointAssignment[];
}

export interface PriorityLevel {
  readonly localities: readonly LocalityAssignment[];
}

/**
 * What one client should see for one service: `priorities[i]` is xDS priority `i`. Contiguous
 * from 0 (empty rings are collapsed), each locality at most once per priority, each
 * address:port at most once overall.
 */
export interface LoadAssignment {
  readonly priorities: readonly PriorityLevel[];
  /** The client's environment, as given or inferred. */
  readonly clientEnvironment: Environment;
  /** The cloud share this assignment realises in priority 0; 0 when not bursting. */
  readonly cloudShare: number;
}

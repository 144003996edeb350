import {
  DEFAULT_PROXIMITY,
  type Endpoint,
  type Environment,
  type Locality,
  type ProximityRing,
  type Service,
} from '@spillway/model';
import { apportionWeights } from './apportion-weights.js';
import { inferClientEnvironment } from './client-environment.js';
import { deduplicateEndpoints } from './deduplicate-endpoints.js';
import { healthStatus } from './health-status.js';
import type { LoadAssignment, LocalityAssignment, PriorityLevel } from './load-assignment.js';
import { groupByLocality, healthyCapacity, healthyEndpoints, type LocalityGroup } from './locality-group.js';
import { type ProximityClient, ringIndex } from './proximity.js';

/** Total locality weight of the burst priority: 1/10000 resolution keeps shares within 0.01 point. */
export const BURST_WEIGHT_TOTAL = 10_000;

export interface LoadAssignmentClient {
  readonly locality: Locality;
  readonly environment?: Environment;
}

export interface LoadAssignmentOptions {
  /** Ring order, nearest first; DEFAULT_PROXIMITY when absent. */
  readonly proximity?: readonly ProximityRing[];
  /**
   * Envoy's overprovisioning factor (1.4 by default). The burst priority is built 100% healthy,
   * so the factor never changes the realised share; it is accepted so callers state what the
   * ClusterLoadAssignment will carry.
   */
  readonly overprovisioningFactor?: number;
}

/**
 * The EDS view of `service` for one client: priorities by proximity and, during a burst,
 * a priority 0 that sends exactly `cloudShare` of requests to cloud localities.
 * Pure: the same inputs give the same output whatever the order of the endpoints.
 */
export function computeLoadAssignment(
  service: Service,
  client: LoadAssignmentClient,
  policy: { readonly cloudShare: number } | undefined,
  options: LoadAssignmentOptions = {},
): LoadAssignment {
  const groups = groupByLocality(deduplicateEndpoints(service.endpoints));
  const environment = client.environment ?? inferClientEnvironment(client.locality, groups);
  const proximity: ProximityClient = { locality: client.locality, environment };
  const order = options.proximity ?? DEFAULT_PROXIMITY;
  const share = effectiveCloudShare(policy, groups);
  const priorities =
    share > 0 ? burstPriorities(groups, proximity, order, share) : ringPriorities(groups, proximity, order);
  return { priorities, clientEnvironment: environment, cloudShare: share };
}

/** The share to realise: 0 without a policy, or when no cloud endpoint is healthy to take it. */
function effectiveCloudShare(policy: { readonly cloudShare: number } | undefined, groups: readonly LocalityGroup[]) {
  const share = policy?.cloudShare ?? 0;
  if (Math.round(share * BURST_WEIGHT_TOTAL) <= 0) return 0;
  const cloudReady = groups.some((group) => group.environment === 'cloud' && healthyCapacity(group) > 0);
  return cloudReady ? Math.min(1, share) : 0;
}

/** No burst: one priority per non-empty ring, every endpoint listed with its health. */
function ringPriorities(
  groups: readonly LocalityGroup[],
  client: ProximityClient,
  order: readonly ProximityRing[],
): PriorityLevel[] {
  const rings = new Map<number, LocalityAssignment[]>();
  for (const group of groups) {
    const ring = ringIndex(group, client, order);
    const assignment = toAssignment(group, group.endpoints, Math.max(1, healthyCapacity(group)));
    const members = rings.get(ring);
    if (members) members.push(assignment);
    else rings.set(ring, [assignment]);
  }
  return [...rings.entries()].sort(([a], [b]) => a - b).map(([, localities]) => ({ localities }));
}

/**
 * Burst: priority 0 holds the healthy endpoints of every cloud locality and of the client's
 * nearest on-prem ring that has a healthy endpoint (none when the share is 1), weighted so
 * cloud localities sum to share × 10000 and on-prem ones to the rest. Only healthy endpoints
 * are listed there, so every locality and the priority are 100% healthy: Envoy's
 * min(1, healthy_ratio × overprovisioning) is 1 everywhere and it applies the weights as
 * given, exactly as gRPC does. The other on-prem localities follow by ring, as failover.
 */
function burstPriorities(
  groups: readonly LocalityGroup[],
  client: ProximityClient,
  order: readonly ProximityRing[],
  share: number,
): PriorityLevel[] {
  const cloud = groups.filter((group) => group.environment === 'cloud' && healthyCapacity(group) > 0);
  const onprem = groups.filter((group) => group.environment === 'onprem');
  const cloudWeight = Math.round(share * BURST_WEIGHT_TOTAL);
  const nearest = cloudWeight < BURST_WEIGHT_TOTAL ? nearestServingRing(onprem, client, order) : undefined;
  const joining = onprem.filter((group) => nearest !== undefined && ringIndex(group, client, order) === nearest);
  const burst = [
    ...weighted(
      joining.filter((group) => healthyCapacity(group) > 0),
      BURST_WEIGHT_TOTAL - cloudWeight,
    ),
    ...weighted(cloud, cloudWeight),
  ];
  const rest = onprem.filter((group) => !joining.includes(group));
  return [{ localities: burst }, ...ringPriorities(rest, client, order)];
}

function nearestServingRing(
  onprem: readonly LocalityGroup[],
  client: ProximityClient,
  order: readonly ProximityRing[],
): number | undefined {
  const rings = onprem.filter((group) => healthyCapacity(group) > 0).map((group) => ringIndex(group, client, order));
  return rings.length > 0 ? Math.min(...rings) : undefined;
}

/** Healthy endpoints only, locality weights splitting `total` by healthy capacity. */
function weighted(groups: readonly LocalityGroup[], total: number): LocalityAssignment[] {
  const weights = apportionWeights(total, groups.map(healthyCapacity));
  return groups.map((group, index) => toAssignment(group, healthyEndpoints(group), weights[index] ?? 1));
}

function toAssignment(group: LocalityGroup, endpoints: readonly Endpoint[], weight: number): LocalityAssignment {
  return {
    locality: group.locality,
    environment: group.environment,
    weight,
    endpoints: endpoints.map((endpoint) => ({
      address: endpoint.address,
      port: endpoint.port,
      health: healthStatus(endpoint.health),
      weight: endpoint.weight,
    })),
  };
}

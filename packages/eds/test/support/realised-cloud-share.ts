import type { Environment } from '@spillway/model';
import type { LoadAssignment, LocalityAssignment } from '../../src/index.js';

/**
 * Independent models of how the two kinds of xDS client spread requests over a
 * LoadAssignment, written from their documented rules and not from the code under test.
 * `environmentOf` maps address:port to the environment the catalog gave the endpoint.
 */
export type EnvironmentOf = (address: string, port: number) => Environment;

/**
 * Envoy with `locality_weighted_lb_config`: priority health = min(1, factor × healthy/total)
 * by host count; load fills priorities in order, normalised when the total health is below
 * 100%; inside a priority a locality's effective weight is weight × min(1, factor ×
 * healthy/total); inside a locality healthy hosts share by endpoint weight.
 * Returns NaN when no priority has a healthy host (Envoy would be in panic mode).
 */
export function envoyCloudShare(assignment: LoadAssignment, environmentOf: EnvironmentOf, factor = 1.4): number {
  const health = assignment.priorities.map((priority) => {
    const endpoints = priority.localities.flatMap((locality) => locality.endpoints);
    const healthy = endpoints.filter((endpoint) => endpoint.health === 'HEALTHY').length;
    return endpoints.length === 0 ? 0 : Math.min(1, (factor * healthy) / endpoints.length);
  });
  const totalHealth = Math.min(
    1,
    health.reduce((sum, value) => sum + value, 0),
  );
  if (totalHealth === 0) return Number.NaN;
  let remaining = 1;
  let cloud = 0;
  assignment.priorities.forEach((priority, index) => {
    const load = Math.min(remaining, (health[index] ?? 0) / totalHealth);
    remaining -= load;
    if (load <= 0) return;
    const effective = priority.localities.map((locality) => locality.weight * availability(locality, factor));
    const total = effective.reduce((sum, value) => sum + value, 0);
    priority.localities.forEach((locality, i) => {
      if (total > 0) cloud += load * ((effective[i] ?? 0) / total) * cloudFraction(locality, environmentOf, true);
    });
  });
  return cloud;
}

function availability(locality: LocalityAssignment, factor: number): number {
  if (locality.endpoints.length === 0) return 0;
  const healthy = locality.endpoints.filter((endpoint) => endpoint.health === 'HEALTHY').length;
  return Math.min(1, (factor * healthy) / locality.endpoints.length);
}

/**
 * gRPC (grpc-js-xds): drops endpoints that are not HEALTHY/UNKNOWN, then localities left
 * empty, then priorities left empty; all traffic goes to the first remaining priority, split
 * over its localities by locality weight (weighted_target), round robin inside a locality.
 */
export function grpcCloudShare(assignment: LoadAssignment, environmentOf: EnvironmentOf): number {
  const first = assignment.priorities
    .map((priority) =>
      priority.localities.filter((locality) => locality.endpoints.some((endpoint) => endpoint.health === 'HEALTHY')),
    )
    .find((localities) => localities.length > 0);
  if (!first) return Number.NaN;
  const total = first.reduce((sum, locality) => sum + locality.weight, 0);
  return first.reduce(
    (sum, locality) => sum + (locality.weight / total) * cloudFraction(locality, environmentOf, false),
    0,
  );
}

/** Fraction of a locality's requests that land on cloud endpoints. */
function cloudFraction(locality: LocalityAssignment, environmentOf: EnvironmentOf, byEndpointWeight: boolean): number {
  const healthy = locality.endpoints.filter((endpoint) => endpoint.health === 'HEALTHY');
  const weightOf = (endpoint: { weight: number }) => (byEndpointWeight ? endpoint.weight : 1);
  const total = healthy.reduce((sum, endpoint) => sum + weightOf(endpoint), 0);
  if (total === 0) return 0;
  const cloud = healthy
    .filter((endpoint) => environmentOf(endpoint.address, endpoint.port) === 'cloud')
    .reduce((sum, endpoint) => sum + weightOf(endpoint), 0);
  return cloud / total;
}

import { type Endpoint, endpointId, HEALTH_RANK, localityKey } from '@spillway/model';
import { compareStrings } from './locality-group.js';

/**
 * One endpoint per address:port, as xDS clients require (gRPC NACKs a duplicate address).
 * When two registries report the same address, the healthier report wins; ties go to the
 * lexically first cluster, then locality (then any remaining detail), so the choice never
 * depends on input order.
 * The result is sorted by address:port.
 */
export function deduplicateEndpoints(endpoints: readonly Endpoint[]): Endpoint[] {
  const best = new Map<string, Endpoint>();
  for (const endpoint of endpoints) {
    const id = endpointId(endpoint);
    const current = best.get(id);
    if (!current || preferred(endpoint, current)) best.set(id, endpoint);
  }
  return [...best.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, endpoint]) => endpoint);
}

function preferred(candidate: Endpoint, current: Endpoint): boolean {
  const byHealth = HEALTH_RANK[candidate.health] - HEALTH_RANK[current.health];
  if (byHealth !== 0) return byHealth < 0;
  const byCluster = compareStrings(candidate.cluster, current.cluster);
  if (byCluster !== 0) return byCluster < 0;
  const byLocality = compareStrings(localityKey(candidate.locality), localityKey(current.locality));
  if (byLocality !== 0) return byLocality < 0;
  // Identical reports that differ only in detail: any total order will do, as long as it is one.
  if (candidate.environment !== current.environment) return candidate.environment === 'onprem';
  if (candidate.weight !== current.weight) return candidate.weight > current.weight;
  return compareStrings(JSON.stringify(sortedLabels(candidate)), JSON.stringify(sortedLabels(current))) < 0;
}

function sortedLabels(endpoint: Endpoint): [string, string][] {
  return Object.entries(endpoint.labels).sort(([a], [b]) => compareStrings(a, b));
}

import type { Environment, Locality, ProximityRing } from '@spillway/model';
import type { LocalityGroup } from './locality-group.js';

export interface ProximityClient {
  readonly locality: Locality;
  readonly environment: Environment;
}

/**
 * Index of the first ring in `order` the locality belongs to; `order.length` (a catch-all
 * ring after the listed ones) when it matches none, so an order that leaves a ring out
 * never drops endpoints.
 */
export function ringIndex(group: LocalityGroup, client: ProximityClient, order: readonly ProximityRing[]): number {
  const index = order.findIndex((ring) => inRing(ring, group, client));
  return index === -1 ? order.length : index;
}

function inRing(ring: ProximityRing, group: LocalityGroup, client: ProximityClient): boolean {
  const { locality } = client;
  switch (ring) {
    case 'zone':
      return locality.zone !== '' && group.locality.region === locality.region && group.locality.zone === locality.zone;
    case 'region':
      return locality.region !== '' && group.locality.region === locality.region;
    case 'environment':
      return group.environment === client.environment;
    case 'other-environment':
      return group.environment !== client.environment;
  }
}

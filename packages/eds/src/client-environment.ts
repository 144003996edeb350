import type { Environment, Locality } from '@spillway/model';
import type { LocalityGroup } from './locality-group.js';

/**
 * Infers where a client runs when it did not say (node metadata `spillway.environment`):
 * a client whose region hosts on-prem endpoints of the service is on-prem; else one whose
 * region hosts cloud endpoints is in the cloud; anything else is treated as on-prem. The
 * fallback is deliberately on-prem: an unlabelled client then keeps cloud endpoints in its
 * farthest ring and reaches them only through a burst or a failover, never by accident.
 */
export function inferClientEnvironment(client: Locality, groups: readonly LocalityGroup[]): Environment {
  if (client.region === '') return 'onprem';
  const inRegion = groups.filter((group) => group.locality.region === client.region);
  if (inRegion.some((group) => group.environment === 'onprem')) return 'onprem';
  if (inRegion.some((group) => group.environment === 'cloud')) return 'cloud';
  return 'onprem';
}

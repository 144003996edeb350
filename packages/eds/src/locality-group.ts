import { type Endpoint, type Environment, type Locality, localityKey } from '@spillway/model';

/** The endpoints of one service in one locality, sorted by address:port. */
export interface LocalityGroup {
  readonly key: string;
  readonly locality: Locality;
  /** `cloud` only when every endpoint in the locality is a cloud endpoint (see README). */
  readonly environment: Environment;
  readonly endpoints: readonly Endpoint[];
}

/** Groups endpoints by locality, sorted by locality key so the output never depends on input order. */
export function groupByLocality(endpoints: readonly Endpoint[]): LocalityGroup[] {
  const byKey = new Map<string, Endpoint[]>();
  for (const endpoint of endpoints) {
    const key = localityKey(endpoint.locality);
    const list = byKey.get(key);
    if (list) list.push(endpoint);
    else byKey.set(key, [endpoint]);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([key, members]) => ({
      key,
      locality: members[0]!.locality,
      environment: members.every((endpoint) => endpoint.environment === 'cloud') ? 'cloud' : 'onprem',
      endpoints: members,
    }));
}

export function healthyEndpoints(group: LocalityGroup): Endpoint[] {
  return group.endpoints.filter((endpoint) => endpoint.health === 'healthy');
}

/** Sum of the weights of the healthy endpoints: the locality's serving capacity. */
export function healthyCapacity(group: LocalityGroup): number {
  return healthyEndpoints(group).reduce((sum, endpoint) => sum + endpoint.weight, 0);
}

/** Code-point order, independent of the host's locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

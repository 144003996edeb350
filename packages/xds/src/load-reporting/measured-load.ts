import type { CatalogSnapshot, MeasuredLoad, MeasuredLocalityLoad } from '@spillway/model';
import type { WindowedLocalityLoad } from './load-report-store.js';

/**
 * `GET /v1/load` from what the store holds: localities merged by region and zone (sub-zones
 * summed), each with the environment the catalog gives it for this service, and the share of
 * requests that reached the cloud. A locality is cloud only if every endpoint the catalog has
 * there is cloud (as in the EDS computation); one the catalog does not have is `unknown`.
 */
export function measuredLoad(
  service: string,
  windowSeconds: number,
  loads: readonly WindowedLocalityLoad[],
  catalog: CatalogSnapshot,
): MeasuredLoad {
  const environments = localityEnvironments(catalog, service);
  const merged = new Map<string, MeasuredLocalityLoad>();
  for (const load of loads) {
    const { region, zone } = load.locality;
    const key = `${region}/${zone}`;
    const before = merged.get(key);
    merged.set(key, {
      region,
      zone,
      environment: environments.get(key) ?? 'unknown',
      requests: (before?.requests ?? 0) + load.completed + load.inProgress,
      errors: (before?.errors ?? 0) + load.errors,
    });
  }
  const localities = [...merged.values()].sort(
    (a, b) => a.region.localeCompare(b.region) || a.zone.localeCompare(b.zone),
  );
  const total = localities.reduce((sum, locality) => sum + locality.requests, 0);
  const cloud = localities
    .filter((locality) => locality.environment === 'cloud')
    .reduce((sum, locality) => sum + locality.requests, 0);
  return { service, windowSeconds, localities, cloudShare: total === 0 ? null : cloud / total };
}

function localityEnvironments(catalog: CatalogSnapshot, service: string): Map<string, 'onprem' | 'cloud'> {
  const environments = new Map<string, 'onprem' | 'cloud'>();
  for (const endpoint of catalog.services.get(service)?.endpoints ?? []) {
    const key = `${endpoint.locality.region}/${endpoint.locality.zone}`;
    if (environments.get(key) === 'onprem') continue;
    environments.set(key, endpoint.environment);
  }
  return environments;
}

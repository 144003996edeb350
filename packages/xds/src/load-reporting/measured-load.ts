import { type CatalogSnapshot, type MeasuredLoad, type MeasuredLocalityLoad, sumMeasuredLoads } from '@spillway/model';
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
  const localities = loads.map(
    (load): MeasuredLocalityLoad => ({
      region: load.locality.region,
      zone: load.locality.zone,
      environment: environments.get(`${load.locality.region}/${load.locality.zone}`) ?? 'unknown',
      requests: load.completed + load.inProgress,
      errors: load.errors,
    }),
  );
  return sumMeasuredLoads(service, windowSeconds, [localities]);
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

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
  // Most services have no reports: skip the walk over their endpoints (the fleet publisher asks for every one).
  if (loads.length === 0) return sumMeasuredLoads(service, windowSeconds, []);
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

type LocalityEnvironments = ReadonlyMap<string, 'onprem' | 'cloud'>;

/**
 * Per catalog service object (immutable, and shared by the catalog versions in which the
 * service did not change): the fleet publisher asks for several windows of every service with
 * reports, every few seconds, and the walk over endpoints would otherwise repeat each time.
 */
const environmentsOf = new WeakMap<object, LocalityEnvironments>();

function localityEnvironments(catalog: CatalogSnapshot, service: string): LocalityEnvironments {
  const entry = catalog.services.get(service);
  if (!entry) return new Map();
  const known = environmentsOf.get(entry);
  if (known) return known;
  const environments = new Map<string, 'onprem' | 'cloud'>();
  for (const endpoint of entry.endpoints) {
    const key = `${endpoint.locality.region}/${endpoint.locality.zone}`;
    if (environments.get(key) === 'onprem') continue;
    environments.set(key, endpoint.environment);
  }
  environmentsOf.set(entry, environments);
  return environments;
}

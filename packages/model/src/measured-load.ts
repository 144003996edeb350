import { z } from 'zod';

/**
 * Traffic as the clients themselves report it (LRS), per locality of one service, over the
 * last `windowSeconds`: `GET /v1/load?service=NAME.NS&windowSeconds=W`.
 * `environment` comes from the catalog; `unknown` is a locality the catalog does not have for
 * the service (its requests count in the total, never as cloud).
 */
export const MeasuredLocalityLoad = z.object({
  region: z.string(),
  zone: z.string(),
  environment: z.enum(['onprem', 'cloud', 'unknown']),
  /** Requests completed in the window (successful + errors), plus those in progress at the last report. */
  requests: z.number().int().min(0),
  errors: z.number().int().min(0),
});
export type MeasuredLocalityLoad = z.infer<typeof MeasuredLocalityLoad>;

export const MeasuredLoad = z.object({
  service: z.string(),
  windowSeconds: z.number().int().min(1),
  localities: z.array(MeasuredLocalityLoad),
  /** Cloud requests / all requests; null when no request was reported in the window. */
  cloudShare: z.number().min(0).max(1).nullable(),
});
export type MeasuredLoad = z.infer<typeof MeasuredLoad>;

/** Where the burst controller reads measured load from: the router in-process, or over HTTP. */
export interface MeasuredLoadReader {
  measuredLoad(service: string, windowSeconds: number): Promise<MeasuredLoad>;
}

/** Which environment wins when parts disagree: as in the EDS view, one on-prem endpoint makes a locality on-prem. */
const ENVIRONMENT_RANK = { onprem: 2, cloud: 1, unknown: 0 } as const;

/**
 * One MeasuredLoad from parts measured separately (several routers, several time buckets):
 * requests and errors summed per (region, zone); the environment is the strongest any part gave
 * (on-prem over cloud over unknown: a router whose catalog lags must not hide what another knows).
 */
export function sumMeasuredLoads(
  service: string,
  windowSeconds: number,
  parts: Iterable<readonly MeasuredLocalityLoad[]>,
): MeasuredLoad {
  const merged = new Map<string, MeasuredLocalityLoad>();
  for (const part of parts) {
    for (const load of part) {
      const key = `${load.region}/${load.zone}`;
      const before = merged.get(key);
      const environment =
        before && ENVIRONMENT_RANK[before.environment] > ENVIRONMENT_RANK[load.environment]
          ? before.environment
          : load.environment;
      merged.set(key, {
        region: load.region,
        zone: load.zone,
        environment,
        requests: (before?.requests ?? 0) + load.requests,
        errors: (before?.errors ?? 0) + load.errors,
      });
    }
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

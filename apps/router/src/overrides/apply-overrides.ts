import { type Endpoint, type Service, type ServiceKey, serviceKey } from '@spillway/model';
import type { ActiveOverride, DrainOverride, ForceShareOverride, RouterOverride } from './router-override.js';

/** Whether `drain` applies to the service `key` at all (before looking at endpoints). */
export function drainCoversService(drain: DrainOverride, key: ServiceKey): boolean {
  return drain.service === undefined || drain.service === key;
}

/** Whether the endpoint's zone, region and cluster equal every field the drain gives. */
export function drainMatchesEndpoint(drain: DrainOverride, endpoint: Endpoint): boolean {
  return (
    (drain.zone === undefined || endpoint.locality.zone === drain.zone) &&
    (drain.region === undefined || endpoint.locality.region === drain.region) &&
    (drain.cluster === undefined || endpoint.cluster === drain.cluster)
  );
}

/**
 * The service as the router publishes it under `drains`: matching healthy endpoints become
 * `draining`; unhealthy and draining ones keep their health. Returns `service` itself when no
 * endpoint changes, so callers can tell "untouched" by identity.
 */
export function drainService(service: Service, drains: readonly DrainOverride[]): Service {
  const key = serviceKey(service.name, service.namespace);
  const applicable = drains.filter((drain) => drainCoversService(drain, key));
  if (applicable.length === 0) return service;
  let changed = false;
  const endpoints = service.endpoints.map((endpoint) => {
    if (endpoint.health !== 'healthy' || !applicable.some((drain) => drainMatchesEndpoint(drain, endpoint))) {
      return endpoint;
    }
    changed = true;
    return { ...endpoint, health: 'draining' as const };
  });
  return changed ? { ...service, endpoints } : service;
}

/** The cloud share forced on `service` by `overrides` (in the order added: the last one wins). */
export function forcedShare(service: ServiceKey, overrides: readonly RouterOverride[]): number | undefined {
  let share: number | undefined;
  for (const override of overrides) {
    if (override.kind === 'force-share' && override.service === service) share = override.share;
  }
  return share;
}

/** An active force-share override, narrowed. */
export type ActiveForceShare = ActiveOverride & { readonly override: ForceShareOverride };
/** An active drain override, narrowed. */
export type ActiveDrain = ActiveOverride & { readonly override: DrainOverride };

export function isActiveDrain(active: ActiveOverride): active is ActiveDrain {
  return active.override.kind === 'drain';
}

export function isActiveForceShare(active: ActiveOverride): active is ActiveForceShare {
  return active.override.kind === 'force-share';
}

/** The force-share in effect per service (the last added wins), from active overrides in order. */
export function forcedShares(active: readonly ActiveOverride[]): Map<ServiceKey, ActiveForceShare> {
  const winners = new Map<ServiceKey, ActiveForceShare>();
  for (const entry of active) {
    if (isActiveForceShare(entry)) winners.set(entry.override.service, entry);
  }
  return winners;
}

/** The services whose published view an override touches; an unscoped drain touches them all. */
export function overrideScope(override: RouterOverride): ServiceKey | 'all' {
  return override.service ?? 'all';
}

import type { CatalogFreshness, CatalogReader } from '@spillway/model';
import { Gauge, type ReadinessCheck, type Registry } from '@spillway/observability';

/** What the router knows about a catalog it follows from a federation. */
export interface FollowedCatalogStatus {
  freshness(): CatalogFreshness;
  /** One line on the snapshot file when one is configured: which file, or why it was ignored. */
  readonly snapshotNote?: string;
}

const AGE_METRIC = 'spillway_router_catalog_age_seconds';

/** Seconds since the catalog last matched the federation's; 0 while the feed is followed. */
export function catalogAgeSeconds(freshness: CatalogFreshness, now = Date.now()): number | undefined {
  if (freshness.origin === 'none' || freshness.syncedAt === null) return undefined;
  return freshness.live ? 0 : Math.max(0, Math.round((now - freshness.syncedAt.getTime()) / 1000));
}

/**
 * `/readyz`: not ready until there is a catalog, because until then xDS holds every request.
 * Ready with a detail saying where the catalog comes from and how old it is when it is not live.
 */
export function catalogReadiness(catalog: CatalogReader, status?: FollowedCatalogStatus): ReadinessCheck {
  return {
    name: 'catalog',
    check: () => {
      const note = status?.snapshotNote ? `; ${status.snapshotNote}` : '';
      if (catalog.current().version === 0) {
        const until = status ? 'the federation answers' : 'the catalog has its first version';
        return { ready: false, detail: `no catalog yet: xDS requests are held until ${until}${note}` };
      }
      if (!status) return { ready: true };
      const freshness = status.freshness();
      const age = catalogAgeSeconds(freshness);
      const synced = `synced ${freshness.syncedAt?.toISOString()}, age ${age} s`;
      switch (freshness.origin) {
        case 'snapshot':
          return {
            ready: true,
            detail: `serving the saved catalog (${status.snapshotNote}), ${synced}: the federation has not answered yet`,
          };
        case 'federation':
          return freshness.live
            ? { ready: true, detail: 'following the federation' }
            : { ready: true, detail: `the federation is unreachable: serving the last catalog, ${synced}` };
        default:
          return { ready: true };
      }
    },
  };
}

/**
 * `spillway_router_catalog_age_seconds{origin}`: read at scrape time; no sample before there is
 * a catalog. Replaces one registered by an earlier router on the same registry.
 */
export function registerCatalogAgeMetric(registry: Registry, status: FollowedCatalogStatus): void {
  registry.removeSingleMetric(AGE_METRIC);
  new Gauge({
    name: AGE_METRIC,
    help: 'Seconds since the served catalog last matched the federation (0 while following it; origin snapshot: loaded from the snapshot file)',
    labelNames: ['origin'],
    registers: [registry],
    collect() {
      this.reset();
      const freshness = status.freshness();
      const age = catalogAgeSeconds(freshness);
      if (age !== undefined) this.set({ origin: freshness.origin }, age);
    },
  });
}

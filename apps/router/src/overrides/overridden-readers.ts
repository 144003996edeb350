import type {
  CatalogChange,
  CatalogReader,
  CatalogSnapshot,
  Service,
  ServiceKey,
  TrafficPolicy,
  TrafficPolicyReader,
} from '@spillway/model';
import {
  type ActiveDrain,
  type ActiveForceShare,
  drainCoversService,
  drainMatchesEndpoint,
  drainService,
  forcedShares,
  isActiveDrain,
} from './apply-overrides.js';
import type { DrainOverride } from './router-override.js';
import type { RouterOverrides } from './router-overrides.js';

type CatalogListener = (change: CatalogChange, snapshot: CatalogSnapshot) => void;

/**
 * The catalog as the router publishes it: `catalog` with the active drains applied. Without a
 * drain that matches an endpoint, `current()` is the base snapshot itself. With one, it is a
 * snapshot at the same version whose drained services are replaced, derived once per base
 * snapshot and drain set.
 * Subscribers get the base catalog's changes (with the derived snapshot) and, when the drains
 * change, a change at the same version (`previousVersion === version`) naming the services
 * where an added or removed drain matches a healthy endpoint; none when it matches nothing.
 * `stop()` ends both subscriptions.
 */
export function overriddenCatalog(
  catalog: CatalogReader,
  overrides: RouterOverrides,
): CatalogReader & { stop(): void } {
  const listeners = new Set<CatalogListener>();
  let drainsGeneration = -1;
  let drains: readonly ActiveDrain[] = [];
  let derivedFrom: { base: CatalogSnapshot; drains: readonly ActiveDrain[] } | undefined;
  let derived: CatalogSnapshot | undefined;
  /** The drains subscribers were last told about, to name what an overrides change touched. */
  let notified = new Map<string, ActiveDrain>(
    overrides
      .list()
      .filter(isActiveDrain)
      .map((entry) => [entry.id, entry]),
  );

  /** The active drains; the same array while they do not change (force-shares do not count). */
  const currentDrains = (): readonly ActiveDrain[] => {
    if (overrides.generation !== drainsGeneration) {
      drainsGeneration = overrides.generation;
      const next = overrides.list().filter(isActiveDrain);
      if (!sameIds(next, drains)) drains = next;
    }
    return drains;
  };

  const publish = (base: CatalogSnapshot): CatalogSnapshot => {
    const active = currentDrains();
    if (active.length === 0) return base;
    if (derived && derivedFrom?.base === base && derivedFrom.drains === active) return derived;
    const rules = active.map((entry) => entry.override);
    // Service-scoped drains only need their services looked at; one unscoped drain needs all.
    const scoped = rules.every((rule) => rule.service !== undefined);
    const keys = scoped ? new Set(rules.map((rule) => rule.service as ServiceKey)) : base.services.keys();
    let services: Map<ServiceKey, Service> | undefined;
    for (const key of keys) {
      const service = base.services.get(key);
      if (!service) continue;
      const drained = drainService(service, rules);
      if (drained === service) continue;
      services ??= new Map(base.services);
      services.set(key, drained);
    }
    // Drains that match nothing publish the base snapshot itself.
    derived = services ? { version: base.version, services, sources: base.sources } : base;
    derivedFrom = { base, drains: active };
    return derived;
  };

  const emit = (change: CatalogChange, snapshot: CatalogSnapshot) => {
    for (const listener of [...listeners]) listener(change, snapshot);
  };

  const unsubscribeCatalog = catalog.subscribe((change, base) => emit(change, publish(base)));
  const unsubscribeOverrides = overrides.subscribe(() => {
    const next = new Map(currentDrains().map((entry) => [entry.id, entry]));
    const touched = [...notified.values()].filter((entry) => !next.has(entry.id));
    touched.push(...[...next.values()].filter((entry) => !notified.has(entry.id)));
    notified = next;
    if (touched.length === 0) return;
    const base = catalog.current();
    const snapshot = publish(base);
    // The services where an added or removed drain matches a healthy endpoint: a superset of
    // those whose published endpoints changed (another drain may still cover the endpoint).
    const rules = touched.map((entry) => entry.override);
    const candidates = rules.some((rule) => rule.service === undefined)
      ? base.services.keys()
      : new Set(rules.map((rule) => rule.service as ServiceKey));
    const changed: ServiceKey[] = [];
    for (const key of candidates) {
      const service = base.services.get(key);
      if (service && rules.some((rule) => drainTouches(rule, key, service))) changed.push(key);
    }
    if (changed.length === 0) return;
    emit({ version: snapshot.version, previousVersion: snapshot.version, changed, removed: [] }, snapshot);
  });

  return {
    current: () => publish(catalog.current()),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      unsubscribeCatalog();
      unsubscribeOverrides();
      listeners.clear();
    },
  };
}

/**
 * The traffic policies as the router publishes them: a service with an active force-share gets
 * `{ cloudShare: share, reason: 'override <id>: <reason>' }` (the last added wins), every other
 * service its base policy. Subscribers get the base changes and the services whose forced share
 * was added, replaced, removed or expired. `stop()` ends both subscriptions.
 */
export function overriddenPolicies(
  policies: TrafficPolicyReader,
  overrides: RouterOverrides,
): TrafficPolicyReader & { stop(): void } {
  const listeners = new Set<(service: string) => void>();
  let forcedGeneration = -1;
  let forced = new Map<ServiceKey, ActiveForceShare>();
  const policyOf = new WeakMap<ActiveForceShare, TrafficPolicy>();
  /** The force-shares subscribers were last told about. */
  let notified = forcedShares(overrides.list());

  const currentForced = (): ReadonlyMap<ServiceKey, ActiveForceShare> => {
    if (overrides.generation !== forcedGeneration) {
      forcedGeneration = overrides.generation;
      forced = forcedShares(overrides.list());
    }
    return forced;
  };

  const forcedPolicy = (entry: ActiveForceShare): TrafficPolicy => {
    let policy = policyOf.get(entry);
    if (!policy) {
      policy = {
        service: entry.override.service,
        cloudShare: entry.override.share,
        reason: `override ${entry.id}: ${entry.reason}`,
        updatedAt: entry.createdAt,
      };
      policyOf.set(entry, policy);
    }
    return policy;
  };

  const emit = (service: string) => {
    for (const listener of [...listeners]) listener(service);
  };

  const unsubscribePolicies = policies.subscribe(emit);
  const unsubscribeOverrides = overrides.subscribe(() => {
    const next = currentForced();
    const touched = new Set<ServiceKey>();
    for (const [service, entry] of notified) if (next.get(service) !== entry) touched.add(service);
    for (const [service, entry] of next) if (notified.get(service) !== entry) touched.add(service);
    notified = new Map(next);
    for (const service of touched) emit(service);
  });

  return {
    get(service) {
      const entry = currentForced().get(service);
      return entry ? forcedPolicy(entry) : policies.get(service);
    },
    all() {
      const active = currentForced();
      if (active.size === 0) return policies.all();
      const merged = policies.all().map((policy) => {
        const entry = active.get(policy.service);
        return entry ? forcedPolicy(entry) : policy;
      });
      const listed = new Set(merged.map((policy) => policy.service));
      for (const [service, entry] of active) if (!listed.has(service)) merged.push(forcedPolicy(entry));
      return merged;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      unsubscribePolicies();
      unsubscribeOverrides();
      listeners.clear();
    },
  };
}

function drainTouches(drain: DrainOverride, key: ServiceKey, service: Service): boolean {
  return (
    drainCoversService(drain, key) &&
    service.endpoints.some((endpoint) => endpoint.health === 'healthy' && drainMatchesEndpoint(drain, endpoint))
  );
}

function sameIds(a: readonly { id: string }[], b: readonly { id: string }[]): boolean {
  return a.length === b.length && a.every((entry, index) => entry.id === b[index]?.id);
}

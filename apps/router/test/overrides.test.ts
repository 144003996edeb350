import type { CatalogChange, CatalogSnapshot, Endpoint, Service } from '@spillway/model';
import { createMetricsRegistry, type Logger, type Registry } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { waitFor } from '@spillway/test/support/wait';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, envoyProtos } from '@spillway/xds';
import { AdsTestClient } from '@spillway/xds/test-support/ads-test-client';
import { endpoint, InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ActiveOverride,
  type DrainOverride,
  drainService,
  forcedShare,
  type OverrideScope,
  overriddenCatalog,
  overriddenPolicies,
  RouterOverrides,
  type RunningRouter,
} from '../src/index.js';
import { startLoopbackRouter } from './support/loopback-router.js';

const A = { region: 'dc1', zone: 'a' };
const B = { region: 'dc1', zone: 'b' };
const DC2_A = { region: 'dc2', zone: 'a' };
const CLOUD = { region: 'us-east-1', zone: 'us-east-1a' };

function echo(endpoints: Endpoint[] = defaultEndpoints()): Service {
  return { name: 'echo', namespace: 'demo', endpoints };
}

function defaultEndpoints(): Endpoint[] {
  return [
    endpoint('10.0.0.1', 8080, A),
    endpoint('10.0.0.2', 8080, B),
    endpoint('10.0.0.3', 8080, DC2_A),
    endpoint('10.0.0.4', 8080, CLOUD),
  ];
}

const drain = (fields: Omit<DrainOverride, 'kind'>): DrainOverride => ({ kind: 'drain', ...fields });
const healthOf = (service: Service) => service.endpoints.map((e) => `${e.address}=${e.health}`);
const grant = { owner: 'drill-1', reason: 'game day', ttlMs: 60_000 };

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('drainService', () => {
  it('drains by zone, whatever the region', () => {
    expect(healthOf(drainService(echo(), [drain({ zone: 'a' })]))).toEqual([
      '10.0.0.1=draining',
      '10.0.0.2=healthy',
      '10.0.0.3=draining',
      '10.0.0.4=healthy',
    ]);
  });

  it('drains by region', () => {
    expect(healthOf(drainService(echo(), [drain({ region: 'dc1' })]))).toEqual([
      '10.0.0.1=draining',
      '10.0.0.2=draining',
      '10.0.0.3=healthy',
      '10.0.0.4=healthy',
    ]);
  });

  it('drains by cluster', () => {
    expect(healthOf(drainService(echo(), [drain({ cluster: 'eks' })]))).toEqual([
      '10.0.0.1=healthy',
      '10.0.0.2=healthy',
      '10.0.0.3=healthy',
      '10.0.0.4=draining',
    ]);
  });

  it('requires every given field to match', () => {
    expect(healthOf(drainService(echo(), [drain({ zone: 'a', region: 'dc2', cluster: 'k8s' })]))).toEqual([
      '10.0.0.1=healthy',
      '10.0.0.2=healthy',
      '10.0.0.3=draining',
      '10.0.0.4=healthy',
    ]);
  });

  it('applies a service-scoped drain to that service only', () => {
    const service = echo();
    expect(drainService(service, [drain({ service: 'other.demo', zone: 'a' })])).toBe(service);
    expect(healthOf(drainService(service, [drain({ service: 'echo.demo', zone: 'b' })]))).toEqual([
      '10.0.0.1=healthy',
      '10.0.0.2=draining',
      '10.0.0.3=healthy',
      '10.0.0.4=healthy',
    ]);
  });

  it('leaves unhealthy endpoints unhealthy and does not modify its input', () => {
    const service = echo([
      endpoint('10.0.0.1', 8080, A, { health: 'unhealthy' }),
      endpoint('10.0.0.2', 8080, A),
      endpoint('10.0.0.3', 8080, A, { health: 'draining' }),
    ]);
    const drained = drainService(service, [drain({ zone: 'a' })]);
    expect(healthOf(drained)).toEqual(['10.0.0.1=unhealthy', '10.0.0.2=draining', '10.0.0.3=draining']);
    expect(healthOf(service)).toEqual(['10.0.0.1=unhealthy', '10.0.0.2=healthy', '10.0.0.3=draining']);
  });

  it('returns the same object when nothing matches', () => {
    const service = echo();
    expect(drainService(service, [])).toBe(service);
    expect(drainService(service, [drain({ zone: 'z' }), drain({ region: 'dc9' })])).toBe(service);
    const alreadyOut = echo([endpoint('10.0.0.1', 8080, A, { health: 'unhealthy' })]);
    expect(drainService(alreadyOut, [drain({ zone: 'a' })])).toBe(alreadyOut);
  });
});

describe('forcedShare', () => {
  it('is the share of the last force-share added for the service', () => {
    expect(forcedShare('echo.demo', [])).toBeUndefined();
    expect(
      forcedShare('echo.demo', [
        { kind: 'force-share', service: 'echo.demo', share: 0.2 },
        { kind: 'force-share', service: 'other.demo', share: 0.9 },
        { kind: 'drain', service: 'echo.demo', zone: 'a' },
        { kind: 'force-share', service: 'echo.demo', share: 0.7 },
      ]),
    ).toBe(0.7);
  });
});

describe('RouterOverrides', () => {
  it('adds, lists, removes and removes by owner', () => {
    const overrides = new RouterOverrides({ now: () => Date.parse('2026-01-01T00:00:00.000Z') });
    const first = overrides.add({ kind: 'drain', zone: 'a' }, grant);
    const second = overrides.add({ kind: 'force-share', service: 'echo.demo', share: 1 }, grant);
    const other = overrides.add({ kind: 'drain', cluster: 'eks' }, { owner: 'drill-2', reason: 'other', ttlMs: 1000 });
    expect(first).toEqual({
      id: expect.any(String),
      override: { kind: 'drain', zone: 'a' },
      owner: 'drill-1',
      reason: 'game day',
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2026-01-01T00:01:00.000Z',
    });
    expect(new Set([first.id, second.id, other.id]).size).toBe(3);
    expect(overrides.list().map((o) => o.id)).toEqual([first.id, second.id, other.id]);

    expect(overrides.remove(second.id)).toBe(true);
    expect(overrides.remove(second.id)).toBe(false);
    overrides.add({ kind: 'drain', region: 'dc2' }, grant);
    expect(overrides.removeOwner('drill-1')).toBe(2);
    expect(overrides.removeOwner('drill-1')).toBe(0);
    expect(overrides.list()).toEqual([other]);
    overrides.stop();
  });

  it('rolls an override back by itself at its deadline and counts the expiry', async () => {
    vi.useFakeTimers();
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const overrides = new RouterOverrides({ registry });
    const scopes: OverrideScope[] = [];
    overrides.subscribe((scope) => scopes.push(scope));
    const short = overrides.add({ kind: 'force-share', service: 'echo.demo', share: 1 }, { ...grant, ttlMs: 1000 });
    const long = overrides.add({ kind: 'drain', zone: 'a' }, { ...grant, ttlMs: 5000 });
    expect(await metric(registry, 'spillway_router_overrides_active')).toBe(2);

    vi.advanceTimersByTime(999);
    expect(overrides.list()).toEqual([short, long]);
    vi.advanceTimersByTime(1);
    expect(overrides.list()).toEqual([long]);
    expect(scopes.at(-1)).toEqual(new Set(['echo.demo']));
    expect(await metric(registry, 'spillway_router_overrides_active')).toBe(1);
    expect(await metric(registry, 'spillway_router_overrides_expired_total')).toBe(1);

    vi.advanceTimersByTime(4000);
    expect(overrides.list()).toEqual([]);
    expect(scopes.at(-1)).toBe('all');
    expect(await metric(registry, 'spillway_router_overrides_expired_total')).toBe(2);
    expect(await metric(registry, 'spillway_router_overrides_active')).toBe(0);
    // Removed overrides do not count as expired, and their timers are gone.
    const removed = overrides.add({ kind: 'drain', zone: 'b' }, { ...grant, ttlMs: 1000 });
    overrides.remove(removed.id);
    vi.advanceTimersByTime(2000);
    expect(await metric(registry, 'spillway_router_overrides_expired_total')).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('expires with real timers too, and its timers do not keep the process alive', async () => {
    const timeouts: NodeJS.Timeout[] = [];
    const realSetTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((...args: Parameters<typeof setTimeout>) => {
      const timer = realSetTimeout(...args);
      timeouts.push(timer);
      return timer;
    }) as typeof setTimeout);
    const overrides = new RouterOverrides();
    overrides.add({ kind: 'drain', zone: 'a' }, { ...grant, ttlMs: 50 });
    vi.restoreAllMocks();
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0]!.hasRef()).toBe(false);
    await waitFor(() => overrides.list().length === 0, { message: 'the override to expire' });
  });

  it('refuses invalid overrides and options with an error naming the field', () => {
    const overrides = new RouterOverrides();
    const cases: [unknown, unknown, RegExp][] = [
      [{ kind: 'drain' }, grant, /at least one of zone, region or cluster/],
      [{ kind: 'drain', service: 'echo.demo' }, grant, /at least one of zone, region or cluster/],
      [{ kind: 'drain', zone: '' }, grant, /zone: must not be empty/],
      [{ kind: 'drain', zone: 'a', shard: 'x' }, grant, /shard/],
      [{ kind: 'drain', zone: 'a', service: 'Echo' }, grant, /service: expected a service key NAME\.NS/],
      [{ kind: 'force-share', service: 'echo.demo', share: 1.5 }, grant, /share: /],
      [{ kind: 'force-share', service: 'echo.demo' }, grant, /share: /],
      [{ kind: 'force-share', share: 0.5 }, grant, /service: /],
      [{ kind: 'reboot' }, grant, /kind: /],
      [{ kind: 'drain', zone: 'a' }, { owner: 'x', reason: 'r' }, /ttlMs: required/],
      [{ kind: 'drain', zone: 'a' }, { ...grant, ttlMs: 0 }, /ttlMs: must be > 0/],
      [{ kind: 'drain', zone: 'a' }, { ...grant, ttlMs: -5 }, /ttlMs: must be > 0/],
      [{ kind: 'drain', zone: 'a' }, { ...grant, ttlMs: 24 * 3600_000 + 1 }, /ttlMs: must be at most 24 h/],
      [{ kind: 'drain', zone: 'a' }, { ...grant, ttlMs: Number.NaN }, /ttlMs: /],
      [{ kind: 'drain', zone: 'a' }, { ...grant, owner: '' }, /owner: must not be empty/],
    ];
    for (const [override, options, message] of cases) {
      expect(() => overrides.add(override as never, options as never), JSON.stringify([override, options])).toThrow(
        message,
      );
    }
    expect(overrides.list()).toEqual([]);
    expect(overrides.add({ kind: 'drain', zone: 'a' }, { ...grant, ttlMs: 24 * 3600_000 }).override).toEqual({
      kind: 'drain',
      zone: 'a',
    });
    overrides.stop();
  });

  it('tells listeners which services changed', () => {
    const overrides = new RouterOverrides();
    const scopes: OverrideScope[] = [];
    const unsubscribe = overrides.subscribe((scope) => scopes.push(scope));
    const share = overrides.add({ kind: 'force-share', service: 'echo.demo', share: 0.5 }, grant);
    const scoped = overrides.add({ kind: 'drain', service: 'other.demo', zone: 'a' }, grant);
    overrides.add({ kind: 'drain', region: 'dc1' }, { ...grant, owner: 'drill-2' });
    overrides.remove(share.id);
    overrides.remove(scoped.id);
    overrides.add({ kind: 'drain', service: 'third.demo', zone: 'a' }, { ...grant, owner: 'drill-2' });
    overrides.removeOwner('drill-2');
    expect(scopes).toEqual([
      new Set(['echo.demo']),
      new Set(['other.demo']),
      'all',
      new Set(['echo.demo']),
      new Set(['other.demo']),
      new Set(['third.demo']),
      'all',
    ]);
    unsubscribe();
    overrides.add({ kind: 'drain', zone: 'a' }, grant);
    expect(scopes).toHaveLength(7);
    overrides.stop();
  });

  it('keeps rolling back when a listener throws, and logs each step at info', () => {
    vi.useFakeTimers();
    const logger = fakeLogger();
    const overrides = new RouterOverrides({ logger });
    overrides.subscribe(() => {
      throw new Error('listener bug');
    });
    const told: OverrideScope[] = [];
    overrides.subscribe((scope) => told.push(scope));
    const added = overrides.add({ kind: 'drain', zone: 'a' }, { ...grant, ttlMs: 100 });
    const removed = overrides.add({ kind: 'drain', zone: 'b' }, grant);
    overrides.remove(removed.id);
    vi.advanceTimersByTime(100);
    expect(overrides.list()).toEqual([]);
    expect(told).toEqual(['all', 'all', 'all', 'all']);
    const messages = vi
      .mocked(logger.info)
      .mock.calls.map((call) => [call[1], (call[0] as { overrideId: string }).overrideId]);
    expect(messages).toEqual([
      ['router override added', added.id],
      ['router override added', removed.id],
      ['router override removed', removed.id],
      ['router override expired', added.id],
    ]);
    expect(logger.error).toHaveBeenCalledTimes(4);
  });

  it('stop() rolls everything back, tells listeners and refuses new overrides', () => {
    vi.useFakeTimers();
    const overrides = new RouterOverrides();
    const scopes: OverrideScope[] = [];
    overrides.subscribe((scope) => scopes.push(scope));
    overrides.add({ kind: 'force-share', service: 'echo.demo', share: 0.5 }, grant);
    overrides.add({ kind: 'drain', service: 'other.demo', zone: 'a' }, grant);
    overrides.stop();
    expect(overrides.list()).toEqual([]);
    expect(scopes.at(-1)).toEqual(new Set(['echo.demo', 'other.demo']));
    expect(vi.getTimerCount()).toBe(0);
    expect(() => overrides.add({ kind: 'drain', zone: 'a' }, grant)).toThrow(/stopped/);
  });
});

describe('overriddenCatalog', () => {
  function setup() {
    const base = new InMemoryCatalog();
    base.setService(echo());
    base.setService({ name: 'other', namespace: 'demo', endpoints: [endpoint('10.0.1.1', 8080, B)] });
    const overrides = new RouterOverrides();
    const catalog = overriddenCatalog(base, overrides);
    const events: [CatalogChange, CatalogSnapshot][] = [];
    catalog.subscribe((change, snapshot) => events.push([change, snapshot]));
    return { base, overrides, catalog, events };
  }

  it('is the base catalog itself while no drain is active', () => {
    const { base, overrides, catalog, events } = setup();
    expect(catalog.current()).toBe(base.current());
    overrides.add({ kind: 'force-share', service: 'echo.demo', share: 1 }, grant);
    expect(catalog.current()).toBe(base.current());
    // A drain that matches no endpoint changes nothing either.
    overrides.add({ kind: 'drain', zone: 'nowhere' }, grant);
    expect(catalog.current()).toBe(base.current());
    expect(events).toEqual([]);
    base.removeService('other.demo');
    expect(events).toHaveLength(1);
    expect(events[0]![0]).toEqual({ version: 3, previousVersion: 2, changed: [], removed: ['other.demo'] });
    expect(events[0]![1]).toBe(base.current());
    catalog.stop();
    overrides.stop();
  });

  it('publishes drained services and a change at the same version when drains come and go', () => {
    vi.useFakeTimers();
    const { base, overrides, catalog, events } = setup();
    const before = base.current();

    const scoped = overrides.add({ kind: 'drain', service: 'echo.demo', zone: 'a' }, grant);
    expect(events).toHaveLength(1);
    const [change, snapshot] = events[0]!;
    expect(change).toEqual({ version: 2, previousVersion: 2, changed: ['echo.demo'], removed: [] });
    expect(snapshot.version).toBe(2);
    expect(healthOf(snapshot.services.get('echo.demo')!)).toEqual([
      '10.0.0.1=draining',
      '10.0.0.2=healthy',
      '10.0.0.3=draining',
      '10.0.0.4=healthy',
    ]);
    expect(snapshot.services.get('other.demo')).toBe(before.services.get('other.demo'));
    expect(catalog.current()).toBe(snapshot);
    expect(healthOf(before.services.get('echo.demo')!)).not.toContain('10.0.0.1=draining');

    // Nothing to publish for a drain of a service that does not exist, nor for a force-share.
    overrides.add({ kind: 'drain', service: 'ghost.demo', zone: 'a' }, grant);
    overrides.add({ kind: 'force-share', service: 'echo.demo', share: 1 }, grant);
    expect(events).toHaveLength(1);

    // An unscoped drain names only the services it matches (other.demo has no cloud endpoint).
    const cloud = overrides.add({ kind: 'drain', cluster: 'eks' }, grant);
    expect(events[1]![0]).toEqual({ version: 2, previousVersion: 2, changed: ['echo.demo'], removed: [] });
    expect(healthOf(events[1]![1].services.get('echo.demo')!)).toContain('10.0.0.4=draining');
    overrides.remove(cloud.id);
    expect(events[2]![0]).toEqual({ version: 2, previousVersion: 2, changed: ['echo.demo'], removed: [] });
    expect(events[2]![1]).toEqual(snapshot);
    events.splice(1);

    const everywhere = overrides.add({ kind: 'drain', cluster: 'k8s' }, { ...grant, ttlMs: 1000 });
    expect(events[1]![0]).toEqual({
      version: 2,
      previousVersion: 2,
      changed: ['echo.demo', 'other.demo'],
      removed: [],
    });
    expect(healthOf(events[1]![1].services.get('other.demo')!)).toEqual(['10.0.1.1=draining']);

    // A base change is forwarded with the drains applied.
    base.setService({ name: 'other', namespace: 'demo', endpoints: [endpoint('10.0.1.2', 8080, B)] });
    expect(events[2]![0]).toEqual({ version: 3, previousVersion: 2, changed: ['other.demo'], removed: [] });
    expect(healthOf(events[2]![1].services.get('other.demo')!)).toEqual(['10.0.1.2=draining']);
    expect(catalog.current()).toBe(events[2]![1]);

    // The unscoped drain expires: every service may change.
    vi.advanceTimersByTime(1000);
    expect(events[3]![0]).toEqual({
      version: 3,
      previousVersion: 3,
      changed: ['echo.demo', 'other.demo'],
      removed: [],
    });
    expect(healthOf(events[3]![1].services.get('other.demo')!)).toEqual(['10.0.1.2=healthy']);
    expect(overrides.list().map((o) => o.id)).not.toContain(everywhere.id);

    // The last drain of echo.demo is removed: the base snapshot is served again.
    overrides.remove(scoped.id);
    expect(events[4]![0]).toEqual({ version: 3, previousVersion: 3, changed: ['echo.demo'], removed: [] });
    expect(events[4]![1]).toBe(base.current());
    expect(catalog.current()).toBe(base.current());

    catalog.stop();
    overrides.add({ kind: 'drain', zone: 'a' }, grant);
    base.removeService('other.demo');
    expect(events).toHaveLength(5);
    overrides.stop();
  });

  it('applies drains that were active before it was created', () => {
    const base = new InMemoryCatalog();
    base.setService(echo());
    const overrides = new RouterOverrides();
    overrides.add({ kind: 'drain', zone: 'b' }, grant);
    const catalog = overriddenCatalog(base, overrides);
    expect(healthOf(catalog.current().services.get('echo.demo')!)).toContain('10.0.0.2=draining');
    expect(catalog.current()).toBe(catalog.current());
    catalog.stop();
    overrides.stop();
  });
});

describe('overriddenPolicies', () => {
  it('serves forced shares over the base policies and tells which services changed', async () => {
    vi.useFakeTimers();
    const base = new InMemoryTrafficPolicyStore();
    const basePolicy = { service: 'echo.demo', cloudShare: 0.2, reason: 'burst', updatedAt: '2026-01-01T00:00:00Z' };
    const otherPolicy = { service: 'other.demo', cloudShare: 0.4, reason: 'burst', updatedAt: '2026-01-01T00:00:00Z' };
    await base.set(basePolicy);
    await base.set(otherPolicy);
    const overrides = new RouterOverrides();
    const policies = overriddenPolicies(base, overrides);
    const told: string[] = [];
    policies.subscribe((service) => told.push(service));

    expect(policies.get('echo.demo')).toEqual(basePolicy);
    const first = overrides.add({ kind: 'force-share', service: 'echo.demo', share: 1 }, { ...grant, ttlMs: 5000 });
    const forced = forcedPolicy(first, 1);
    expect(policies.get('echo.demo')).toEqual(forced);
    expect(policies.get('other.demo')).toEqual(otherPolicy);
    expect(told).toEqual(['echo.demo']);

    const ghost = overrides.add({ kind: 'force-share', service: 'new.demo', share: 0.5 }, grant);
    expect(sortByService(policies.all())).toEqual([forced, forcedPolicy(ghost, 0.5), otherPolicy]);
    expect(told).toEqual(['echo.demo', 'new.demo']);

    // Drains do not touch policies; the last force-share added wins, and removing it restores the previous one.
    overrides.add({ kind: 'drain', zone: 'a' }, grant);
    const second = overrides.add({ kind: 'force-share', service: 'echo.demo', share: 0 }, { ...grant, reason: 'x' });
    expect(policies.get('echo.demo')).toEqual(forcedPolicy(second, 0));
    overrides.remove(second.id);
    expect(policies.get('echo.demo')).toEqual(forced);
    expect(told).toEqual(['echo.demo', 'new.demo', 'echo.demo', 'echo.demo']);

    // Base changes are forwarded; expiry restores the base policy.
    await base.set({ ...otherPolicy, cloudShare: 0.6 });
    expect(told.at(-1)).toBe('other.demo');
    vi.advanceTimersByTime(5000);
    expect(told.at(-1)).toBe('echo.demo');
    expect(policies.get('echo.demo')).toEqual(basePolicy);

    policies.stop();
    overrides.remove(ghost.id);
    await base.clear('other.demo');
    expect(told).toHaveLength(6);
    overrides.stop();
  });
});

describe('startRouter with overrides', () => {
  let router: RunningRouter | undefined;
  const clients: { close(): void }[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await router?.stop();
    router = undefined;
  });

  async function start(
    catalog: InMemoryCatalog,
    overrides: RouterOverrides,
    policies: InMemoryTrafficPolicyStore = new InMemoryTrafficPolicyStore(),
  ) {
    router = await startLoopbackRouter({ catalog, policies, overrides });
    return router;
  }

  async function healthSeenBy(port: number): Promise<string[]> {
    const client = AdsTestClient.sotw(port);
    clients.push(client);
    client.send({
      node: { id: 'probe', locality: { region: 'dc1', zone: 'a', sub_zone: '' } },
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['echo.demo'],
    });
    const response = await client.next();
    const protos = envoyProtos();
    const assignment = protos.ClusterLoadAssignment.toObject(
      protos.ClusterLoadAssignment.decode(response.resources[0]!.value),
      { enums: String, longs: Number },
    ) as {
      endpoints: {
        lb_endpoints: { endpoint: { address: { socket_address: { address: string } } }; health_status: string }[];
      }[];
    };
    return assignment.endpoints
      .flatMap((locality) => locality.lb_endpoints)
      .map((lb) => `${lb.endpoint.address.socket_address.address}=${lb.health_status}`)
      .sort();
  }

  it('lists the overrides on GET /v1/router/overrides and keeps them across a router restart', async () => {
    const catalog = new InMemoryCatalog();
    catalog.setService(echo());
    const overrides = new RouterOverrides();
    const policies = new InMemoryTrafficPolicyStore();
    const subscriptions = [catalog, overrides, policies].map(trackSubscriptions);
    const running = await start(catalog, overrides, policies);
    expect(subscriptions.map((live) => live())).toEqual([1, 2, 1]);
    const added = overrides.add({ kind: 'drain', region: 'dc1' }, grant);

    const body = (await (await fetch(`http://127.0.0.1:${running.httpPort}/v1/router/overrides`)).json()) as {
      overrides: ActiveOverride[];
    };
    expect(body).toEqual({ overrides: [added] });
    expect(await healthSeenBy(running.xdsPort)).toEqual([
      '10.0.0.1=DRAINING',
      '10.0.0.2=DRAINING',
      '10.0.0.3=HEALTHY',
      '10.0.0.4=HEALTHY',
    ]);

    // Stopping the router ends its readers' subscriptions but leaves the overrides in force.
    await running.stop();
    router = undefined;
    expect(subscriptions.map((live) => live())).toEqual([0, 0, 0]);
    expect(overrides.list()).toEqual([added]);
    const restarted = await start(catalog, overrides, policies);
    expect(await healthSeenBy(restarted.xdsPort)).toContain('10.0.0.1=DRAINING');
    overrides.remove(added.id);
    expect(await healthSeenBy(restarted.xdsPort)).toContain('10.0.0.1=HEALTHY');
    overrides.stop();
  });
});

function forcedPolicy(active: ActiveOverride, share: number) {
  return {
    service: (active.override as { service: string }).service,
    cloudShare: share,
    reason: `override ${active.id}: ${active.reason}`,
    updatedAt: active.createdAt,
  };
}

function sortByService<T extends { service: string }>(policies: readonly T[]): T[] {
  return [...policies].sort((a, b) => a.service.localeCompare(b.service));
}

async function metric(registry: Registry, name: string): Promise<number | undefined> {
  const found = await registry.getSingleMetric(name)?.get();
  return found?.values[0]?.value;
}

function fakeLogger(): Logger {
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() };
  return logger as unknown as Logger;
}

/** Wraps `target.subscribe` to count the subscriptions not yet ended. */
function trackSubscriptions(target: { subscribe(listener: never): () => void }): () => number {
  let live = 0;
  const subscribe = target.subscribe.bind(target) as (listener: unknown) => () => void;
  Object.assign(target, {
    subscribe: (listener: unknown) => {
      const unsubscribe = subscribe(listener);
      live++;
      let ended = false;
      return () => {
        if (!ended) live--;
        ended = true;
        unsubscribe();
      };
    },
  });
  return () => live;
}

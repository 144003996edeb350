import type { Endpoint, ServiceKey } from '@spillway/model';
import { ManualClock } from '@spillway/test/support/manual-clock';
import { describe, expect, it } from 'vitest';
import { CatalogStore } from '../src/catalog-store.js';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function endpoint(address: string, health: Endpoint['health'] = 'healthy', cluster = 'lab'): Endpoint {
  return {
    address,
    port: 8080,
    cluster,
    environment: 'onprem',
    locality: { region: 'lab', zone: 'a', subZone: '' },
    health,
    weight: 1,
    labels: {},
  };
}

function setup(graceMs = 30_000) {
  const clock = new ManualClock();
  const store = new CatalogStore({ staleAfterMs: graceMs, now: clock.now, setTimer: clock.setTimer, historySize: 16 });
  const lab = store.attach({ name: 'lab', kind: 'consul', environment: 'onprem', region: 'lab' });
  return { clock, store, lab };
}

const healthOf = (store: CatalogStore, key: ServiceKey) =>
  store
    .current()
    .services.get(key)
    ?.endpoints.map((e) => `${e.address} ${e.health}`);

describe('CatalogStore', () => {
  it('keeps a failing source’s endpoints for the grace period, then serves them unhealthy, then recovers', async () => {
    const { clock, store, lab } = setup();
    lab.replaceAll(new Map([['echo.demo', [endpoint('10.0.0.1'), endpoint('10.0.0.2')]]]));
    await settle();
    lab.failed(new Error('HTTP 500 from /v1/health/service/echo'));
    await settle();
    expect(healthOf(store, 'echo.demo')).toEqual(['10.0.0.1 healthy', '10.0.0.2 healthy']);
    expect(store.sourceStatuses()[0]).toMatchObject({ state: 'failing', lastError: expect.stringContaining('500') });

    clock.advance(29_999);
    await settle();
    expect(store.sourceStatuses()[0]?.state).toBe('failing');
    expect(healthOf(store, 'echo.demo')).toEqual(['10.0.0.1 healthy', '10.0.0.2 healthy']);

    clock.advance(1);
    await settle();
    const stale = store.sourceStatuses()[0];
    expect(stale?.state).toBe('stale');
    expect(stale?.staleSince).toBe(new Date(clock.now()).toISOString());
    expect(healthOf(store, 'echo.demo')).toEqual(['10.0.0.1 unhealthy', '10.0.0.2 unhealthy']);

    lab.alive();
    await settle();
    expect(store.sourceStatuses()[0]).toMatchObject({ state: 'live', failingSince: null, staleSince: null });
    expect(healthOf(store, 'echo.demo')).toEqual(['10.0.0.1 healthy', '10.0.0.2 healthy']);
    store.close();
  });

  it('repeated failures do not restart the grace period, and one failed poll never empties a site', async () => {
    const { clock, store, lab } = setup(10_000);
    lab.replaceAll(new Map([['echo.demo', [endpoint('10.0.0.1')]]]));
    lab.failed(new Error('timeout'));
    clock.advance(6_000);
    lab.failed(new Error('timeout again'));
    clock.advance(4_000);
    await settle();
    expect(store.sourceStatuses()[0]).toMatchObject({ state: 'stale', lastError: 'timeout again' });
    expect(store.current().services.get('echo.demo')?.endpoints).toHaveLength(1);
    store.close();
  });

  it('publishes one version per tick with exactly the services that changed, and none for no-op reports', async () => {
    const { store, lab } = setup();
    const changes: { version: number; changed: readonly string[]; removed: readonly string[] }[] = [];
    store.subscribe((change) => changes.push(change));
    lab.replaceAll(new Map([['echo.demo', [endpoint('10.0.0.1')]]]));
    lab.replaceServices(new Map([['cart.shop', [endpoint('10.0.0.9')]]]));
    await settle();
    lab.replaceServices(new Map([['echo.demo', [endpoint('10.0.0.1')]]])); // same content
    await settle();
    lab.replaceServices(new Map([['cart.shop', []]]));
    await settle();
    expect(changes).toEqual([
      { version: 1, previousVersion: 0, changed: ['echo.demo', 'cart.shop'], removed: [] },
      { version: 2, previousVersion: 1, changed: [], removed: ['cart.shop'] },
    ]);
    expect(store.changesSince(0)).toEqual({ changed: new Set(['echo.demo']), removed: new Set(['cart.shop']) });
    expect(store.changesSince(2)).toEqual({ changed: new Set(), removed: new Set() });
    store.close();
  });

  it('tells a follower that fell behind the kept history to resync', async () => {
    const { store, lab } = setup();
    for (let i = 0; i < 40; i++) {
      lab.replaceServices(new Map([['echo.demo', [endpoint(`10.0.1.${i}`)]]]));
      await settle();
    }
    expect(store.current().version).toBe(40);
    expect(store.changesSince(1)).toBeUndefined();
    expect(store.changesSince(30)?.changed).toEqual(new Set(['echo.demo']));
    store.close();
  });

  it('wakes a long-poll waiter on the next version', async () => {
    const { store, lab } = setup();
    const waiting = store.waitForVersionAfter(0, 30_000);
    lab.replaceAll(new Map([['echo.demo', [endpoint('10.0.0.1')]]]));
    expect(await waiting).toBe(1);
    store.close();
  });

  it('merges two registries reporting the same pod into one endpoint, preferring the healthier report', async () => {
    const { store, lab } = setup();
    const k8s = store.attach({ name: 'k8s', kind: 'kubernetes', environment: 'onprem', region: 'lab' });
    lab.replaceAll(new Map([['echo.demo', [endpoint('10.0.0.1', 'unhealthy')]]]));
    k8s.replaceAll(new Map([['echo.demo', [endpoint('10.0.0.1', 'healthy', 'k8s'), endpoint('10.0.0.2')]]]));
    await settle();
    expect(healthOf(store, 'echo.demo')).toEqual(['10.0.0.1 healthy', '10.0.0.2 healthy']);
    expect(store.current().services.get('echo.demo')?.endpoints[0]?.cluster).toBe('k8s');
    store.close();
  });
});

describe('CatalogStore first version after a start (initialSyncMs)', () => {
  function held(initialSyncMs = 30_000, graceMs = 60_000) {
    const clock = new ManualClock();
    const store = new CatalogStore({ staleAfterMs: graceMs, initialSyncMs, now: clock.now, setTimer: clock.setTimer });
    const dc1 = store.attach({ name: 'dc1', kind: 'consul', environment: 'onprem', region: 'dc1' });
    const dc2 = store.attach({ name: 'dc2', kind: 'nomad', environment: 'onprem', region: 'dc2' });
    return { clock, store, dc1, dc2 };
  }
  const keys = (store: CatalogStore) => [...store.current().services.keys()].sort();

  it('publishes nothing until every source has reported, then everything in one version', async () => {
    const { store, dc1, dc2 } = held();
    const waiting = store.waitForVersionAfter(0, 60_000);
    dc1.replaceAll(new Map([['echo.demo', [endpoint('10.0.0.1')]]]));
    await settle();
    expect(store.current().version).toBe(0);
    expect(store.awaitingInitialSync).toBe(true);

    dc2.replaceAll(new Map([['cart.shop', [endpoint('10.0.2.1')]]]));
    expect(await waiting).toBe(1);
    expect(keys(store)).toEqual(['cart.shop', 'echo.demo']);
    expect(store.awaitingInitialSync).toBe(false);
    store.close();
  });

  it('a source failing at start holds the first version too: one failed poll never drops its site', async () => {
    const { store, dc1, dc2 } = held();
    dc1.replaceAll(new Map([['echo.demo', [endpoint('10.0.0.1')]]]));
    dc2.failed(new Error('connection refused'));
    await settle();
    expect(store.current().version).toBe(0);
    dc2.replaceAll(new Map([['cart.shop', [endpoint('10.0.2.1')]]]));
    await settle();
    expect(keys(store)).toEqual(['cart.shop', 'echo.demo']);
    store.close();
  });

  it('at the deadline publishes what it has; the silent source is failing, then stale after its grace', async () => {
    const { clock, store, dc1, dc2 } = held(30_000, 60_000);
    dc1.replaceAll(new Map([['echo.demo', [endpoint('10.0.0.1')]]]));
    await settle();
    clock.advance(29_999);
    await settle();
    expect(store.current().version).toBe(0);

    clock.advance(1);
    await settle();
    expect(store.current().version).toBe(1);
    expect(keys(store)).toEqual(['echo.demo']);
    const silent = store.sourceStatuses().find((status) => status.name === 'dc2');
    expect(silent).toMatchObject({
      state: 'failing',
      lastSyncAt: null,
      lastError: 'no complete report within the initial-sync deadline (30 s)',
    });
    clock.advance(60_000);
    expect(store.sourceStatuses().find((status) => status.name === 'dc2')?.state).toBe('stale');

    // It reports late: live, and its services join the catalog.
    dc2.replaceAll(new Map([['cart.shop', [endpoint('10.0.2.1')]]]));
    await settle();
    expect(keys(store)).toEqual(['cart.shop', 'echo.demo']);
    expect(store.sourceStatuses().find((status) => status.name === 'dc2')?.state).toBe('live');
    store.close();
  });
});

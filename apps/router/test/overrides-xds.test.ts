import type * as grpc from '@grpc/grpc-js';
import { createMetricsRegistry, type Registry, silentLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { ManualClock } from '@spillway/test/support/manual-clock';
import {
  ECHO_SITES,
  type EchoServer,
  type EchoSite,
  echoEndpoints,
  type RpcTally,
  sendRpcs,
  shareOf,
  startEchoSites,
  waitForTraffic,
} from '@spillway/xds/test-support/echo-servers';
import { xdsClient } from '@spillway/xds/test-support/grpc-xds-client';
import { InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterOverrides, type RunningRouter } from '../src/index.js';
import { startLoopbackRouter } from './support/loopback-router.js';

/**
 * Overrides end to end: the real router, a real grpc-js-xds client in zone a and real gRPC
 * servers in zone a, zone b and the cloud. A drain moves the client's traffic and rolls back at
 * its deadline by itself; a forced share sends it to the cloud until removed. The overrides' clock
 * is moved by hand: on a busy machine a real 2 s deadline could pass before the drain is seen.
 */
const PROBE_RPCS = 200;
const DRAIN_TTL_MS = 2000;

describe('router overrides seen by a grpc-js-xds client', () => {
  const servers: EchoServer[] = [];
  const catalog = new InMemoryCatalog();
  const policies = new InMemoryTrafficPolicyStore();
  const clock = new ManualClock();
  let registry: Registry;
  let overrides: RouterOverrides;
  let router: RunningRouter;
  let client: grpc.Client;

  const allIn = (site: EchoSite) => (tally: RpcTally) => tally.failures === 0 && shareOf(tally, site) === 1;

  beforeAll(async () => {
    servers.push(...(await startEchoSites()));
    catalog.setService({ name: 'echo', namespace: 'demo', endpoints: echoEndpoints(servers) });
    registry = createMetricsRegistry({ defaultMetrics: false });
    overrides = new RouterOverrides({ registry, logger: silentLogger(), now: clock.now, setTimer: clock.setTimer });
    router = await startLoopbackRouter({ catalog, policies, overrides, http: false });
    client = xdsClient('echo.demo', router.xdsPort, { id: 'client-a', locality: ECHO_SITES['zone-a'] });
    await waitForTraffic(client, allIn('zone-a'), 'the first RPCs through xDS to land in zone a', PROBE_RPCS);
  });

  afterAll(async () => {
    client?.close();
    await router?.stop();
    overrides?.stop();
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('drains zone a to zone b, and rolls back to zone a by itself at the deadline', async () => {
    const drain = overrides.add(
      { kind: 'drain', zone: 'a' },
      { owner: 'drill', reason: 'drain a', ttlMs: DRAIN_TTL_MS },
    );
    expect(Date.parse(drain.expiresAt) - Date.parse(drain.createdAt)).toBe(DRAIN_TTL_MS);
    await waitForTraffic(client, allIn('zone-b'), 'traffic to move to zone b', PROBE_RPCS);

    // Nobody removes it: its own timer does, at the deadline and not before.
    clock.advance(DRAIN_TTL_MS - 1);
    expect(overrides.list().map((active) => active.id)).toEqual([drain.id]);
    clock.advance(1);
    await waitForTraffic(client, allIn('zone-a'), 'traffic to return to zone a when the drain expires', PROBE_RPCS);
    expect(overrides.list()).toEqual([]);
    expect((await registry.getSingleMetric('spillway_router_overrides_expired_total')?.get())?.values[0]?.value).toBe(
      1,
    );
    const after = await sendRpcs(client, 1000);
    expect(after.failures).toBe(0);
    expect(shareOf(after, 'zone-a')).toBe(1);
  });

  it('forces the whole share to the cloud, and returns to zone a when removed', async () => {
    const forced = overrides.add(
      { kind: 'force-share', service: 'echo.demo', share: 1 },
      { owner: 'drill', reason: 'all to cloud', ttlMs: 60_000 },
    );
    await waitForTraffic(client, allIn('cloud'), 'traffic to move to the cloud', PROBE_RPCS);
    expect(policies.get('echo.demo')).toBeUndefined();

    expect(overrides.remove(forced.id)).toBe(true);
    await waitForTraffic(
      client,
      allIn('zone-a'),
      'traffic to return to zone a when the forced share is removed',
      PROBE_RPCS,
    );
    const after = await sendRpcs(client, 1000);
    expect(after.failures).toBe(0);
    expect(shareOf(after, 'zone-a')).toBe(1);
  });
});

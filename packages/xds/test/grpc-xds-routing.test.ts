import type * as grpc from '@grpc/grpc-js';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ECHO_SITES,
  type EchoServer,
  type EchoSite,
  echoEndpoints,
  sendRpcs,
  shareOf,
  startEchoSites,
  waitForTraffic,
} from './support/echo-servers.js';
import { xdsClient } from './support/grpc-xds-client.js';
import { InMemoryCatalog } from './support/in-memory-catalog.js';
import { startTestXdsServer, type TestXdsServer } from './support/test-server.js';

/**
 * Real grpc-js-xds clients, real gRPC servers, the real router: locality priorities, an exact
 * burst share, failover on health, and a router restart. Shares are measured over 4000 RPCs
 * (grpc-js picks localities at random: σ ≈ 0.7 point at 30%, so ±3 points is > 4σ).
 */
const SHARE_RPCS = 4000;
const RPCS = 1000;

describe('grpc-js-xds clients routed by the locality router', () => {
  const servers: EchoServer[] = [];
  const catalog = new InMemoryCatalog();
  let router: TestXdsServer;
  let client: grpc.Client;

  const setCatalog = (unhealthy: readonly EchoSite[] = []) =>
    catalog.setService({ name: 'echo', namespace: 'demo', endpoints: echoEndpoints(servers, unhealthy) });
  const setShare = (cloudShare: number) =>
    router.policies.set({ service: 'echo.demo', cloudShare, reason: 'test', updatedAt: new Date().toISOString() });

  beforeAll(async () => {
    servers.push(...(await startEchoSites()));
    setCatalog();
    router = await startTestXdsServer({ catalog });
    client = xdsClient('echo.demo', router.port, { id: 'client-a', locality: ECHO_SITES['zone-a'] });
    await waitForTraffic(client, (tally) => tally.failures === 0, 'the first RPCs through xDS');
  });

  afterAll(async () => {
    client?.close();
    await router?.server.stop();
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('(1) keeps a zone-a client in zone a without a burst', async () => {
    const tally = await sendRpcs(client, RPCS);
    expect(tally.failures).toBe(0);
    expect(shareOf(tally, 'zone-a')).toBe(1);
    expect(tally.counts.get('zone-a#1')).toBeGreaterThan(0);
    expect(tally.counts.get('zone-a#2')).toBeGreaterThan(0);
  });

  it('(2) sends 30% to cloud at share 0.3, then none at 0', async () => {
    await setShare(0.3);
    await waitForTraffic(client, (tally) => shareOf(tally, 'cloud') > 0, 'cloud traffic after the burst starts');
    const burst = await sendRpcs(client, SHARE_RPCS);
    expect(burst.failures).toBe(0);
    const share = shareOf(burst, 'cloud');
    console.info(`measured cloud share at 0.3: ${(share * 100).toFixed(1)}%`);
    expect(Math.abs(share - 0.3)).toBeLessThanOrEqual(0.03);
    expect(shareOf(burst, 'zone-a') + share).toBe(1);

    await setShare(0);
    await waitForTraffic(client, (tally) => shareOf(tally, 'cloud') === 0, 'cloud traffic to stop');
    const after = await sendRpcs(client, RPCS);
    expect(after.failures).toBe(0);
    expect(shareOf(after, 'cloud')).toBe(0);
  });

  it('(3) fails over to the next priority when every zone-a endpoint is unhealthy', async () => {
    setCatalog(['zone-a']);
    await waitForTraffic(
      client,
      (tally) => shareOf(tally, 'zone-b') === 1 && tally.failures === 0,
      'traffic to move to zone b',
    );
    const tally = await sendRpcs(client, RPCS);
    expect(tally.failures).toBe(0);
    expect(shareOf(tally, 'zone-b')).toBe(1);
    setCatalog();
    await waitForTraffic(client, (tally) => shareOf(tally, 'zone-a') === 1, 'traffic to return to zone a');
  });

  it('(4) reconnects to a router restarted on the same port and follows its policy', async () => {
    await setShare(0.3);
    await waitForTraffic(client, (tally) => shareOf(tally, 'cloud') > 0, 'the burst before the restart');
    const port = router.port;
    const policies = router.policies;
    await router.server.stop();
    // With the router gone the client keeps its last good configuration.
    const during = await sendRpcs(client, 200);
    expect(during.failures).toBe(0);

    router = await startTestXdsServer({ catalog, policies, port });
    await waitFor(
      () =>
        router.server
          .clients()
          .some((info) => info.nodeId === 'client-a' && info.resources['ClusterLoadAssignment']?.ackedVersion),
      { timeoutMs: 30_000, message: 'client-a to reconnect and ACK its assignment' },
    );
    const burst = await sendRpcs(client, SHARE_RPCS);
    expect(burst.failures).toBe(0);
    const share = shareOf(burst, 'cloud');
    console.info(`measured cloud share at 0.3 after restart: ${(share * 100).toFixed(1)}%`);
    expect(Math.abs(share - 0.3)).toBeLessThanOrEqual(0.03);

    // The new router drives the client: ending the burst takes cloud out again.
    await setShare(0);
    await waitForTraffic(client, (tally) => shareOf(tally, 'cloud') === 0, 'cloud traffic to stop after the restart');
  });
});

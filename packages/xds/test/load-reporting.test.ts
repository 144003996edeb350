import type { MeasuredLoad } from '@spillway/model';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heldCCoreRpcs } from './support/c-core-xds-client.js';
import {
  ECHO_SITES,
  type EchoServer,
  type EchoSite,
  echoEndpoints,
  type RpcTally,
  sendRpcs,
  startEchoSites,
} from './support/echo-servers.js';
import { xdsClient } from './support/grpc-xds-client.js';
import { InMemoryCatalog } from './support/in-memory-catalog.js';
import { LrsTestClient, localityStats } from './support/lrs-test-client.js';
import { startTestXdsServer, type TestXdsServer } from './support/test-server.js';

/**
 * Load reports (LRS) from real clients: grpc-js-xds and gRPC C-core report per-locality load to
 * the router because the Cluster names it (`lrs_server: self`). What they report must match what
 * they counted themselves: the cloud share within 3 points at a published share of 0.3 (here
 * exactly, since both count the same RPCs), and hand-made bad reports are refused whole.
 */
const SHARE = 0.3;
const RPCS = 4000;
const WINDOW = 600;

describe('load reports from real gRPC clients', () => {
  const servers: EchoServer[] = [];
  const catalog = new InMemoryCatalog();
  let router: TestXdsServer;

  const publish = (service: string) => {
    const [name = '', namespace = ''] = service.split('.');
    catalog.setService({
      name,
      namespace,
      endpoints: echoEndpoints(servers),
    });
    router.policies.set({ service, cloudShare: SHARE, reason: 'test', updatedAt: new Date().toISOString() });
  };
  const measured = (service: string) => router.server.measuredLoad(service, WINDOW) as MeasuredLoad;
  const measuredTotal = (service: string) => measured(service).localities.reduce((sum, l) => sum + l.requests, 0);

  /** What the client counted per site, against what it reported per locality. */
  const expectReportMatchesCounts = (service: string, counts: ReadonlyMap<string, number>) => {
    const bySite = new Map<EchoSite, number>();
    for (const [who, count] of counts) {
      const site = who.split('#')[0] as EchoSite;
      bySite.set(site, (bySite.get(site) ?? 0) + count);
    }
    const answered = [...bySite.values()].reduce((a, b) => a + b, 0);
    const countedShare = (bySite.get('cloud') ?? 0) / answered;
    const load = measured(service);
    expect(load.cloudShare).not.toBeNull();
    expect(Math.abs((load.cloudShare ?? 0) - countedShare)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(countedShare - SHARE)).toBeLessThanOrEqual(0.03);
    for (const [site, count] of bySite) {
      const { region, zone } = ECHO_SITES[site];
      const locality = load.localities.find((l) => l.region === region && l.zone === zone);
      expect(locality?.environment).toBe(site === 'cloud' ? 'cloud' : 'onprem');
      expect(locality?.requests).toBe(count);
    }
    return load;
  };

  beforeAll(async () => {
    servers.push(...(await startEchoSites()));
    router = await startTestXdsServer({ catalog, loadReporting: { intervalSeconds: 1 } });
  });

  afterAll(async () => {
    await router?.server.stop();
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('grpc-js-xds: the reported cloud share is the share the client counted', async () => {
    publish('echo.demo');
    const client = xdsClient('echo.demo', router.port, { id: 'js-client', locality: ECHO_SITES['zone-a'] });
    try {
      const counts = new Map<string, number>();
      const add = (tally: RpcTally) => {
        for (const [who, count] of tally.counts) counts.set(who, (counts.get(who) ?? 0) + count);
        return tally;
      };
      await waitFor(async () => add(await sendRpcs(client, 50)).failures === 0, {
        timeoutMs: 30_000,
        message: 'the first RPCs through xDS',
      });
      add(await sendRpcs(client, RPCS));
      const answered = [...counts.values()].reduce((a, b) => a + b, 0);
      await waitFor(() => measuredTotal('echo.demo') >= answered, {
        timeoutMs: 30_000,
        message: `reports covering ${answered} RPCs`,
      });
      const load = expectReportMatchesCounts('echo.demo', counts);
      expect(load.localities.every((l) => l.errors === 0)).toBe(true);
    } finally {
      client.close();
    }
  });

  it('gRPC C-core: the reported cloud share is the share the client counted', async () => {
    publish('echo-c.demo');
    const client = heldCCoreRpcs({
      target: 'echo-c.demo',
      xdsServer: `127.0.0.1:${router.port}`,
      locality: ECHO_SITES['zone-a'],
      count: RPCS,
    });
    try {
      const tally = await client.tally;
      expect(tally.failures).toBe(0);
      const answered = Object.values(tally.answers).reduce((a, b) => a + b, 0);
      await waitFor(() => measuredTotal('echo-c.demo') >= answered, {
        timeoutMs: 30_000,
        message: `C-core reports covering ${answered} RPCs`,
      });
      expectReportMatchesCounts('echo-c.demo', new Map(Object.entries(tally.answers)));
    } finally {
      await client.release();
    }
  });

  it('answers the node of a first request whose stats are refused', async () => {
    publish('first.demo');
    const raw = new LrsTestClient(router.port);
    try {
      const cloud = { region: 'us-east-1', zone: 'us-east-1a' };
      raw.send({
        node: {
          id: 'eager',
          locality: ECHO_SITES['zone-a'],
          client_features: ['envoy.lrs.supports_send_all_clusters'],
        },
        cluster_stats: [
          { cluster_name: 'first.demo', upstream_locality_stats: [localityStats(cloud, 1), localityStats(cloud, 2)] },
        ],
      });
      const first = await waitFor(() => raw.responses[0], { message: 'the LoadStatsResponse' });
      expect(first).toMatchObject({ send_all_clusters: true, clusters: [] });
      expect(measured('first.demo').localities).toEqual([]);
    } finally {
      raw.close();
    }
  });

  it('refuses bad reports whole, drops unknown clusters, and keeps the stream', async () => {
    publish('raw.demo');
    const raw = new LrsTestClient(router.port);
    const cloud = { region: 'us-east-1', zone: 'us-east-1a' };
    const metric = async (name: string) => (await router.registry.getSingleMetric(name)?.get())?.values ?? [];
    const count = async (name: string, label: string, value: string) =>
      (await metric(name)).find((sample) => sample.labels[label] === value)?.value ?? 0;
    try {
      raw.send({ node: { id: 'raw', locality: ECHO_SITES['zone-b'] }, cluster_stats: [] });
      const first = await waitFor(() => raw.responses[0], { message: 'the LoadStatsResponse' });
      // No `envoy.lrs.supports_send_all_clusters` feature: the clusters are named.
      expect(first.send_all_clusters).toBe(false);
      expect(first.clusters).toContain('raw.demo');
      expect(first.load_reporting_interval).toEqual({ seconds: '1', nanos: 0 });

      const rejectedBefore = await count('spillway_lrs_reports_total', 'result', 'rejected');
      // The same locality twice, an empty cluster name: refused whole, nothing counted.
      const twice = [localityStats(cloud, 5, 1), localityStats(cloud, 7, 1)];
      raw.send({ cluster_stats: [{ cluster_name: 'raw.demo', upstream_locality_stats: twice }] });
      raw.send({ cluster_stats: [{ cluster_name: '', upstream_locality_stats: [localityStats(cloud, 5)] }] });
      // More localities than a cluster may report.
      const many = Array.from({ length: 65 }, (_, n) => localityStats({ region: 'x', zone: `z${n}` }, 1));
      raw.send({ cluster_stats: [{ cluster_name: 'raw.demo', upstream_locality_stats: many }] });
      await waitFor(
        async () => (await count('spillway_lrs_reports_total', 'result', 'rejected')) === rejectedBefore + 3,
        { message: 'three rejected reports' },
      );
      // A cluster the catalog does not have is dropped; the report's good cluster is kept.
      raw.send({
        cluster_stats: [
          { cluster_name: 'nope.nowhere', upstream_locality_stats: [localityStats(cloud, 100)] },
          { cluster_name: 'raw.demo', upstream_locality_stats: [localityStats(cloud, 9, 1)] },
        ],
      });
      await waitFor(() => measured('raw.demo').localities.length > 0, { message: 'the valid report' });
      expect(measured('raw.demo')).toEqual({
        service: 'raw.demo',
        windowSeconds: WINDOW,
        localities: [{ region: 'us-east-1', zone: 'us-east-1a', environment: 'cloud', requests: 10, errors: 1 }],
        cloudShare: 1,
      });
      expect(await count('spillway_lrs_cluster_stats_dropped_total', 'reason', 'unknown-service')).toBe(1);
      expect(router.server.measuredLoad('nope.nowhere', WINDOW)?.localities).toEqual([]);
    } finally {
      raw.close();
    }
  });
});

import { buildConfig } from '@spillway/config';
import { FleetMeasuredLoad, type RunningController, redisTrafficPolicies, startController } from '@spillway/controller';
import type { MeasuredLoad } from '@spillway/model';
import { createLogger, createMetricsRegistry, type Registry, silentLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { type RunningRouter, startRouter } from '@spillway/router';
import { startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import {
  ECHO_SITES,
  type EchoServer,
  echoEndpoints,
  type RpcTally,
  sendRpcs,
  startEchoSites,
} from '@spillway/xds/test-support/echo-servers';
import { xdsClient } from '@spillway/xds/test-support/grpc-xds-client';
import { InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { LrsTestClient, localityStats } from '@spillway/xds/test-support/lrs-test-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SERVICE = 'echo.demo';
const PASSWORD = 'fleet-load-secret-7f3a';
const RPCS_PER_CLIENT = 600;
const WINDOW = 120;

type Shared = Awaited<ReturnType<typeof redisTrafficPolicies>>;

/**
 * Distributed mode with two router replicas: grpc-js-xds clients spread over them report load
 * (LRS) to the router they are connected to, each router publishes its buckets to Redis, and
 * the controller's reader sums them. The controller must see the load of both routers'
 * clients, not one router's share (what `--router URL` saw).
 */
describe('the measured load of a router fleet (two routers, real Redis, grpc-js-xds)', () => {
  const servers: EchoServer[] = [];
  const routers: { router: RunningRouter; registry: Registry; shared: Shared }[] = [];
  const logLines: string[] = [];
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let controllerSide: Shared;
  let controller: RunningController | undefined;

  beforeAll(async () => {
    redis = await startRedis({ password: PASSWORD });
    servers.push(...(await startEchoSites()));
    const catalog = new InMemoryCatalog();
    catalog.setService({
      name: 'echo',
      namespace: 'demo',
      endpoints: echoEndpoints(servers),
    });
    const policies = new InMemoryTrafficPolicyStore();
    policies.set({ service: SERVICE, cloudShare: 0.3, reason: 'test', updatedAt: new Date().toISOString() });
    const logger = createLogger('fleet-load-test', {
      level: 'info',
      hooks: {
        streamWrite: (line) => {
          logLines.push(line);
          return ''; // kept for the assertions, not printed
        },
      },
    });
    for (const name of ['router-1', 'router-2']) {
      const shared = await redisTrafficPolicies(redis.url, silentLogger(), { password: PASSWORD });
      const registry = createMetricsRegistry({ defaultMetrics: false });
      const router = await startRouter({
        catalog,
        policies,
        xdsAddress: '127.0.0.1:0',
        logger: logger.child({ router: name }),
        registry,
        loadReporting: { intervalSeconds: 1 },
        fleetLoad: { sink: shared.loadBuckets, routerId: name, intervalMs: 200 },
      });
      routers.push({ router, registry, shared });
    }
    // The controller as `spillway controller` reads the load without --router: every router's, from Redis.
    controllerSide = await redisTrafficPolicies(redis.url, silentLogger(), { password: PASSWORD });
    controller = await startController({
      config: buildConfig({
        policies: [
          {
            service: SERVICE,
            steps: [0.3],
            maxShare: 0.5,
            capacity: { replicasAtFullShare: 4, maxReplicas: 4, maxNodes: 2 },
            measuredShare: { windowSeconds: WINDOW },
          },
        ],
      }),
      catalog,
      // Its own traffic store: idle, it would set the routers' share to 0; the routers keep 0.3 here.
      traffic: new InMemoryTrafficPolicyStore(),
      measuredLoad: new FleetMeasuredLoad(controllerSide.loadBuckets),
      logger: silentLogger(),
      registry: createMetricsRegistry({ defaultMetrics: false }),
    });
  }, 60_000);

  afterAll(async () => {
    await controller?.stop();
    for (const { router, shared } of routers) {
      await router.stop();
      await shared.close();
    }
    await controllerSide?.close();
    await Promise.all(servers.map((server) => server.stop()));
    await redis?.stop();
  });

  const total = (load: MeasuredLoad | undefined) => (load?.localities ?? []).reduce((sum, l) => sum + l.requests, 0);

  /** RPCs through a grpc-js-xds client of one router, tallied per site as the client saw them. */
  const rpcsThrough = async (router: RunningRouter, id: string, site: 'zone-a' | 'zone-b') => {
    const client = xdsClient(SERVICE, router.xdsPort, { id, locality: ECHO_SITES[site] });
    const bySite = new Map<string, number>();
    const add = (tally: RpcTally) => {
      for (const [who, count] of tally.counts) {
        const answeredBy = who.split('#')[0] ?? '';
        bySite.set(answeredBy, (bySite.get(answeredBy) ?? 0) + count);
      }
      return tally;
    };
    try {
      await waitFor(async () => add(await sendRpcs(client, 20)).failures === 0, {
        timeoutMs: 30_000,
        message: `${id}: the first RPCs through xDS`,
      });
      add(await sendRpcs(client, RPCS_PER_CLIENT));
      const answered = [...bySite.values()].reduce((a, b) => a + b, 0);
      // The client reports every second while its channel is open: wait until its router has it all.
      await waitFor(() => total(router.measuredLoad(SERVICE, WINDOW)) >= answered, {
        timeoutMs: 30_000,
        message: `${id}: reports covering its ${answered} RPCs`,
      });
    } finally {
      client.close();
    }
    return bySite;
  };

  it("the controller's measured share is the combined load of both routers' clients", async () => {
    const [first, second] = routers;
    if (!first || !second) throw new Error('two routers expected');
    const [one, two] = await Promise.all([
      rpcsThrough(first.router, 'client-1', 'zone-a'),
      rpcsThrough(second.router, 'client-2', 'zone-b'),
    ]);
    const combined = new Map<string, number>();
    for (const part of [one, two]) for (const [site, n] of part) combined.set(site, (combined.get(site) ?? 0) + n);
    const answered = [...combined.values()].reduce((a, b) => a + b, 0);
    const perRouter = [
      total(first.router.measuredLoad(SERVICE, WINDOW)),
      total(second.router.measuredLoad(SERVICE, WINDOW)),
    ];
    // Each router alone knows its own clients only.
    expect(perRouter[0]).toBeLessThan(answered);
    expect(perRouter[1]).toBeLessThan(answered);

    const fleet = new FleetMeasuredLoad(controllerSide.loadBuckets);
    const measured = await waitFor(
      async () => {
        const load = await fleet.measuredLoad(SERVICE, WINDOW);
        return total(load) >= answered ? load : undefined;
      },
      { timeoutMs: 30_000, message: `the fleet's load covering ${answered} RPCs` },
    );
    // What the controller acts on (the reading its verdicts use, as GET /v1/bursts/{id} shows it).
    const share = await controller?.controller.measuredShareOf(SERVICE);
    expect(share).toMatchObject({
      requests: answered,
      share: measured.cloudShare,
      windowSeconds: WINDOW,
    });
    // Exactly what both clients counted, per locality, and the share they saw together.
    expect(total(measured)).toBe(answered);
    for (const [site, count] of combined) {
      const { region, zone } = ECHO_SITES[site as keyof typeof ECHO_SITES];
      const locality = measured.localities.find((l) => l.region === region && l.zone === zone);
      expect(locality, site).toMatchObject({ requests: count, environment: site === 'cloud' ? 'cloud' : 'onprem' });
    }
    expect(measured.cloudShare).toBeCloseTo((combined.get('cloud') ?? 0) / answered, 10);
    expect(measured.cloudShare).toBeGreaterThan(0.2);
    expect(measured.cloudShare).toBeLessThan(0.4);
    for (const { registry } of routers) {
      expect(await registry.metrics()).toMatch(/spillway_router_load_publishes_total\{result="ok"\} [1-9]/);
    }
  }, 120_000);

  it('counts and logs a failed publication once, without the password, and publishes again after', async () => {
    const [first] = routers;
    if (!first) throw new Error('a router expected');
    const failed = async () =>
      Number(
        /spillway_router_load_publishes_total\{result="failed"\} (\d+)/.exec(await first.registry.metrics())?.[1] ?? 0,
      );
    // A client that keeps reporting, so every tick has something to send.
    const reporter = new LrsTestClient(first.router.xdsPort);
    reporter.send({ node: { id: 'steady', locality: ECHO_SITES['zone-a'] }, cluster_stats: [] });
    const report = () =>
      reporter.send({
        cluster_stats: [{ cluster_name: SERVICE, upstream_locality_stats: [localityStats(ECHO_SITES['zone-a'], 5)] }],
      });
    const reporting = setInterval(report, 200);
    try {
      await waitFor(async () => (await failed()) === 0 && total(first.router.measuredLoad(SERVICE, 5)) > 0, {
        message: 'the steady reports',
      });
      await publishFailsAndRecovers(failed);
    } finally {
      clearInterval(reporting);
      reporter.close();
    }
  }, 90_000);

  const publishFailsAndRecovers = async (failed: () => Promise<number>) => {
    await redis.kill();
    await waitFor(async () => (await failed()) >= 2, { timeoutMs: 20_000, message: 'failed publications counted' });
    const warnings = logLines.filter(
      (line) => line.includes('"router":"router-1"') && line.includes('cannot publish the measured load'),
    );
    expect(warnings).toHaveLength(1);
    expect(logLines.join('\n')).not.toContain(PASSWORD);
    await redis.restart();
    await waitFor(() => logLines.some((line) => line.includes('measured load published again')), {
      timeoutMs: 20_000,
      message: 'publishing again once Redis is back',
    });
    expect(logLines.join('\n')).not.toContain(PASSWORD);
  };
});

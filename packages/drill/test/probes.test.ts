import type { ServiceKey } from '@spillway/model';
import type { RunningRouter } from '@spillway/router';
import { startLoopbackRouter } from '@spillway/router/test-support/loopback-router';
import { IDENTITY_PATH, type IdentityServer, startIdentityServer } from '@spillway/simulator';
import { waitFor } from '@spillway/test/support/wait';
import { endpoint, InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeFleet, type ProbeSample } from '../src/probes/probe-fleet.js';

/**
 * Real probe clients (grpc-js-xds channels, one per location) through the real router to real
 * gRPC servers: each client stays in its zone, the rate holds, a zone failure shows up as
 * failures and then as answers from the next zone, and stop() leaves nothing behind.
 */
const SERVICE: ServiceKey = 'echo.demo';
const ZONE_A = { region: 'dc1', zone: 'a' };
const ZONE_B = { region: 'dc1', zone: 'b' };
const RATE = 100;
const WINDOW_MS = 2_000;

/** Kinds of active resources that keep the event loop alive, counted. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** The RPCs in flight when the zone fails were sent before it: what counts is when they ended. */
const endedAt = (sample: ProbeSample) => sample.sentAtMs + sample.latencyMs;

describe('ProbeFleet through the locality router', () => {
  const catalog = new InMemoryCatalog();
  const zoneA: IdentityServer[] = [];
  const zoneB: IdentityServer[] = [];
  const heard: ProbeSample[] = [];
  let baseline: Map<string, number>;
  let router: RunningRouter | undefined;
  let fleet: ProbeFleet | undefined;
  let zoneAStopped = false;

  const peers = (servers: readonly IdentityServer[]) => new Set(servers.map((server) => `127.0.0.1:${server.port}`));
  const setCatalog = (unhealthyZones: readonly string[] = []) =>
    catalog.setService({
      name: 'echo',
      namespace: 'demo',
      endpoints: [
        ...zoneA.map((server) =>
          endpoint('127.0.0.1', server.port, ZONE_A, {
            health: unhealthyZones.includes('a') ? 'unhealthy' : 'healthy',
          }),
        ),
        ...zoneB.map((server) => endpoint('127.0.0.1', server.port, ZONE_B)),
      ],
    });

  beforeAll(async () => {
    baseline = activeResources();
    for (const n of [1, 2]) {
      // Zone a answers after 100 ms, so that RPCs are in flight when it fails.
      zoneA.push(
        await startIdentityServer({
          identity: { cluster: 'k8s', zone: 'a', endpoint: `a-${n}` },
          port: 0,
          delayMs: () => 100,
        }),
      );
      zoneB.push(await startIdentityServer({ identity: { cluster: 'k8s', zone: 'b', endpoint: `b-${n}` }, port: 0 }));
    }
    setCatalog();
    router = await startLoopbackRouter({ catalog, http: false });
    fleet = ProbeFleet.start({
      xdsAddress: `127.0.0.1:${router.xdsPort}`,
      service: SERVICE,
      locations: [ZONE_A, ZONE_B],
      ratePerSecond: RATE,
      method: IDENTITY_PATH,
      timeoutMs: 2_000,
      nodeIdPrefix: 'probes-test',
    });
    fleet.onSample((sample) => heard.push(sample));
    await fleet.ready(30_000);
  });

  afterAll(async () => {
    await fleet?.stop();
    await router?.stop();
    await Promise.all([...(zoneAStopped ? [] : zoneA), ...zoneB].map((server) => server.stop()));
  });

  it('keeps each client in its own zone at about the configured rate', async () => {
    const probes = fleet!;
    const readyAt = probes.readyAtMs!;
    expect(readyAt).toBeDefined();
    expect(probes.nodeIds).toHaveLength(2);
    expect(router!.clients().map((client) => client.nodeId)).toEqual(expect.arrayContaining([...probes.nodeIds]));
    await waitFor(() => probes.samples().some((sample) => sample.sentAtMs >= readyAt + WINDOW_MS), {
      message: `a sample sent ${WINDOW_MS} ms after ready`,
    });
    const samples = probes.samples();
    expect(samples.every((sample) => sample.sentAtMs >= readyAt)).toBe(true);
    const window = samples.filter((sample) => sample.sentAtMs < readyAt + WINDOW_MS);
    console.info(`${window.length} samples in ${WINDOW_MS} ms at ${RATE}/s, ${probes.skipped} skipped`);
    expect(window.length).toBeGreaterThanOrEqual(100);
    expect(window.length).toBeLessThanOrEqual(300);

    expect(samples.filter((sample) => !sample.ok)).toEqual([]);
    expect(samples.every((sample) => sample.code === 0)).toBe(true);
    const byClient = (client: number) => samples.filter((sample) => sample.client === client);
    // Roughly even: the rate is spread over the two clients.
    expect(Math.abs(byClient(0).length - byClient(1).length)).toBeLessThanOrEqual(samples.length / 4);
    const zoneAPeers = peers(zoneA);
    const zoneBPeers = peers(zoneB);
    expect(new Set(byClient(0).map((sample) => sample.peer))).toEqual(zoneAPeers);
    expect(new Set(byClient(1).map((sample) => sample.peer))).toEqual(zoneBPeers);
    // zone a answers after 100 ms; zone b at once.
    expect(Math.min(...byClient(0).map((sample) => sample.latencyMs))).toBeGreaterThanOrEqual(95);

    expect(heard).toEqual(probes.samples().slice(0, heard.length));
  });

  it('records the failures of a zone outage, then answers from the next zone', async () => {
    const probes = fleet!;
    const outageAt = performance.now();
    // A crash: forceShutdown drops the connections with the RPCs in flight on them.
    await Promise.all(zoneA.map((server) => server.stop()));
    zoneAStopped = true;
    setCatalog(['a']);

    const firstFailure = await waitFor(
      () => probes.samples().find((sample) => sample.client === 0 && !sample.ok && endedAt(sample) >= outageAt),
      { message: 'a failed probe from the zone-a client during the outage' },
    );
    // In-flight RPCs end CANCELLED (the server reset their streams), later picks UNAVAILABLE.
    expect([1, 14, 4]).toContain(firstFailure.code);

    const zoneBPeers = peers(zoneB);
    const recovered = await waitFor(
      () => {
        const after = probes
          .samples()
          .filter((sample) => sample.client === 0 && sample.sentAtMs > firstFailure.sentAtMs)
          .slice(-20);
        return after.length === 20 && after.every((sample) => sample.ok && zoneBPeers.has(sample.peer ?? ''))
          ? after
          : undefined;
      },
      { timeoutMs: 30_000, message: 'the zone-a client to succeed on zone b' },
    );
    expect(recovered).toHaveLength(20);

    const outage = probes.samples().filter((sample) => sample.client === 0 && endedAt(sample) >= outageAt);
    const failures = outage.filter((sample) => !sample.ok);
    console.info(
      `zone-a client after the outage: ${outage.length} samples, ${failures.length} failed ` +
        `(codes ${[...new Set(failures.map((sample) => sample.code))].join(',')}, ` +
        `with a peer: ${failures.filter((sample) => sample.peer).length})`,
    );
    // The zone-b client never noticed.
    expect(probes.samples().filter((sample) => sample.client === 1 && !sample.ok)).toEqual([]);
  });

  it('stops without leaving handles, and records nothing after stop', async () => {
    const probes = fleet!;
    await probes.stop();
    const stoppedWith = probes.samples().length;
    expect(heard).toHaveLength(stoppedWith);
    await expect(probes.ready(1_000)).resolves.toBeUndefined();
    // Their ADS streams end: the router forgets both clients.
    await waitFor(() => !router!.clients().some((client) => probes.nodeIds.includes(client.nodeId)), {
      message: 'the router to drop the probe clients',
    });

    await router!.stop();
    router = undefined;
    await Promise.all(zoneB.map((server) => server.stop()));
    zoneB.length = 0;
    // Every socket and timer of the probes, the router and the servers is gone.
    await waitFor(
      () => {
        const now = activeResources();
        const extra = [...now].filter(([kind, count]) => count > (baseline.get(kind) ?? 0));
        return extra.length === 0 ? true : undefined;
      },
      { message: `the active resources to return to ${JSON.stringify([...baseline])}` },
    );
    expect(probes.samples()).toHaveLength(stoppedWith);
    expect(heard).toHaveLength(stoppedWith);
  });
});

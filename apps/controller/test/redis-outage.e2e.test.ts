import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Json, postBurst, TOKENS } from './controller-harness.js';
import { type RedisHarness, SERVICE, startRedisHarness, withDeadline } from './support/redis-controller.js';

/**
 * Redis goes away mid-burst and comes back. Redis runs with an append-only file fsynced on every
 * write (`persistence: 'aof'`), as a production Redis holding Spillway's state should; a killed
 * server comes back with every acknowledged write. Meanwhile the API says the controller is
 * degraded, reads that need Redis answer 503, `/readyz` is 503, and the routers keep serving the
 * last policy; afterwards the controller re-takes its lease and carries on with the same burst.
 */

let redis: RunningRedis | undefined;
let harness: RedisHarness | undefined;

beforeAll(async () => {
  redis = await startRedis({ persistence: 'aof' });
  harness = await startRedisHarness({ redisUrl: redis.url });
});

afterAll(async () => {
  // The harness first (its stores talk to Redis); each step bounded, every step runs.
  const results = [
    ...(await Promise.allSettled([harness ? withDeadline(harness.stop(), 30_000) : undefined])),
    ...(await Promise.allSettled([redis?.stop()])),
  ];
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
});

/** A version 4 Alertmanager notification with one firing alert. */
function notification(alertname: string): unknown {
  const labels = { alertname, service: SERVICE, severity: 'page' };
  return {
    version: '4',
    groupKey: `{}:{alertname="${alertname}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'spillway',
    groupLabels: { alertname },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example',
    alerts: [
      {
        status: 'firing',
        labels,
        annotations: {},
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example/graph',
        fingerprint: '0123456789abcdef',
      },
    ],
  };
}

describe('Redis goes away and comes back mid-burst (AOF persistence)', () => {
  it('says degraded (503 on reads, /readyz 503), keeps the routers on the burst, then resumes it and can abort it', async () => {
    const h = harness!;
    const { url, k8s, eks } = h;

    const started = await postBurst(url, { share: 0.3, reason: 'game day: Redis outage' });
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    await waitFor(() => h.routerShare() === 0.3, { timeoutMs: 30_000, message: 'the routers at share 0.3' });
    const before = await waitFor(
      async () => {
        const { body } = await api(url, 'GET', `/v1/bursts/${id}`);
        return body.phase === 'holding' ? body : undefined;
      },
      { message: 'the burst holding at 0.3' },
    );
    // 0.3: ceil(3) = 3 replicas on 2 nodes.
    expect(k8s.deployment('shop', 'checkout').replicas).toBe(3);
    expect(eks.nodegroup('burst', 'spot').desiredSize).toBe(2);
    expect((await api(url, 'GET', '/readyz')).status).toBe(200);
    const putsBefore = k8s.deploymentRequests('shop', 'checkout', 'PUT').length;
    const updatesBefore = eks.updateRequests('burst', 'spot').length;

    // --- Redis dies ------------------------------------------------------------------------
    await redis!.kill();
    const killedAt = h.elapsedMs();
    const degraded = await waitFor(
      async () => {
        const { body } = await api(url, 'GET', '/v1/controller');
        return body.degraded && body.lastError && body.store?.ready === false ? body : undefined;
      },
      { message: 'GET /v1/controller degraded, with the error' },
    );
    expect(degraded.lastError.message).toMatch(/^state store unavailable during /);
    expect(degraded.store).toMatchObject({ name: 'redis', ready: false });
    expect(degraded.store.detail).toMatch(/^redis down since /);

    const list = await api(url, 'GET', '/v1/bursts');
    expect(list.status).toBe(503);
    expect(list.type).toContain('application/problem+json');
    expect(list.body).toMatchObject({ title: 'Service Unavailable', status: 503, degraded: true });
    expect(list.body.detail).toMatch(/^state store unavailable during bursts\.list/);
    const one = await api(url, 'GET', `/v1/bursts/${id}`);
    expect(one).toMatchObject({ status: 503, body: { title: 'Service Unavailable' } });
    expect((await api(url, 'GET', '/v1/audit')).status).toBe(503);
    // Mutations cannot be taken either: 503 (Alertmanager retries a 5xx delivery), never a 500.
    const abortWhileDown = await api(url, 'POST', `/v1/bursts/${id}/abort`, { reason: 'not now' }, TOKENS.operator);
    expect(abortWhileDown.status).toBe(503);
    const startWhileDown = await postBurst(url, { share: 0.1, reason: 'x' });
    expect(startWhileDown.status).toBe(503);
    const webhook = await api(url, 'POST', '/v1/alerts/alertmanager', notification('DiskFull'), TOKENS.webhook);
    expect(webhook).toMatchObject({ status: 503, body: { title: 'Service Unavailable' } });
    const ready = await api(url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toEqual([expect.objectContaining({ name: 'redis', ready: false })]);

    // Out for longer than the lease (3 s): the controller steps down rather than decide blind.
    await waitFor(async () => (await api(url, 'GET', '/v1/controller')).body.leader === false, {
      message: 'the controller no longer leading',
    });
    // The routers still serve the burst's share from their last policy; nothing was scaled.
    expect(h.routerShare()).toBe(0.3);
    expect(h.stores.traffic.get(SERVICE)?.cloudShare).toBe(0.3);
    expect(k8s.deploymentRequests('shop', 'checkout', 'PUT')).toHaveLength(putsBefore);
    expect(eks.updateRequests('burst', 'spot')).toHaveLength(updatesBefore);
    const downForMs = h.elapsedMs() - killedAt;

    // --- Redis comes back, with its data ---------------------------------------------------
    await redis!.restart();
    const restartedAt = h.elapsedMs();
    const recovered = await waitFor(
      async () => {
        const { body } = await api(url, 'GET', '/v1/controller');
        return !body.degraded && body.leader ? body : undefined;
      },
      { timeoutMs: 30_000, message: 'the controller leading again, not degraded' },
    );
    expect(recovered).toMatchObject({ lastError: null, store: { name: 'redis', ready: true } });
    const recoveredAfterMs = h.elapsedMs() - restartedAt;
    expect((await api(url, 'GET', '/readyz')).status).toBe(200);

    // No burst lost: same id, still active at the same share and phase.
    const after = await api(url, 'GET', `/v1/bursts/${id}`);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({
      id,
      service: SERVICE,
      active: true,
      phase: 'holding',
      share: 0.3,
      actor: 'operator',
      createdAt: before.createdAt,
    });
    const listed = await api(url, 'GET', '/v1/bursts?active=true');
    expect(listed.body.bursts.map((b: Json) => b.id)).toEqual([id]);
    // The operator's start and the webhook tried during the outage were refused, not half-applied.
    expect(listed.body.bursts).toHaveLength(1);
    expect(h.routerShare()).toBe(0.3);

    // --- And it still reconciles: abort → traffic back first, then capacity released --------
    const aborted = await api(url, 'POST', `/v1/bursts/${id}/abort`, { reason: 'outage over' }, TOKENS.operator);
    expect(aborted.status).toBe(202);
    await waitFor(() => h.routerShare() === 0, { timeoutMs: 20_000, message: 'the routers back at share 0' });
    await waitFor(() => k8s.deployment('shop', 'checkout').replicas === 0, { message: 'replicas released' });
    await waitFor(() => eks.nodegroup('burst', 'spot').desiredSize === 0, { message: 'nodes released' });
    const ended = await waitFor(
      async () => {
        const { body } = await api(url, 'GET', `/v1/bursts/${id}`);
        return body.active === false ? body : undefined;
      },
      { message: 'the burst ended' },
    );
    expect(ended.abort).toMatchObject({ reason: 'outage over', actor: 'operator' });

    // Where traffic went, as the routers saw it: up to 0.3 once, held through the outage, 0.
    expect(h.shares.map((change) => change.share)).toEqual([0.3, 0]);
    // What was scaled: each value once (3 replicas / 2 nodes, then the floor).
    expect(k8s.deploymentRequests('shop', 'checkout', 'PUT').map((r) => r.status)).toEqual([200, 200]);
    expect(
      eks.updateRequests('burst', 'spot').map((r) => [r.status, (r.body as Json).scalingConfig.desiredSize]),
    ).toEqual([
      [200, 2],
      [200, 0],
    ]);
    // What was recorded: the decisions on both sides of the outage, in one audit log.
    const trail = ((await api(url, 'GET', `/v1/audit?burstId=${id}&limit=500`)).body.entries as Json[]).reverse();
    const decisions = trail.filter((e) => e.kind === 'decision').map((e) => e.details.decision);
    expect(decisions[0]).toBe('start');
    expect(decisions).toContain('abort');
    expect(decisions.at(-1)).toBe('end');
    console.info(
      `redis outage: down ${downForMs} ms, leading again ${recoveredAfterMs} ms after the restart; ` +
        `routers saw ${JSON.stringify(h.shares)}; UpdateNodegroupConfig ` +
        `${JSON.stringify(eks.updateRequests('burst', 'spot').map((r) => (r.body as Json).scalingConfig.desiredSize))}, ` +
        `scale PUTs ${k8s.deploymentRequests('shop', 'checkout', 'PUT').length}`,
    );
  });

  it('an outage while capacity is being requested: the burst still reaches its share, each scale call made once', async () => {
    // A Redis and a controller of its own, independent of the first test's.
    const ownRedis = await startRedis({ persistence: 'aof' });
    let own: RedisHarness | undefined;
    let failure: unknown;
    try {
      own = await startRedisHarness({ redisUrl: ownRedis.url });
      const { url, k8s, eks } = own;
      const started = await postBurst(url, { share: 0.3, reason: 'x' });
      expect(started.status).toBe(202);
      // The first scale call is out; the jobs after it (nodegroup, traffic, DNS) are still to run.
      await waitFor(() => k8s.deploymentRequests('shop', 'checkout', 'PUT').length === 1, {
        intervalMs: 5,
        message: 'the Deployment scale PUT',
      });
      const shareAtKill = own.routerShare();
      await ownRedis.kill();
      await waitFor(async () => (await api(url, 'GET', '/v1/controller')).body.degraded === true, {
        message: 'degraded',
      });
      await ownRedis.restart();
      await waitFor(() => own?.routerShare() === 0.3, { timeoutMs: 30_000, message: 'the routers at share 0.3' });
      const burst = await waitFor(
        async () => {
          const { body } = await api(url, 'GET', `/v1/bursts/${started.body.id}`);
          return body.phase === 'holding' ? body : undefined;
        },
        { timeoutMs: 20_000, message: 'the burst holding' },
      );
      expect(burst).toMatchObject({ active: true, share: 0.3 });
      expect(k8s.deployment('shop', 'checkout').replicas).toBe(3);
      expect(k8s.deploymentRequests('shop', 'checkout', 'PUT').map((r) => r.status)).toEqual([200]);
      expect(eks.updateRequests('burst', 'spot').map((r) => (r.body as Json).scalingConfig.desiredSize)).toEqual([2]);
      expect(own.shares.map((change) => change.share)).toEqual([0.3]);
      console.info(
        `redis outage mid-scale: share at the kill ${shareAtKill}; routers saw ${JSON.stringify(own.shares)}`,
      );
    } catch (error) {
      failure = error;
    }
    // Every stop runs; the test's own failure is the one reported, else a failed stop.
    const results = await Promise.allSettled([own ? withDeadline(own.stop(), 30_000) : undefined]);
    await ownRedis.stop();
    if (failure) throw failure;
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  });
});

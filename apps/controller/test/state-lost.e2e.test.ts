/**
 * Redis loses its data mid-burst (FLUSHALL; a Redis restarted without persistence does the same).
 *
 * The issue: the controller process crashed (BullMQ "Missing key for job … updateProgress": a
 * progress update nobody awaited became an unhandled rejection), leaving the nodegroup at 2–3
 * nodes, Route 53 at the cloud weight and the router at share 0. Now the process stays up, and
 * the leader, finding the state it had read gone while the cloud APIs show burst capacity and
 * cloud DNS weight, records "state lost; observed …" and drives the world back to the policy's
 * idle: share 0, DNS all on-prem, capacity at the floor.
 *
 * Real parts: redis-server, the controller with its Redis stores and BullMQ jobs (in-process, as
 * `spillway controller` runs it), the AWS SDK and @kubernetes/client-node against the fakes.
 */
import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { api, type Json, postBurst } from './controller-harness.js';
import { type RedisHarness, startRedisHarness, withDeadline } from './support/redis-controller.js';

let redis: RunningRedis | undefined;
let harness: RedisHarness | undefined;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeEach(async () => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
  redis = await startRedis();
  harness = await startRedisHarness({ redisUrl: redis.url });
});

afterEach(async () => {
  process.off('unhandledRejection', onUnhandled);
  await Promise.allSettled([harness ? withDeadline(harness.stop(), 30_000) : undefined]);
  await redis?.stop();
});

async function flushAll(): Promise<void> {
  const client = new Redis(redis!.url);
  try {
    await client.flushall();
  } finally {
    client.disconnect();
  }
}

async function audit(): Promise<Json[]> {
  return (await api(harness!.url, 'GET', '/v1/audit?limit=1000')).body.entries ?? [];
}

/** The weight of the cloud set of the policy's record, as Route 53 holds it. */
function cloudWeight(): number | undefined {
  const { zone, route53 } = harness!;
  return route53.records(zone.hostedZoneId).find((set) => set.SetIdentifier === zone.setIdentifiers[1])?.Weight;
}

async function startBurst(share: number): Promise<string> {
  const started = await postBurst(harness!.url, { share, reason: 'state-lost test' });
  expect(started.status).toBe(202);
  return started.body.id as string;
}

describe('Redis loses its data mid-burst (FLUSHALL)', () => {
  it('mid scale-nodegroup job: the process stays up, and capacity goes back to the floor with an audit entry saying why', async () => {
    const h = harness!;
    // The update stays UPDATING: the job keeps polling and reporting progress to BullMQ.
    h.eks.nodegroup('burst', 'spot').updateDescribes = 'manual';
    await startBurst(0.25);
    await waitFor(() => h.eks.updateRequests('burst', 'spot').length >= 1, {
      message: 'UpdateNodegroupConfig sent',
    });
    await waitFor(() => h.k8s.deployment('shop', 'checkout').replicas > 0, { message: 'the Deployment scaled' });

    await flushAll();
    // The job's next progress update finds its BullMQ keys gone.
    const entry = await waitFor(
      async () => (await audit()).find((e) => typeof e.message === 'string' && e.message.startsWith('state lost')),
      { message: 'an audit entry saying the state was lost', timeoutMs: 30_000 },
    );
    expect(entry.message).toMatch(/observed nodegroup 2, deployment 3/);

    // EKS finishes the update in its own time; from now on updates settle by themselves.
    h.eks.nodegroup('burst', 'spot').updateDescribes = 2;
    h.eks.finishUpdate('burst', 'spot');
    await waitFor(
      () =>
        h.eks.nodegroup('burst', 'spot').desiredSize === 0 &&
        h.eks.nodegroup('burst', 'spot').status === 'ACTIVE' &&
        h.k8s.deployment('shop', 'checkout').replicas === 0,
      { message: 'capacity back at the floor (0 nodes, 0 replicas)', timeoutMs: 60_000 },
    );
    expect(h.routerShare()).toBe(0);
    await waitFor(async () => (await api(h.url, 'GET', '/v1/controller')).body.leader === true, {
      message: 'the controller still leading',
    });
    expect(unhandled).toEqual([]);
  }, 120_000);

  it('holding at a cloud share: DNS goes back on-prem and capacity to the floor', async () => {
    const h = harness!;
    const id = await startBurst(0.25);
    await waitFor(async () => (await api(h.url, 'GET', `/v1/bursts/${id}`)).body.phase === 'holding', {
      message: 'the burst holding',
      timeoutMs: 60_000,
    });
    await waitFor(() => cloudWeight() === 64, { message: 'Route 53 at the cloud weight for 0.25' });

    await flushAll();
    const entry = await waitFor(
      async () => (await audit()).find((e) => typeof e.message === 'string' && e.message.startsWith('state lost')),
      { message: 'an audit entry saying the state was lost', timeoutMs: 30_000 },
    );
    expect(entry.message).toMatch(/observed nodegroup 2, deployment 3, dns cloud 64 \/ on-prem 191, router share 0/);
    await waitFor(
      () =>
        cloudWeight() === 0 &&
        h.eks.nodegroup('burst', 'spot').desiredSize === 0 &&
        h.k8s.deployment('shop', 'checkout').replicas === 0,
      { message: 'DNS all on-prem, capacity at the floor', timeoutMs: 60_000 },
    );
    expect(h.routerShare()).toBe(0);
    // The release ran under a burst id of its own, so its actions are found by it.
    expect(entry.burstId).toMatch(/^recovered-/);
    const released = (await audit()).filter((e) => e.burstId === entry.burstId && e.kind === 'action');
    expect(released.map((e) => e.details?.action?.kind).filter(Boolean)).toEqual(
      expect.arrayContaining(['set-traffic-share', 'set-dns-weights', 'scale-deployment', 'scale-nodegroup']),
    );
    expect(unhandled).toEqual([]);
  }, 120_000);
});

/**
 * kill -9 the controller mid-burst, start it again: the burst completes, each scale call was
 * made once.
 *
 * Real parts: redis-server; `spillway federation` and `spillway controller` as child processes
 * with YAML config files; the real AWS SDK v3 and @kubernetes/client-node inside the controller,
 * reaching the cloud fakes (EKS, Route 53, Kubernetes API) that run in this test process through
 * a kubeconfig file and the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables.
 *
 * The kill lands while the nodegroup update is in flight: the controller has called
 * UpdateNodegroupConfig and scaled the Deployment, its scale-nodegroup job is active (waiting for
 * the nodegroup to become ACTIVE), and no traffic has moved. The nodegroup settles while no
 * controller runs. The second controller waits for the dead one's lease to lapse (≤ 10 s),
 * resumes the burst from Redis, and BullMQ hands it the dead worker's job once that job's lock
 * lapses (BullMQ's default 30 s lock and 30 s stalled-check interval: 40–90 s after the kill
 * here, which is most of this test's time): the retried job finds the nodegroup already at its
 * size and returns without calling EKS again.
 */
import { redisTrafficPolicies } from '@spillway/controller';
import { BullMqJobQueue } from '@spillway/jobs';
import { silentLogger } from '@spillway/observability';
import { type BurstWorld, processExit, startBurstWorld, type WorldProcess } from '@spillway/test/support/burst-world';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Json } from './controller-harness.js';
import { K8S_TOKEN, KILL_WORLD_FILES, OPERATOR_TOKEN, spawnCli } from './support/kill-world.js';

const SERVICE = 'checkout.shop';
const SHARE = 0.3;
// Capacity for 0.3 (replicasAtFullShare 10, podsPerNode 2): 3 replicas on 2 nodes.
const REPLICAS = 3;
const NODES = 2;

let world: BurstWorld | undefined;
let policies: Awaited<ReturnType<typeof redisTrafficPolicies>> | undefined;
/** A reader of the controllers' job queue (it runs no workers). */
let jobs: BullMqJobQueue | undefined;

beforeAll(async () => {
  world = await startBurstWorld({
    spawn: spawnCli,
    // No replica becomes ready by itself, and an accepted nodegroup update stays UPDATING: the
    // test says when the pods and nodes are up.
    cloud: { kubernetesToken: K8S_TOKEN, readyStep: 0, nodegroupUpdates: 'manual', route53InsyncAfterPolls: 1 },
    files: KILL_WORLD_FILES,
  });
  policies = await redisTrafficPolicies(world.redis.url, silentLogger());
  jobs = new BullMqJobQueue({ url: world.redis.url }, { kinds: ['scale-nodegroup'] });
}, 60_000);

afterAll(async () => {
  // Every step runs even when an earlier one fails, so nothing is left behind.
  await Promise.allSettled([policies?.close(), jobs?.close()]);
  await world?.stop();
}, 60_000);

async function startController(federationUrl: string): Promise<{ controller: WorldProcess; url: string }> {
  const { process, url } = await world!.startController(federationUrl);
  return { controller: process, url };
}

/** What each process said, for a failure message. */
const outputs = () => world!.outputs();
const eks = () => world!.cloud.eks;
const k8s = () => world!.cloud.k8s;
const route53 = () => world!.cloud.route53;

const updateCalls = () => eks().updateRequests('burst', 'spot');
const scalePuts = () => k8s().deploymentRequests('shop', 'checkout', 'PUT');
const share = () => policies!.policies.get(SERVICE)?.cloudShare ?? 0;

describe('kill -9 of the controller mid-burst (Redis, child processes, cloud fakes)', () => {
  it('resumes the burst in a new controller: it completes, and each scale call was made once', async () => {
    const { url: federationUrl } = await world!.startFederation();
    await waitFor(
      async () => {
        const body = (await (await fetch(`${federationUrl}/v1/services/shop/checkout`)).json()) as Json;
        return (body.endpoints ?? []).length === 4;
      },
      { message: 'the federation serving checkout.shop with four endpoints', timeoutMs: 30_000 },
    );

    // ---- the first controller starts the burst ----
    const { controller: first, url: firstUrl } = await startController(federationUrl);
    const firstOwner = await waitFor(
      async () => {
        const body = (await api(firstUrl, 'GET', '/v1/controller')).body;
        return body.leader ? (body.owner as string) : undefined;
      },
      { message: `the first controller leading\n${outputs()}`, timeoutMs: 30_000 },
    );
    const started = await api(
      firstUrl,
      'POST',
      '/v1/bursts',
      { service: SERVICE, share: SHARE, reason: 'kill -9 drill' },
      OPERATOR_TOKEN,
    );
    expect(started.status).toBe(202);
    const id = started.body.id as string;

    // Mid-burst: capacity requested at both fakes, the nodegroup still UPDATING, no traffic moved.
    await waitFor(() => updateCalls().length >= 1 && scalePuts().length >= 1, {
      message: `UpdateNodegroupConfig and the Deployment scale PUT\n${outputs()}`,
      timeoutMs: 60_000,
    });
    expect(eks().nodegroup('burst', 'spot')).toMatchObject({ status: 'UPDATING', desiredSize: NODES });
    expect(k8s().deployment('shop', 'checkout')).toMatchObject({ replicas: REPLICAS, readyReplicas: 0 });
    const before = (await api(firstUrl, 'GET', `/v1/bursts/${id}`)).body;
    expect(before).toMatchObject({ id, active: true, phase: 'scaling-out', share: 0 });
    expect(share()).toBe(0);

    // ---- kill -9 ----
    first.child.kill('SIGKILL');
    await processExit(first.child);
    expect(first.child.signalCode).toBe('SIGKILL');

    // The cloud keeps going while no controller runs: the nodes join, the pods become ready.
    eks().finishUpdate('burst', 'spot');
    k8s().advanceDeployment('shop', 'checkout');

    // ---- the second controller, same config ----
    const { url: secondUrl } = await startController(federationUrl);
    // It leads once the dead controller's lease has lapsed (ttl 10 s).
    const secondOwner = await waitFor(
      async () => {
        const body = (await api(secondUrl, 'GET', '/v1/controller')).body;
        return body.leader ? (body.owner as string) : undefined;
      },
      { message: `the second controller leading\n${outputs()}`, timeoutMs: 45_000 },
    );
    expect(secondOwner).not.toBe(firstOwner);

    // The burst completes: the policy the routers read reaches the share, and the API says so.
    await waitFor(() => share() === SHARE, {
      message: `traffic share ${SHARE} in Redis\n${outputs()}`,
      timeoutMs: 60_000,
    });
    const shown = await waitFor(
      async () => {
        const body = (await api(secondUrl, 'GET', `/v1/bursts/${id}`)).body;
        return body.phase === 'holding' ? body : undefined;
      },
      { message: 'the burst holding at its share', timeoutMs: 30_000 },
    );
    expect(shown).toMatchObject({ id, service: SERVICE, active: true, share: SHARE, phase: 'holding' });
    await waitFor(() => route53().acceptedChanges().length >= 1, { message: 'Route 53 weights submitted' });

    // The dead worker's scale-nodegroup job is retaken once its BullMQ lock lapses (BullMQ's
    // defaults: 30 s lock, stalled checks every 30 s), and the retry finds the nodegroup at its
    // size: it completes without a second UpdateNodegroupConfig.
    const nodegroupKey = (await auditOf(secondUrl, id)).find(
      (entry) => entry.kind === 'action' && entry.details?.action?.kind === 'scale-nodegroup',
    )?.details.key as string;
    expect(nodegroupKey).toMatch(new RegExp(`^${id}/\\d+/scale-nodegroup$`));
    const retried = await waitFor(
      async () => {
        const status = await jobs!.status(nodegroupKey);
        return status.state === 'completed' ? status : undefined;
      },
      { message: `the retaken scale-nodegroup job completing\n${outputs()}`, timeoutMs: 180_000, intervalMs: 250 },
    );
    // Two attempts started: the dead worker's, and the retry after the stall.
    expect(retried).toMatchObject({ attempts: 2, returnValue: { status: 'ACTIVE', desired: NODES } });
    // The second controller saw it finish (a job queued by another process: no service on the entry).
    await waitFor(
      async () =>
        (await api(secondUrl, 'GET', '/v1/audit?limit=1000')).body.entries.some(
          (entry: Json) => entry.actor === secondOwner && entry.message === `scale-nodegroup done (${nodegroupKey})`,
        ),
      { message: 'the second controller recording the retried job as done' },
    );

    // ---- each distinct scale call, once ----
    const updates = updateCalls();
    const bySize = countBy(updates.map((call) => (call.body as Json).scalingConfig.desiredSize as number));
    expect(bySize).toEqual({ [NODES]: 1 });
    expect(updates.map((call) => call.status)).toEqual([200]);
    // The Scale subresource is only ever written with PUT; one PUT, and it set the 3 replicas.
    expect(scalePuts()).toHaveLength(1);
    expect(k8s().deploymentRequests('shop', 'checkout', 'PATCH')).toHaveLength(0);
    expect(k8s().deployment('shop', 'checkout').replicas).toBe(REPLICAS);
    expect(route53().acceptedChanges()).toHaveLength(1);

    // The audit shows each action queued once, across both controllers.
    const audit = await auditOf(secondUrl, id);
    const queued = audit.filter((entry) => entry.kind === 'action' && entry.details?.action);
    const queuedKinds = countBy(queued.map((entry) => entry.details.action.kind as string));
    expect(queuedKinds).toEqual({
      'scale-deployment': 1,
      'scale-nodegroup': 1,
      'set-traffic-share': 1,
      'set-dns-weights': 1,
    });
    const queuedBy = (kind: string) => queued.find((entry) => entry.details.action.kind === kind)?.actor;
    expect(queuedBy('scale-nodegroup')).toBe(firstOwner);
    expect(queuedBy('set-traffic-share')).toBe(secondOwner);
  }, 300_000);
});

async function auditOf(url: string, burstId: string): Promise<Json[]> {
  return (await api(url, 'GET', `/v1/audit?burstId=${burstId}&limit=1000`)).body.entries as Json[];
}

function countBy<T extends string | number>(values: readonly T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeKubernetesApi, KubeObject } from '@spillway/test/fakes/kubernetes-api';
import { writeFakeKubeconfig } from '@spillway/test/support/fake-kubeconfig';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { inMemoryStores } from '../src/index.js';
import { api, startHarness, TOKENS } from './controller-harness.js';
import { FollowerLease } from './support/follower-lease.js';

let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig file for the fake, in a temp dir removed after the test. */
function kubeconfigFile(k8s: FakeKubernetesApi): string {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-crs-'));
  dirs.push(dir);
  return writeFakeKubeconfig(k8s, dir);
}

const burstPolicy = (name: string, spec: unknown) => ({
  apiVersion: 'spillway.dev/v1alpha1',
  kind: 'BurstPolicy',
  metadata: { name, namespace: 'shop' },
  spec,
});

type Status = {
  phase: string;
  share: number;
  targetShare: number;
  observedGeneration: number;
  conditions: { type: string; status: string; reason: string; message: string }[];
};
const statusOf = (k8s: FakeKubernetesApi, name: string) =>
  (k8s.customObject('burstpolicies', 'shop', name) as (KubeObject & { status?: Status }) | undefined)?.status;
const condition = (status: Status | undefined, type: string) => status?.conditions.find((c) => c.type === type);

describe('BurstPolicy custom resources through the Kubernetes fake (real client-node informer)', () => {
  it('create → the controller takes the policy; update caps the burst; a bad object is refused with an event; delete drains', async () => {
    harness = await startHarness(
      {},
      {
        noFilePolicy: true,
        config: (k8s) => ({ customResources: { kubeconfig: kubeconfigFile(k8s), statusIntervalSeconds: 0.1 } }),
      },
    );
    const { url, k8s, running, checkoutPolicy } = harness;
    const share = () => harness!.traffic.get('checkout.shop')?.cloudShare ?? 0;
    const start = () =>
      api(url, 'POST', '/v1/bursts', { service: 'checkout.shop', share: 0.3, reason: 'surge' }, TOKENS.operator);

    await waitFor(() => k8s.openWatchCount('burstpolicies') === 1, { message: 'the BurstPolicy watch open' });
    // Ready once the resources have been listed (before, a resource-only policy would be unknown).
    expect(running.readiness.find((check) => check.name === 'custom-resources')?.check()).toEqual({ ready: true });
    expect((await start()).status).toBe(422);

    k8s.createCustomObject('burstpolicies', burstPolicy('checkout', checkoutPolicy));
    await waitFor(() => running.policies.get('checkout.shop'), { message: 'the resource in force' });
    expect(running.policies.origin('checkout.shop')).toEqual({ kind: 'resource', key: 'shop/checkout' });
    expect((await start()).status).toBe(202);
    await waitFor(() => share() === 0.3, { message: 'share 0.3 applied', timeoutMs: 30_000 });
    const holding = await waitFor(
      () => {
        const status = statusOf(k8s, 'checkout');
        return status?.phase === 'holding' && status.share === 0.3 ? status : undefined;
      },
      { message: 'status: holding at 0.3' },
    );
    expect(holding).toMatchObject({ targetShare: 0.3, observedGeneration: 1 });
    expect(condition(holding, 'Ready')).toMatchObject({ status: 'True', reason: 'InForce' });
    // Status writes went to the subresource and left the spec's generation alone.
    expect(k8s.statusRequests('burstpolicies', 'shop', 'checkout', 'PATCH').length).toBeGreaterThan(0);
    expect(k8s.customObject('burstpolicies', 'shop', 'checkout')?.metadata.generation).toBe(1);

    k8s.updateCustomObject('burstpolicies', 'shop', 'checkout', (object) => {
      object.spec = { ...checkoutPolicy, maxShare: 0.2, steps: [0.1, 0.2] };
    });
    expect(k8s.customObject('burstpolicies', 'shop', 'checkout')?.metadata.generation).toBe(2);
    await waitFor(() => share() === 0.2, { message: 'the burst capped by the new maxShare' });
    await waitFor(
      () => statusOf(k8s, 'checkout')?.share === 0.2 && statusOf(k8s, 'checkout')?.observedGeneration === 2,
      {
        message: 'status at generation 2, share 0.2',
      },
    );

    // A bad object: a Warning event naming the field, Ready=False, nothing else disturbed.
    k8s.createCustomObject(
      'burstpolicies',
      burstPolicy('broken', { service: 'cart.shop', maxShare: 'lots', capacity: { replicasAtFullShare: 10 } }),
    );
    const event = await waitFor(
      () => k8s.events.find((e) => (e.involvedObject as { name?: string }).name === 'broken'),
      {
        message: 'a Warning event on the bad BurstPolicy',
      },
    );
    expect(event).toMatchObject({ type: 'Warning', reason: 'InvalidSpec', involvedObject: { kind: 'BurstPolicy' } });
    expect(event.message).toContain('spec.maxShare: ');
    expect(event.message).toContain('spec.capacity.maxReplicas: ');
    const refused = await waitFor(() => statusOf(k8s, 'broken'), { message: 'status on the bad object' });
    expect(refused.phase).toBe('Invalid');
    expect(condition(refused, 'Ready')).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(condition(refused, 'Ready')?.message).toContain('spec.maxShare: ');
    expect(running.policies.get('cart.shop')).toBeUndefined();
    // Checked as the config file's policies are: the Deployment's cluster must be configured.
    k8s.createCustomObject(
      'burstpolicies',
      burstPolicy('elsewhere', {
        ...checkoutPolicy,
        service: 'search.catalog',
        cloud: { deployment: { cluster: 'nowhere', namespace: 'catalog', name: 'search' } },
      }),
    );
    const unknownCluster = await waitFor(() => condition(statusOf(k8s, 'elsewhere'), 'Ready'), {
      message: 'Ready=False on a policy naming an unknown cluster',
    });
    expect(unknownCluster).toMatchObject({
      status: 'False',
      reason: 'Invalid',
      message: 'spec.cloud.deployment.cluster: no cluster named "nowhere" in the controller\'s config',
    });
    expect(running.policies.get('search.catalog')).toBeUndefined();
    expect(running.policies.get('checkout.shop')?.maxShare).toBe(0.2);

    // A second policy for the service: the older one stays in force, the newcomer is told why.
    // The apiserver may stamp both in the same second; then the name decides (checkout < checkout-b).
    k8s.createCustomObject('burstpolicies', burstPolicy('checkout-b', { ...checkoutPolicy, maxShare: 0.5 }));
    const conflicted = await waitFor(() => condition(statusOf(k8s, 'checkout-b'), 'Conflict'), {
      message: 'Conflict on the newer policy',
    });
    expect(conflicted).toMatchObject({ status: 'True', reason: 'ServiceTaken' });
    expect(conflicted.message).toContain('older BurstPolicy shop/checkout');
    expect(running.policies.get('checkout.shop')?.maxShare).toBe(0.2);
    k8s.deleteCustomObject('burstpolicies', 'shop', 'checkout-b');

    // The watch history expires: the informer relists and still follows the resources.
    k8s.compact({ expireOpenWatches: true });
    k8s.deleteCustomObject('burstpolicies', 'shop', 'checkout');
    await waitFor(() => running.policies.get('checkout.shop') === undefined, { message: 'the policy gone' });
    await waitFor(() => share() === 0, { message: 'the removed policy’s burst drained' });
    await waitFor(() => k8s.deployment('shop', 'checkout').replicas === 0, { message: 'its capacity released' });
    await waitFor(() => running.controller.retiringServices().length === 0, { message: 'retirement over' });
    // Its phase and share series go with it.
    for (const gauge of ['spillway_burst_phase', 'spillway_burst_committed_share'])
      expect(await harness.registry.getSingleMetricAsString(gauge)).not.toContain('checkout.shop');
    expect((await start()).status).toBe(422);
    expect(k8s.requestsFor('burstpolicies', 'list').length).toBeGreaterThanOrEqual(1);
  });

  it('a follower watches and knows the policy, but only the leader writes status', async () => {
    const lease = new FollowerLease('follower');
    harness = await startHarness(
      {},
      {
        noFilePolicy: true,
        stores: { ...inMemoryStores(), lease },
        config: (k8s) => ({ customResources: { kubeconfig: kubeconfigFile(k8s), statusIntervalSeconds: 0.1 } }),
      },
    );
    const { k8s, running, checkoutPolicy } = harness;
    await waitFor(() => k8s.openWatchCount('burstpolicies') === 1, { message: 'the BurstPolicy watch open' });
    k8s.createCustomObject('burstpolicies', burstPolicy('checkout', checkoutPolicy));
    // The watch's change reaches the policies and the status pass in one step: a follower's pass
    // has already declined to write by the time the policy shows.
    await waitFor(() => running.policies.get('checkout.shop'), { message: 'the follower knows the policy' });
    expect(k8s.statusRequests('burstpolicies', 'shop', 'checkout')).toEqual([]);
    expect(statusOf(k8s, 'checkout')).toBeUndefined();

    lease.lead();
    const status = await waitFor(() => statusOf(k8s, 'checkout'), { message: 'the new leader writes status' });
    expect(status).toMatchObject({ phase: 'idle', share: 0, targetShare: 0, observedGeneration: 1 });
  });
});

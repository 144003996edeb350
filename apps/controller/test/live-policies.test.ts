import { BurstPolicy } from '@spillway/model';
import type { Registry } from '@spillway/observability';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { inMemoryStores } from '../src/index.js';
import { mergePolicies } from '../src/policies/merge-policies.js';
import { describeChange, diffPolicies } from '../src/policies/policy-diff.js';
import { api, postBurst, startHarness } from './controller-harness.js';

const policy = (service: string, extra: Record<string, unknown> = {}) =>
  BurstPolicy.parse({ service, capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 }, ...extra });

const resource = (name: string, createdAt: string, service: string, namespace = 'shop') => ({
  namespace,
  name,
  createdAt,
  generation: 1,
  policy: policy(service),
});

/** The names of the controller's gauges that have a series for `service`. */
async function burstSeries(registry: Registry, service: string): Promise<string[]> {
  const names = ['spillway_burst_phase', 'spillway_burst_committed_share', 'spillway_burst_share_diverging'];
  const shown = await Promise.all(
    names.map(async (name) =>
      ((await registry.getSingleMetric(name)?.get())?.values ?? []).some((v) => v.labels['service'] === service),
    ),
  );
  return names.filter((_, index) => shown[index]);
}

describe('merging the file and the BurstPolicy resources', () => {
  it('the file wins a service it names; of two resources the older wins; the losers learn why', () => {
    const merged = mergePolicies(
      [policy('checkout.shop')],
      [
        resource('newer', '2026-12-02T00:00:00Z', 'cart.shop'),
        resource('older', '2026-12-01T00:00:00Z', 'cart.shop'),
        resource('pinned', '2026-11-01T00:00:00Z', 'checkout.shop'),
      ],
    );
    expect([...merged.policies].map(([service, entry]) => [service, entry.origin])).toEqual([
      ['checkout.shop', { kind: 'file' }],
      ['cart.shop', { kind: 'resource', key: 'shop/older' }],
    ]);
    expect(Object.fromEntries(merged.conflicts)).toEqual({
      'shop/pinned': 'checkout.shop has a policy in the config file, which wins',
      'shop/newer': 'cart.shop already has a policy from the older BurstPolicy shop/older, which wins',
    });
  });

  it('names the services and fields that changed', () => {
    const before = new Map([
      ['a.x', policy('a.x')],
      ['b.x', policy('b.x')],
    ]);
    const after = new Map([
      ['a.x', policy('a.x', { maxShare: 0.3, steps: [0.1, 0.3] })],
      ['c.x', policy('c.x')],
    ]);
    const change = diffPolicies(before, after);
    expect(change).toEqual({
      added: ['c.x'],
      changed: [{ service: 'a.x', fields: ['maxShare', 'steps'] }],
      removed: ['b.x'],
    });
    expect(describeChange(change)).toBe('added c.x; changed a.x (maxShare, steps); removed b.x');
  });
});

let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('the controller follows the live policies', () => {
  it('a lower maxShare caps a running burst; removing the policy drains and releases it, audited', async () => {
    harness = await startHarness();
    const { url, k8s, running } = harness;
    const share = () => harness!.traffic.get('checkout.shop')?.cloudShare ?? 0;
    const file = running.policies.current();
    const started = await postBurst(url, { share: 0.3, reason: 'surge' });
    expect(started.status).toBe(202);
    await waitFor(() => share() === 0.3, { message: 'share 0.3 applied', timeoutMs: 30_000 });

    const lower = file.map((p) => ({ ...p, maxShare: 0.2, steps: [0.1, 0.2] }));
    expect(describeChange(running.policies.replaceFile(lower))).toBe('changed checkout.shop (maxShare, steps)');
    await waitFor(() => share() === 0.2, { message: 'share capped to the new maxShare' });
    // An operator cannot ask for more than the policy in force allows.
    const tooMuch = await postBurst(url, { share: 0.3, reason: 'again' });
    expect(tooMuch.status).toBe(422);

    running.policies.replaceFile([]);
    await waitFor(() => share() === 0, { message: 'traffic back on-prem' });
    await waitFor(() => k8s.deployment('shop', 'checkout').replicas === 0, { message: 'capacity released' });
    await waitFor(() => running.controller.retiringServices().length === 0, { message: 'retirement over' });
    const audit = await api(url, 'GET', '/v1/audit?service=checkout.shop&limit=1000');
    const messages: string[] = audit.body.entries.map((e: { message: string }) => e.message);
    expect(messages).toContain(
      'policy removed while its burst was holding: aborting it, traffic back on-prem first, then capacity to the floor',
    );
    expect(messages.some((m) => m.includes('aborted by policy-set: its burst policy was removed'))).toBe(true);
    expect(messages).toContain(
      'policy removed: its burst has drained and released its capacity; the service is no longer reconciled',
    );
    const refused = await postBurst(url, { share: 0.1, reason: 'once more' });
    expect(refused.status).toBe(422);
    // Drained and released: the service has no phase or share series left.
    expect(await burstSeries(harness.registry, 'checkout.shop')).toEqual([]);
  });

  it("removing an idle service's policy removes its phase and share series", async () => {
    harness = await startHarness();
    const { running, registry } = harness;
    await waitFor(async () => (await burstSeries(registry, 'checkout.shop')).includes('spillway_burst_phase'), {
      message: 'the idle phase shown',
    });
    running.policies.replaceFile([]);
    await waitFor(async () => (await burstSeries(registry, 'checkout.shop')).length === 0, {
      message: 'its series removed',
    });
    // Passes after the removal do not bring them back.
    running.controller.kick();
    await running.controller.settled();
    expect(await burstSeries(registry, 'checkout.shop')).toEqual([]);
  });

  it('a new leader finishes the drain of a policy removed under the old one (the policy is stored with the state)', async () => {
    const first = await startHarness();
    let stalled: Awaited<ReturnType<typeof first.running.stores.states.get>>;
    try {
      const started = await postBurst(first.url, { share: 0.3, reason: 'surge' });
      expect(started.status).toBe(202);
      await waitFor(() => first.traffic.get('checkout.shop')?.cloudShare === 0.3, {
        message: 'share 0.3 applied',
        timeoutMs: 30_000,
      });
      // The Kubernetes API fails from now on: capacity cannot be released, the drain stalls.
      first.k8s.failNext(100_000, 500, 'deployments');
      first.running.policies.replaceFile([]);
      await waitFor(() => first.traffic.get('checkout.shop')?.cloudShare === 0, { message: 'traffic back first' });
      stalled = await waitFor(
        async () => {
          const state = await first.running.stores.states.get('checkout.shop');
          return state?.retiredPolicy && state.phase === 'aborted' ? state : undefined;
        },
        { message: 'the removed policy stored with its aborted burst' },
      );
    } finally {
      await first.stop();
    }
    // The old leader is gone; a new one starts from the stored state, without the policy.
    const stores = inMemoryStores();
    await stores.states.put('checkout.shop', stalled);
    harness = await startHarness({}, { stores, noFilePolicy: true });
    await waitFor(async () => (await stores.states.get('checkout.shop'))?.phase === 'idle', {
      message: 'the new leader drains it to idle',
      timeoutMs: 30_000,
    });
    await waitFor(() => harness!.running.controller.retiringServices().length === 0, { message: 'retirement over' });
    expect((await stores.states.get('checkout.shop'))?.retiredPolicy).toBeUndefined();
    const audit = await api(harness.url, 'GET', '/v1/audit?service=checkout.shop&limit=1000');
    const messages: string[] = audit.body.entries.map((e: { message: string }) => e.message);
    expect(messages).toContain(
      'resuming the drain of a removed policy (burst aborted): traffic back on-prem first, then capacity to the floor',
    );
    expect(messages).toContain(
      'policy removed: its burst has drained and released its capacity; the service is no longer reconciled',
    );
  });
});

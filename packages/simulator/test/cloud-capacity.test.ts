import type { DnsProgress } from '@spillway/cloud';
import { CloudActionError, type NodegroupProgress } from '@spillway/cloud';
import { waitFor } from '@spillway/test/support/wait';
import { describe, expect, it } from 'vitest';
import { defaultScenario } from '../src/default-scenario.js';
import { askIdentity } from '../src/identity-server.js';
import { attachCatalog, endpointsOf, startFleet } from './support/fleet.js';

const policy = () => {
  const [first] = defaultScenario().policies;
  const { eks, deployment, route53 } = first?.cloud ?? {};
  if (!eks || !deployment || !route53) throw new Error('the default policy names its cloud targets');
  return { eks, deployment, route53 };
};
const cloudCheckout = (catalog: Parameters<typeof endpointsOf>[0]) =>
  endpointsOf(catalog, 'checkout.shop').filter((endpoint) => endpoint.environment === 'cloud');

describe('simulated cloud capacity', () => {
  it('pods wait for nodes, become ready after their delay, appear healthy in the EKS source, and go on scale-in', async () => {
    // 60×: a node (90 s) takes 1.5 real seconds, a pod (20 s) a third of one.
    const fleet = await startFleet(defaultScenario(), { speed: 60 });
    const catalog = await attachCatalog(fleet);
    const { eks, deployment } = policy();
    const { nodegroups, deployments } = fleet.adapters;

    expect(await deployments.scale(deployment, 6)).toEqual({ changed: true, previous: 0, replicas: 6 });
    expect(await deployments.scale(deployment, 6)).toEqual({ changed: false, previous: 6, replicas: 6 });
    expect(await deployments.status(deployment)).toMatchObject({ desired: 6, ready: 0 });

    // One node has room for 4 pods (podsPerNode 4): the nodegroup is ACTIVE only after the node delay.
    const phases: NodegroupProgress['phase'][] = [];
    const before = fleet.clock.now();
    const active = await nodegroups.scale(eks, 1, (progress) => phases.push(progress.phase), { maxNodes: 3 });
    expect(active).toMatchObject({ status: 'ACTIVE', desired: 1, ready: true });
    expect(fleet.clock.now() - before).toBeGreaterThanOrEqual(90_000);
    expect(phases).toContain('update-requested');
    expect(phases.at(-1)).toBe('ready');

    await waitFor(async () => (await deployments.status(deployment)).ready === 4, { message: '4 pods on one node' });
    await waitFor(() => cloudCheckout(catalog).length === 4, { message: '4 cloud endpoints in the catalog' });
    expect(cloudCheckout(catalog).every((endpoint) => endpoint.health === 'healthy')).toBe(true);
    expect(new Set(cloudCheckout(catalog).map((endpoint) => endpoint.locality.zone))).toEqual(
      new Set(['us-east-1a', 'us-east-1b']),
    );
    expect(cloudCheckout(catalog).every((endpoint) => endpoint.cluster === 'us-east-1')).toBe(true);

    await nodegroups.scale(eks, 2, undefined, { maxNodes: 3 });
    await waitFor(() => cloudCheckout(catalog).length === 6, { message: 'all 6 pods once a second node is ready' });
    const pods = fleet.status().endpoints.filter((e) => e.service === 'checkout.shop' && e.environment === 'cloud');
    for (const pod of pods) expect(await askIdentity(pod.address, pod.port)).toBe(pod.identity);

    await deployments.scale(deployment, 0);
    await waitFor(() => cloudCheckout(catalog).length === 0, { message: 'cloud endpoints gone after scale-in' });
    for (const pod of pods) await expect(askIdentity(pod.address, pod.port, 2_000)).rejects.toThrow();
    expect(await deployments.status(deployment)).toMatchObject({ desired: 0, ready: 0 });
  });

  it('refuses what the real adapters refuse, and a region-down fails the cloud APIs retryably', async () => {
    const fleet = await startFleet(defaultScenario(), { speed: 60 });
    const { eks, deployment } = policy();
    const { nodegroups, deployments } = fleet.adapters;

    const overBudget = await nodegroups.scale(eks, 5, undefined, { maxNodes: 3 }).catch((error: unknown) => error);
    expect(overBudget).toBeInstanceOf(CloudActionError);
    expect(overBudget).toMatchObject({ retryable: false });
    const unknown = await nodegroups.status({ ...eks, nodegroup: 'nope' }).catch((error: unknown) => error);
    expect(unknown).toMatchObject({ code: 'ResourceNotFoundException', retryable: false });
    const noDeployment = await deployments.status({ ...deployment, name: 'nope' }).catch((error: unknown) => error);
    expect(noDeployment).toMatchObject({ retryable: false });

    fleet.inject({ kind: 'region-down', region: 'us-east-1' });
    const down = await nodegroups.scale(eks, 1, undefined, { maxNodes: 3 }).catch((error: unknown) => error);
    expect(down).toMatchObject({ code: 'ServiceUnavailableException', retryable: true });
    expect(await deployments.scale(deployment, 1).catch((error: unknown) => error)).toMatchObject({ retryable: true });
    fleet.recover({ kind: 'region-down', region: 'us-east-1' });
    expect(await nodegroups.status(eks)).toMatchObject({ status: 'ACTIVE', desired: 0 });
  });

  it('DNS weights become INSYNC after the simulated propagation delay; equal weights change nothing', async () => {
    const fleet = await startFleet(defaultScenario(), { speed: 60 });
    const { route53 } = policy();
    const phases: DnsProgress['phase'][] = [];
    const before = fleet.clock.now();
    const result = await fleet.adapters.dns.setWeights(route53, { cloudWeight: 25, onpremWeight: 75 }, (progress) =>
      phases.push(progress.phase),
    );
    expect(fleet.clock.now() - before).toBeGreaterThanOrEqual(30_000);
    expect(result).toMatchObject({ changed: true, previous: { cloudWeight: 0, onpremWeight: 1 } });
    expect(phases).toEqual(['read', 'submitted', 'pending', 'insync']);
    expect(fleet.status().dns).toEqual([
      expect.objectContaining({ weights: { cloudWeight: 25, onpremWeight: 75 }, status: 'INSYNC' }),
    ]);
    const again = await fleet.adapters.dns.setWeights(route53, { cloudWeight: 25, onpremWeight: 75 });
    expect(again.changed).toBe(false);
  });
});

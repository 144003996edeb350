/**
 * A scale-nodegroup job whose size a newer decision replaced must stop before it writes again.
 *
 * The issue (fault injection, distributed mode): in a multi-step burst the job for the earlier
 * size kept polling after the next step set 2 nodes and re-sent UpdateNodegroupConfig(desired 1)
 * every poll until its deadline; only EKS's replay of the same clientRequestToken kept the
 * nodegroup from shrinking under traffic.
 *
 * Real parts: the action handlers the controller runs, the real EksNodegroupScaler (AWS SDK v3)
 * against the EKS fake, which records every UpdateNodegroupConfig with its body.
 */

import { EksNodegroupScaler } from '@spillway/cloud';
import { buildConfig } from '@spillway/config';
import type { JsonValue } from '@spillway/jobs';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { FakeEksApi } from '@spillway/test/fakes/eks-api';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { actionHandlers, RunningActions } from '../src/action-handlers.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SERVICE = 'checkout.shop';

const [policy] = buildConfig({
  clusters: [{ name: 'eks-use1', kind: 'static', environment: 'cloud', region: 'us-west-2' }],
  policies: [
    {
      service: SERVICE,
      steps: [0.1, 0.25],
      maxShare: 0.5,
      capacity: { replicasAtFullShare: 10, podsPerNode: 2, maxReplicas: 10, maxNodes: 3 },
      cloud: { eks: { region: 'us-west-2', cluster: 'burst', nodegroup: 'spot' } },
    },
  ],
}).policies;

function scaleJob(desiredSize: number, seq: number) {
  const key = `b-1/${seq}/scale-nodegroup`;
  return {
    key,
    kind: 'scale-nodegroup',
    service: SERVICE,
    burstId: 'b-1',
    payload: { kind: 'scale-nodegroup', burstId: 'b-1', key, reason: 'test', desiredSize },
  };
}

describe('superseded scale-nodegroup jobs', () => {
  let eks: FakeEksApi;
  const scalers: EksNodegroupScaler[] = [];
  /** The nodes intent as the stored state holds it: what the controller wants now. */
  let wantedNodes: number;

  beforeEach(async () => {
    eks = await FakeEksApi.start();
    // Accepted updates stay UPDATING until the test settles them.
    eks.setNodegroup({
      cluster: 'burst',
      name: 'spot',
      minSize: 0,
      maxSize: 3,
      desiredSize: 0,
      updateDescribes: 'manual',
    });
  });
  afterEach(async () => {
    for (const scaler of scalers.splice(0)) scaler.close();
    await eks.close();
  });

  /** A deadline well inside the test's: a job that never stops fails with Timeout, showing its re-sends. */
  function handlers(intervalMs: number, running?: RunningActions) {
    const scaler = new EksNodegroupScaler({
      client: { endpoint: eks.url, credentials },
      pacing: { intervalMs, timeoutMs: 5_000 },
    });
    scalers.push(scaler);
    return actionHandlers(
      {
        policyFor: () => policy,
        currentIntent: async (_service, kind) => (kind === 'nodes' ? { burstId: 'b-1', value: wantedNodes } : null),
        traffic: new InMemoryTrafficPolicyStore(),
        nodegroups: scaler,
        now: Date.now,
      },
      running,
    );
  }

  const noProgress = async (_: JsonValue) => {};
  const desiredSizes = () =>
    eks
      .updateRequests('burst', 'spot')
      .map((request) => (request.body as { scalingConfig: { desiredSize: number } }).scalingConfig.desiredSize);

  it('stops on its next poll once the nodegroup was moved to the newer size, without re-sending its own', async () => {
    const run = handlers(5)['scale-nodegroup'];
    wantedNodes = 1;
    const first = run(scaleJob(1, 1), noProgress);
    await waitFor(() => desiredSizes().length === 1, { message: 'UpdateNodegroupConfig(desired 1)' });

    // The next step wants 2; the newer job's update lands while the first job waits (settled at
    // once, so the first job never sees ACTIVE at 1).
    wantedNodes = 2;
    eks.finishUpdate('burst', 'spot');
    eks.startForeignUpdate('burst', 'spot', 2);
    eks.finishUpdate('burst', 'spot');

    await expect(first).resolves.toEqual({ superseded: true });
    expect(desiredSizes()).toEqual([1]);
    expect(eks.nodegroup('burst', 'spot')).toMatchObject({ status: 'ACTIVE', desiredSize: 2 });
  });

  it('never sends its size once superseded, even when the nodegroup is ACTIVE at another size', async () => {
    const run = handlers(5)['scale-nodegroup'];
    wantedNodes = 1;
    // UPDATING at 2 (someone else's update): the job for 1 waits for it to settle.
    eks.startForeignUpdate('burst', 'spot', 2);
    const first = run(scaleJob(1, 1), noProgress);
    await waitFor(() => eks.describeRequests('burst', 'spot').length >= 2, { message: 'the job waiting' });
    wantedNodes = 2;
    eks.finishUpdate('burst', 'spot');

    await expect(first).resolves.toEqual({ superseded: true });
    expect(desiredSizes()).toEqual([]);
  });

  it('ends its wait at once when a newer decision in this process supersedes it', async () => {
    const running = new RunningActions();
    // A poll interval as long as the deadline: only the abort can end the wait early.
    const run = handlers(60_000, running)['scale-nodegroup'];
    wantedNodes = 1;
    const first = run(scaleJob(1, 1), noProgress);
    await waitFor(() => desiredSizes().length === 1, { message: 'UpdateNodegroupConfig(desired 1)' });
    await waitFor(() => running.size === 1, { message: 'the job tracked as running' });

    wantedNodes = 2;
    const started = performance.now();
    await running.recheck(SERVICE);
    await expect(first).resolves.toEqual({ superseded: true });
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(desiredSizes()).toEqual([1]);
    expect(running.size).toBe(0);
  });
});

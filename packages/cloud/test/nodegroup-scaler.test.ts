import { EKSClient, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { DEGRADED_ISSUES, FakeEksApi } from '@spillway/test/fakes/eks-api';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudActionError, EksNodegroupScaler, type NodegroupProgress, type NodegroupRef } from '../src/index.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const target: NodegroupRef = { region: 'us-west-2', cluster: 'burst', nodegroup: 'spot' };

describe('EksNodegroupScaler', () => {
  let eks: FakeEksApi;
  let scaler: EksNodegroupScaler;

  beforeEach(async () => {
    eks = await FakeEksApi.start();
    eks.setNodegroup({ cluster: 'burst', name: 'spot', minSize: 1, maxSize: 3, desiredSize: 2 });
    scaler = new EksNodegroupScaler({
      client: { endpoint: eks.url, credentials },
      pacing: { intervalMs: 5, timeoutMs: 20_000 },
    });
  });
  afterEach(async () => {
    scaler.close();
    await eks.close();
  });

  const updates = () => eks.updateRequests('burst', 'spot');

  it('scales out with one UpdateNodegroupConfig, waits for ACTIVE at the size and reports progress', async () => {
    const seen: NodegroupProgress[] = [];
    const result = await scaler.scale(target, 3, (progress) => seen.push(progress));

    expect(result).toMatchObject({ status: 'ACTIVE', desired: 3, min: 1, max: 3, ready: true, issues: [] });
    expect(updates()).toHaveLength(1);
    expect(updates()[0]).toMatchObject({ status: 200, body: { scalingConfig: { desiredSize: 3 } } });
    // Described first (ACTIVE at 2), then UPDATING for the fake's two describes, then ACTIVE at 3.
    expect(seen.map((p) => `${p.phase} ${p.status} ${p.desired}`)).toEqual([
      'observed ACTIVE 2',
      'update-requested ACTIVE 2',
      'observed UPDATING 3',
      'observed UPDATING 3',
      'observed ACTIVE 3',
      'ready ACTIVE 3',
    ]);
    expect(eks.nodegroup('burst', 'spot')).toMatchObject({ status: 'ACTIVE', desiredSize: 3 });
  });

  it('is idempotent: a second identical call makes no UpdateNodegroupConfig', async () => {
    await scaler.scale(target, 3);
    const describesBefore = eks.describeRequests('burst', 'spot').length;

    const again = await scaler.scale(target, 3);

    expect(again).toMatchObject({ status: 'ACTIVE', desired: 3, ready: true });
    expect(updates()).toHaveLength(1);
    expect(eks.describeRequests('burst', 'spot').length - describesBefore).toBe(1);
  });

  it('a retry that finds its own update still UPDATING waits for it instead of updating again', async () => {
    eks.nodegroup('burst', 'spot').updateDescribes = 'manual';
    const first = scaler.scale(target, 3);
    await waitFor(() => updates().length === 1 && eks.nodegroup('burst', 'spot').status === 'UPDATING', {
      message: 'first update accepted',
    });
    // The job layer retries (say the worker was restarted) while the first update is in progress.
    const retry = scaler.scale(target, 3);
    await waitFor(() => eks.describeRequests('burst', 'spot').length >= 6, { message: 'both calls polling' });
    eks.finishUpdate('burst', 'spot');

    await expect(first).resolves.toMatchObject({ status: 'ACTIVE', desired: 3 });
    await expect(retry).resolves.toMatchObject({ status: 'ACTIVE', desired: 3 });
    expect(updates()).toHaveLength(1);
  });

  it('waits out an update already in progress (409 ResourceInUseException), then sets the size', async () => {
    let raced = false;
    const scaling = scaler.scale(
      target,
      4,
      (progress) => {
        // Between our DescribeNodegroup and our UpdateNodegroupConfig, someone else starts an update.
        if (!raced && progress.phase === 'observed') {
          raced = true;
          eks.nodegroup('burst', 'spot').updateDescribes = 'manual';
          eks.startForeignUpdate('burst', 'spot', 1);
        }
      },
      { maxNodes: 6 },
    );
    await waitFor(() => updates().some((r) => r.status === 409), { message: 'a 409 ResourceInUseException' });
    eks.nodegroup('burst', 'spot').updateDescribes = 1;
    eks.finishUpdate('burst', 'spot');

    const result = await scaling;
    expect(result).toMatchObject({ status: 'ACTIVE', desired: 4, max: 4 });
    expect(updates().map((r) => r.status)).toEqual([409, 200]);
    expect(updates()[1]?.body).toMatchObject({ scalingConfig: { desiredSize: 4, maxSize: 4 } });
  });

  it('does not send an update while the nodegroup is UPDATING; it waits for ACTIVE first', async () => {
    eks.nodegroup('burst', 'spot').updateDescribes = 'manual';
    eks.startForeignUpdate('burst', 'spot');
    const seen: string[] = [];
    const scaling = scaler.scale(target, 3, (progress) => seen.push(progress.phase));
    await waitFor(() => eks.describeRequests('burst', 'spot').length >= 3, { message: 'polling while UPDATING' });
    expect(updates()).toHaveLength(0);
    eks.nodegroup('burst', 'spot').updateDescribes = 0;
    eks.finishUpdate('burst', 'spot');

    await expect(scaling).resolves.toMatchObject({ status: 'ACTIVE', desired: 3 });
    expect(updates()).toHaveLength(1);
    expect(seen).toContain('update-in-progress-elsewhere');
  });

  it('raises maxSize only when the capacity budget allows it, and lowers minSize to scale in', async () => {
    const over = await scaler.scale(target, 5).catch((error: unknown) => error);
    expect(over).toBeInstanceOf(CloudActionError);
    expect(over).toMatchObject({ action: 'scale-nodegroup', target: 'us-west-2/burst/spot', retryable: false });
    expect((over as Error).message).toBe(
      'scale-nodegroup us-west-2/burst/spot: desiredSize 5 is above maxSize 3 and no capacity budget allows raising it',
    );
    const beyond = await scaler.scale(target, 7, undefined, { maxNodes: 6 }).catch((error: unknown) => error);
    expect(beyond).toMatchObject({ retryable: false, message: expect.stringContaining('maxNodes 6') });
    expect(updates()).toHaveLength(0);

    await scaler.scale(target, 5, undefined, { maxNodes: 6 });
    await scaler.scale(target, 0, undefined, { maxNodes: 6 });

    expect(updates().map((r) => (r.body as { scalingConfig: unknown }).scalingConfig)).toEqual([
      { desiredSize: 5, maxSize: 5 },
      { desiredSize: 0, minSize: 0 },
    ]);
    expect(eks.nodegroup('burst', 'spot')).toMatchObject({ minSize: 0, maxSize: 5, desiredSize: 0, status: 'ACTIVE' });
  });

  it('fails with a typed, non-retryable error naming the health issue when the nodegroup goes DEGRADED', async () => {
    eks.nodegroup('burst', 'spot').failUpdates = [...DEGRADED_ISSUES];

    const error = await scaler.scale(target, 3).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CloudActionError);
    expect(error).toMatchObject({ action: 'scale-nodegroup', retryable: false, code: 'DEGRADED' });
    const message = (error as Error).message;
    expect(message).toContain('nodegroup is DEGRADED (AsgInstanceLaunchFailures: Instance became unhealthy');
    expect(message).toContain('Client.InvalidKMSKey.InvalidState');
    expect(message).not.toContain('\n');
    expect(updates()).toHaveLength(1);

    // Observed later, the same nodegroup reports not ready, with its issue.
    await expect(scaler.status(target)).resolves.toMatchObject({
      status: 'DEGRADED',
      desired: 3,
      ready: false,
      issues: [{ code: 'AsgInstanceLaunchFailures' }],
    });
    // A retry does not try to scale a DEGRADED nodegroup again.
    await expect(scaler.scale(target, 3)).rejects.toMatchObject({ code: 'DEGRADED' });
    expect(updates()).toHaveLength(1);
  });

  it('lets the SDK retry throttling (429 ThrottlingException)', async () => {
    eks.throttleNext(2);

    await expect(scaler.scale(target, 3)).resolves.toMatchObject({ status: 'ACTIVE', desired: 3 });

    expect(eks.requests.slice(0, 3).map((r) => r.status)).toEqual([429, 429, 200]);
    expect(updates().filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('turns EKS rejections into typed errors: InvalidParameterException (min>desired) and a missing nodegroup', async () => {
    let raced = false;
    const rejected = await scaler
      .scale(target, 1, (progress) => {
        if (!raced && progress.phase === 'observed') {
          raced = true;
          eks.nodegroup('burst', 'spot').minSize = 2;
        }
      })
      .catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(CloudActionError);
    expect(rejected).toMatchObject({ retryable: false, code: 'InvalidParameterException' });
    expect((rejected as Error).message).toBe(
      "scale-nodegroup us-west-2/burst/spot: UpdateNodegroupConfig: InvalidParameterException: Minimum capacity 2 can't be greater than desired size 1",
    );

    const missing = await scaler.scale({ ...target, nodegroup: 'gone' }, 1).catch((e: unknown) => e);
    expect(missing).toMatchObject({ retryable: false, code: 'ResourceNotFoundException' });
    expect((missing as Error).message).toContain('No node group found for name: gone.');
  });

  it('gives up at its deadline with a retryable error while the nodegroup stays UPDATING', async () => {
    eks.nodegroup('burst', 'spot').updateDescribes = 'manual';
    // The deadline's clock moves only when the test says: a busy machine's slow first describe
    // must not use up the deadline before the update is even sent.
    let clockMs = 0;
    const quick = new EksNodegroupScaler({
      client: { endpoint: eks.url, credentials },
      pacing: { intervalMs: 5, timeoutMs: 150 },
      now: () => clockMs,
    });
    try {
      const scaling = quick.scale(target, 3).catch((e: unknown) => e);
      // Updated, and seen UPDATING at 3 at least once: the scaler is waiting. Now time runs out.
      await waitFor(() => updates().length === 1 && eks.describeRequests('burst', 'spot').length >= 2, {
        message: 'the update sent and the nodegroup seen UPDATING',
      });
      clockMs += 150;
      const error = await scaling;
      expect(error).toMatchObject({ retryable: true, code: 'Timeout' });
      expect((error as Error).message).toContain('waiting for ACTIVE at desiredSize 3 (now UPDATING at 3)');
      expect(updates()).toHaveLength(1);
    } finally {
      quick.close();
    }
  });
});

describe('FakeEksApi nodegroups', () => {
  let eks: FakeEksApi;
  let client: EKSClient;

  beforeEach(async () => {
    eks = await FakeEksApi.start();
    client = new EKSClient({ region: 'us-west-2', endpoint: eks.url, credentials });
  });
  afterEach(async () => {
    client.destroy();
    await eks.close();
  });

  it('refuses min > desired and desired > max, and answers a repeated clientRequestToken without applying it again', async () => {
    eks.setNodegroup({ cluster: 'my-cluster', name: 'standard', minSize: 1, maxSize: 3, desiredSize: 2 });
    const update = (scalingConfig: { minSize?: number; maxSize?: number; desiredSize?: number }, token?: string) =>
      client.send(
        new UpdateNodegroupConfigCommand({
          clusterName: 'my-cluster',
          nodegroupName: 'standard',
          scalingConfig,
          ...(token ? { clientRequestToken: token } : {}),
        }),
      );

    await expect(update({ desiredSize: 4 })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: "Desired capacity 4 can't be greater than max size 3",
    });
    await expect(update({ minSize: 3 })).rejects.toMatchObject({ name: 'InvalidParameterException' });

    const first = await update({ minSize: 2, maxSize: 6, desiredSize: 4 }, 'job-1');
    expect(first.update).toMatchObject({
      status: 'InProgress',
      type: 'ConfigUpdate',
      params: [
        { type: 'MinSize', value: '2' },
        { type: 'MaxSize', value: '6' },
        { type: 'DesiredSize', value: '4' },
      ],
      errors: [],
    });
    expect(first.update?.createdAt).toBeInstanceOf(Date);
    await expect(update({ desiredSize: 5 })).rejects.toMatchObject({ name: 'ResourceInUseException' });
    const repeated = await update({ minSize: 2, maxSize: 6, desiredSize: 4 }, 'job-1');
    expect(repeated.update?.id).toBe(first.update?.id);
    expect(eks.nodegroup('my-cluster', 'standard')).toMatchObject({ desiredSize: 4, status: 'UPDATING' });
  });
});

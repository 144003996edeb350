import { KubeConfig } from '@kubernetes/client-node';
import { FakeKubernetesApi } from '@spillway/test/fakes/kubernetes-api';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudActionError, type DeploymentRef, KubernetesDeploymentScaler } from '../src/index.js';

const ref: DeploymentRef = { cluster: 'cloud', namespace: 'shop', name: 'checkout' };

function kubeConfig(server: string, token: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'cloud', server, skipTLSVerify: true }],
    users: [{ name: 'spillway', token }],
    contexts: [{ name: 'cloud', cluster: 'cloud', user: 'spillway' }],
    currentContext: 'cloud',
  });
  return config;
}

describe('KubernetesDeploymentScaler', () => {
  let api: FakeKubernetesApi;
  let scaler: KubernetesDeploymentScaler;
  const resolved: string[] = [];

  beforeEach(async () => {
    api = await FakeKubernetesApi.start({ token: 'scaler-token' });
    api.upsertDeployment({ namespace: 'shop', name: 'checkout', replicas: 2 });
    resolved.length = 0;
    scaler = new KubernetesDeploymentScaler((cluster) => {
      resolved.push(cluster);
      if (cluster !== 'cloud') throw new Error(`unknown cluster ${cluster}`);
      return kubeConfig(api.url, 'scaler-token');
    });
  });
  afterEach(async () => {
    await api.close();
  });

  it('scales through the scale subresource, and readiness follows as the pods come up', async () => {
    const result = await scaler.scale(ref, 5);

    expect(result).toEqual({ changed: true, previous: 2, replicas: 5 });
    expect(api.deploymentRequests('shop', 'checkout').map((r) => `${r.method} ${r.path.split('/').pop()}`)).toEqual([
      'GET scale',
      'PUT scale',
    ]);
    expect(api.deployment('shop', 'checkout')).toMatchObject({ replicas: 5, readyReplicas: 2 });
    await expect(scaler.status(ref)).resolves.toEqual({ desired: 5, ready: 2, available: 2, observed: true });

    // One more pod becomes ready per read of the Deployment.
    api.deployment('shop', 'checkout').readyStep = 1;
    const ready = await waitFor(async () => {
      const status = await scaler.status(ref);
      return status.ready === 5 ? status : undefined;
    });
    expect(ready).toEqual({ desired: 5, ready: 5, available: 5, observed: true });
    expect(resolved).toEqual(['cloud']); // one API client per cluster
  });

  it('writes only when the replicas differ: a repeated scale is a read and nothing else', async () => {
    await scaler.scale(ref, 4);
    const again = await scaler.scale(ref, 4);

    expect(again).toEqual({ changed: false, previous: 4, replicas: 4 });
    expect(api.deploymentRequests('shop', 'checkout', 'PUT')).toHaveLength(1);
    expect(api.deploymentRequests('shop', 'checkout', 'GET')).toHaveLength(2);
    expect(api.deployment('shop', 'checkout').replicas).toBe(4);
  });

  it('carries the resourceVersion it read; a concurrent writer (409 Conflict) makes it re-read and retry', async () => {
    api.raceNextScaleWrites(2);

    await expect(scaler.scale(ref, 3)).resolves.toEqual({ changed: true, previous: 2, replicas: 3 });

    expect(api.deploymentRequests('shop', 'checkout', 'PUT').map((r) => r.status)).toEqual([409, 409, 200]);
    expect(api.deploymentRequests('shop', 'checkout', 'GET')).toHaveLength(3);
    expect(api.deployment('shop', 'checkout').replicas).toBe(3);
  });

  it('reports failures as typed errors: a missing Deployment is final, a 503 is retryable', async () => {
    const missing = await scaler.scale({ ...ref, name: 'nope' }, 1).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(CloudActionError);
    expect(missing).toMatchObject({
      action: 'scale-deployment',
      target: 'cloud/shop/nope',
      retryable: false,
      code: 'NotFound',
    });
    expect((missing as Error).message).toBe(
      'scale-deployment cloud/shop/nope: read scale: HTTP 404 NotFound: deployments.apps "nope" not found',
    );

    api.failNext(1, 503, 'deployments');
    await expect(scaler.status(ref)).rejects.toMatchObject({
      action: 'read-status',
      retryable: true,
      code: 'ServiceUnavailable',
    });

    await expect(scaler.scale(ref, -1)).rejects.toMatchObject({ retryable: false });
    await expect(scaler.scale({ ...ref, cluster: 'elsewhere' }, 1)).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('no Kubernetes config for cluster "elsewhere"'),
    });
    expect(api.deployment('shop', 'checkout').replicas).toBe(2);
  });
});

describe('FakeKubernetesApi deployments', () => {
  let api: FakeKubernetesApi;

  beforeEach(async () => {
    api = await FakeKubernetesApi.start();
    api.upsertDeployment({ namespace: 'shop', name: 'checkout', replicas: 2 });
  });
  afterEach(async () => {
    await api.close();
  });

  const scaleUrl = () => `${api.url}/apis/apps/v1/namespaces/shop/deployments/checkout/scale`;

  it('answers an autoscaling/v1 Scale and takes merge and JSON patches', async () => {
    const scale = (await (await fetch(scaleUrl())).json()) as Record<string, unknown>;
    expect(scale).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: { replicas: 2 },
      status: { replicas: 2, selector: 'app=checkout' },
    });

    const merge = await fetch(scaleUrl(), {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas: 6 } }),
    });
    expect(merge.status).toBe(200);
    const json = await fetch(scaleUrl(), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'replace', path: '/spec/replicas', value: 7 }]),
    });
    expect(((await json.json()) as { spec: { replicas: number } }).spec.replicas).toBe(7);
    const unsupported = await fetch(scaleUrl(), {
      method: 'PATCH',
      headers: { 'content-type': 'text/plain' },
      body: '7',
    });
    expect(unsupported.status).toBe(415);

    const deployment = (await (await fetch(`${api.url}/apis/apps/v1/namespaces/shop/deployments/checkout`)).json()) as {
      metadata: { generation: number };
      spec: { replicas: number };
      status: Record<string, number>;
    };
    expect(deployment.spec.replicas).toBe(7);
    expect(deployment.metadata.generation).toBe(3);
    expect(deployment.status).toMatchObject({ readyReplicas: 2, updatedReplicas: 7, unavailableReplicas: 5 });

    api.advanceDeployment('shop', 'checkout', 3);
    expect(api.deployment('shop', 'checkout').readyReplicas).toBe(5);
  });
});

import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { FakeKubernetesApi } from '@spillway/test/fakes/kubernetes-api';
import { afterEach, describe, expect, it } from 'vitest';

let k8s: FakeKubernetesApi | undefined;
afterEach(async () => {
  await k8s?.close();
  k8s = undefined;
});

function clients(url: string) {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
    currentContext: 'fake',
  });
  return { custom: config.makeApiClient(CustomObjectsApi), core: config.makeApiClient(CoreV1Api) };
}

const at = { group: 'spillway.dev', version: 'v1alpha1', namespace: 'shop', plural: 'burstpolicies' };
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('the Kubernetes fake serves custom resources with a status subresource (real client-node)', () => {
  it('keeps spec and status apart, moves generation with the spec only, refuses stale writes and nameless events', async () => {
    k8s = await FakeKubernetesApi.start({ token: 't' });
    const { custom, core } = clients(k8s.url);
    const created = await custom.createNamespacedCustomObject({
      ...at,
      body: {
        apiVersion: 'spillway.dev/v1alpha1',
        kind: 'BurstPolicy',
        metadata: { name: 'p' },
        spec: { maxShare: 0.5 },
        status: { phase: 'made-up' },
      },
    });
    expect(created.metadata.generation).toBe(1);
    expect(created.status).toBeUndefined();
    await expect(
      custom.createNamespacedCustomObject({
        ...at,
        body: { apiVersion: 'spillway.dev/v1alpha1', kind: 'BurstPolicy', metadata: { name: 'p' }, spec: {} },
      }),
    ).rejects.toMatchObject({ code: 409 });

    const status = await custom.patchNamespacedCustomObjectStatus(
      { ...at, name: 'p', body: { spec: { maxShare: 0.9 }, status: { phase: 'idle' } } },
      merge,
    );
    expect(status).toMatchObject({ spec: { maxShare: 0.5 }, status: { phase: 'idle' }, metadata: { generation: 1 } });
    const spec = await custom.patchNamespacedCustomObject(
      { ...at, name: 'p', body: { spec: { maxShare: 0.2 }, status: { phase: 'overwritten?' } } },
      merge,
    );
    expect(spec).toMatchObject({ spec: { maxShare: 0.2 }, status: { phase: 'idle' }, metadata: { generation: 2 } });
    await expect(
      custom.replaceNamespacedCustomObject({
        ...at,
        name: 'p',
        body: { ...spec, metadata: { ...spec.metadata, resourceVersion: created.metadata.resourceVersion } },
      }),
    ).rejects.toMatchObject({ code: 409 });

    await expect(
      core.createNamespacedEvent({ namespace: 'shop', body: { metadata: {}, involvedObject: {} } }),
    ).rejects.toMatchObject({ code: 422 });
    await core.createNamespacedEvent({
      namespace: 'shop',
      body: { metadata: { generateName: 'p.' }, involvedObject: { name: 'p' }, type: 'Warning', reason: 'R' },
    });
    expect(k8s.events).toHaveLength(1);
    expect(k8s.events[0]?.metadata.name).toMatch(/^p\./);
  });
});

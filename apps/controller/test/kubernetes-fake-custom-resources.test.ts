import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { silentLogger } from '@spillway/observability';
import { FakeKubernetesApi } from '@spillway/test/fakes/kubernetes-api';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { CustomObjectWatch } from '../src/custom-resources/custom-object-watch.js';

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

describe('the BurstPolicy watch against the fake (CustomObjectWatch on client-node ListWatch)', () => {
  it('resumes from a bookmark without a relist, and relists after 410 Gone', async () => {
    k8s = await FakeKubernetesApi.start({ token: 't' });
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'fake', server: k8s.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
      currentContext: 'fake',
    });
    let seen: string[] = [];
    let alive = 0;
    const watch = new CustomObjectWatch({
      kubeConfig: config,
      plural: 'burstpolicies',
      namespace: 'shop',
      logger: silentLogger(),
      backoff: { initialMs: 10, maxMs: 50 },
      onAlive: () => {
        alive++;
      },
      onChange: (objects) => {
        seen = [...objects.keys()].sort();
      },
    });
    watch.start();
    try {
      await waitFor(() => k8s!.openWatchCount('burstpolicies') === 1, { message: 'watch open' });
      const object = (name: string) => ({
        apiVersion: 'spillway.dev/v1alpha1',
        kind: 'BurstPolicy',
        metadata: { name, namespace: 'shop' },
        spec: {},
      });
      k8s.createCustomObject('burstpolicies', object('a'));
      await waitFor(() => seen.includes('shop/a'), { message: 'a seen' });
      const lists = () => k8s!.requestsFor('burstpolicies', 'list').length;
      expect(lists()).toBe(1);

      // Other objects move the resourceVersion on; a bookmark tells the watch, so after the
      // history is compacted and the stream drops, it resumes where it is: no 410, no relist.
      k8s.upsertNode({ kind: 'Node', metadata: { name: 'n1', labels: {} } });
      k8s.sendBookmarks();
      const bookmarked = k8s.resourceVersion;
      await waitFor(() => alive === 1, { message: 'the bookmark taken by the watch' });
      k8s.compact();
      k8s.dropWatches();
      await waitFor(
        () =>
          k8s!.requests.some(
            (r) => r.watch && r.path.endsWith('/burstpolicies') && r.query.resourceVersion === bookmarked,
          ),
        { message: 'the watch resumed from the bookmark' },
      );
      expect(lists()).toBe(1);

      // Without a bookmark past the compaction, the watch's version is gone: 410 → relist.
      k8s.upsertNode({ kind: 'Node', metadata: { name: 'n2', labels: {} } });
      k8s.compact({ expireOpenWatches: true });
      k8s.createCustomObject('burstpolicies', object('b'));
      await waitFor(() => lists() === 2 && seen.includes('shop/b'), { message: 'relisted after 410, b seen' });
      expect(seen).toEqual(['shop/a', 'shop/b']);
    } finally {
      await watch.stop();
    }
  });
});

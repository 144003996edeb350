import { FakeKubernetesApi, type KubeObject, nodeObject } from '@spillway/test/fakes/kubernetes-api';
import { fixtureNdjson } from '@spillway/test/fixtures';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubernetesSource } from '../src/kubernetes/index.js';
import { slice, startSource } from './kubernetes-support.js';

describe('KubernetesSource: watch, resume, 410, failures', () => {
  let api: FakeKubernetesApi;
  const sources: KubernetesSource[] = [];

  beforeEach(async () => {
    api = await FakeKubernetesApi.start();
    api.upsertSlice(
      slice('api', 'api-1', [
        { ip: '10.1.0.1', node: 'n1' },
        { ip: '10.1.0.2', node: 'n1' },
      ]),
    );
    api.upsertNode(nodeObject('n1', { 'topology.kubernetes.io/zone': 'lab-a' }));
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((source) => source.stop()));
    await api.close();
  });

  const start = async (options: Parameters<typeof startSource>[1] = {}) => {
    const started = await startSource(api, options);
    sources.push(started.source);
    // The view is complete; wait until both watches are open so later changes arrive as events.
    await waitFor(() => api.openWatchCount() === 2, { message: 'two open watches' });
    return started;
  };

  const sliceWatches = () => api.requestsFor('endpointslices', 'watch');
  const sliceLists = () => api.requestsFor('endpointslices', 'list');

  it('applies ADDED, MODIFIED and DELETED events as per-service updates', async () => {
    const { sink } = await start();
    expect(sink.summary('api.demo')).toEqual(['10.1.0.1:50051 healthy', '10.1.0.2:50051 healthy']);

    api.upsertSlice(slice('db', 'db-1', [{ ip: '10.2.0.1' }]));
    await waitFor(() => sink.view.has('db.demo'), { message: 'ADDED db' });

    api.upsertSlice(
      slice('api', 'api-1', [
        { ip: '10.1.0.1', node: 'n1' },
        { ip: '10.1.0.2', node: 'n1', ready: false, terminating: true },
      ]),
    );
    await waitFor(() => sink.summary('api.demo').includes('10.1.0.2:50051 draining'), { message: 'MODIFIED api' });

    api.deleteSlice('demo', 'db-1');
    await waitFor(() => !sink.view.has('db.demo'), { message: 'DELETED db' });
    expect(sink.replaceAllCount).toBe(1);
    expect(sink.failures).toEqual([]);
  });

  it('moves endpoints when a slice changes service and re-derives zones when a Node is relabelled', async () => {
    const { sink } = await start();
    api.upsertNode(nodeObject('n1', { 'topology.kubernetes.io/zone': 'lab-b', 'topology.kubernetes.io/region': 'r2' }));
    await waitFor(
      () => sink.view.get('api.demo')?.every((e) => e.locality.zone === 'lab-b' && e.locality.region === 'r2'),
      {
        message: 'zone lab-b from relabelled node',
      },
    );

    api.upsertSlice(slice('api-v2', 'api-1', [{ ip: '10.1.0.1' }]));
    await waitFor(() => !sink.view.has('api.demo') && sink.view.has('api-v2.demo'), { message: 'slice moved' });
  });

  it('replays the recorded watch stream: ADDED → MODIFIED (terminating) → DELETED → BOOKMARK → ERROR 410', async () => {
    const { sink } = await start();
    const key = 'externalnode-proxy.kube-system';
    const steps = fixtureNdjson<{ type: string; object: KubeObject }>(
      'k8s-watch-stream.endpointslices.assembled.ndjson',
    );
    const seen: string[][] = [];
    for (const { type, object } of steps) {
      const { name, namespace = '' } = object.metadata;
      if (type === 'ADDED' || type === 'MODIFIED') api.upsertSlice(object);
      if (type === 'DELETED') api.deleteSlice(namespace, name);
      if (type === 'BOOKMARK') api.sendBookmarks();
      if (type === 'ERROR') api.compact({ expireOpenWatches: true });
      const expected = { ADDED: 'healthy', MODIFIED: 'draining' }[type];
      if (expected) await waitFor(() => sink.summary(key)[0] === `172.24.0.7:80 ${expected}`, { message: type });
      if (type === 'DELETED') await waitFor(() => !sink.view.has(key), { message: type });
      seen.push(sink.summary(key));
    }
    await waitFor(() => sink.replaceAllCount >= 2, { message: 'relist after the ERROR 410 line' });
    expect(seen.slice(0, 3)).toEqual([['172.24.0.7:80 healthy'], ['172.24.0.7:80 draining'], []]);
    expect(sink.view.has(key)).toBe(false);
    expect(sink.failures).toEqual([]);
  });

  it('reports 401 when the API server rejects the bearer token', async () => {
    await api.close();
    api = await FakeKubernetesApi.start({ token: 'the-right-token' });
    const { source, sink } = await startSource(api, {}, false);
    sources.push(source);
    await waitFor(() => sink.failures.length >= 2, { message: '401 reported' });
    expect(sink.failures[0]?.message).toMatch(
      /^onprem-a: (endpointslices|nodes): HTTP 401 Unauthorized; retrying in \d+ ms$/,
    );
    expect(sink.replaceAllCount).toBe(0);
  });

  it('requests bookmarks and reports them as alive()', async () => {
    const { sink } = await start();
    expect(sliceWatches().every((request) => request.query.allowWatchBookmarks === 'true')).toBe(true);
    const before = sink.aliveCount;
    api.sendBookmarks();
    await waitFor(() => sink.aliveCount >= before + 2, { message: 'alive() from both bookmarks' });
  });

  it('resumes a dropped watch from its last resourceVersion without relisting and loses nothing', async () => {
    const { sink } = await start();
    api.upsertSlice(slice('db', 'db-1', [{ ip: '10.2.0.1' }]));
    await waitFor(() => sink.view.has('db.demo'));
    const lastSeen = api.resourceVersion;
    const listsBefore = sliceLists().length;
    const watchesBefore = sliceWatches().length;

    api.delayMs = 100; // the reconnect waits in the server while changes happen
    api.dropWatches();
    api.upsertSlice(slice('db', 'db-1', [{ ip: '10.2.0.1' }, { ip: '10.2.0.2' }]));
    api.deleteSlice('demo', 'api-1');

    await waitFor(() => sink.summary('db.demo').length === 2 && !sink.view.has('api.demo'), {
      message: 'missed events',
    });
    const resumed = sliceWatches().slice(watchesBefore);
    expect(resumed[0]?.query.resourceVersion).toBe(lastSeen);
    expect(sliceLists().length).toBe(listsBefore);
    expect(sink.replaceAllCount).toBe(1);
  });

  it('relists after a plain HTTP 410 at connect and reports the relisted view', async () => {
    const { sink } = await start();
    const listsBefore = sliceLists().length;
    api.dropWatches();
    api.deleteSlice('demo', 'api-1');
    api.upsertSlice(slice('db', 'db-1', [{ ip: '10.2.0.1' }]));
    api.compact();

    await waitFor(() => sink.replaceAllCount >= 2 && sink.view.has('db.demo') && !sink.view.has('api.demo'), {
      message: 'relisted view',
    });
    expect(sliceWatches().some((request) => request.status === 410)).toBe(true);
    expect(sliceLists().length).toBeGreaterThan(listsBefore);
    expect(sink.failures).toEqual([]);
  });

  it('relists after an in-band ERROR 410, mid-stream and at connect', async () => {
    const { sink } = await start();
    api.deleteSlice('demo', 'api-1');
    await waitFor(() => !sink.view.has('api.demo'));
    api.compact({ expireOpenWatches: true });
    await waitFor(() => sink.replaceAllCount >= 2 && api.openWatchCount() === 2, {
      message: 'relist after in-band 410',
    });

    api.expiredWatchMode = 'in-band';
    api.dropWatches();
    api.upsertSlice(slice('db', 'db-1', [{ ip: '10.2.0.1' }]));
    api.compact();
    await waitFor(() => sink.replaceAllCount >= 3 && sink.view.has('db.demo'), {
      message: 'relist after 410 event at connect',
    });
    expect([...sink.view.keys()]).toEqual(['db.demo']);
    expect(sink.failures).toEqual([]);
  });

  it('reports 500s on relist, keeps the last good view, recovers when the server heals', async () => {
    const { sink } = await start();
    api.failNext(3, 500, 'list');
    api.dropWatches();
    api.upsertSlice(slice('db', 'db-1', [{ ip: '10.2.0.1' }]));
    api.compact();

    await waitFor(() => sink.failures.length >= 3, { message: 'three failures' });
    expect(sink.summary('api.demo')).toEqual(['10.1.0.1:50051 healthy', '10.1.0.2:50051 healthy']);
    expect(sink.failures[0]?.message).toMatch(
      /^onprem-a: (endpointslices|nodes): HTTP 500 InternalError: fake failure/,
    );
    await waitFor(() => sink.view.has('db.demo') && sink.replaceAllCount >= 2, { message: 'recovery' });
    expect(sink.summary('api.demo')).toHaveLength(2);
  });

  it('reports garbage and wrong-shape list bodies without emptying the view', async () => {
    const { sink } = await start();
    api.garbageNext(1, 'non-json', 'list');
    api.garbageNext(1, 'wrong-shape', 'list');
    api.dropWatches();
    api.upsertNode(nodeObject('n2', {})); // history moves past the client's resourceVersion…
    api.compact(); // …and is then forgotten: the reconnect gets 410 and relists

    await waitFor(() => sink.failures.length >= 2, { message: 'two failures' });
    const messages = sink.failures.map((failure) => failure.message).join('\n');
    expect(messages).toMatch(/not valid JSON/);
    expect(messages).toMatch(/malformed list response/);
    expect(sink.view.has('api.demo')).toBe(true);
    await waitFor(() => sink.replaceAllCount >= 2, { message: 'relist after garbage' });
    expect(sink.summary('api.demo')).toHaveLength(2);
  });

  it('reports a failing watch connect (503, 429) and resumes from its resourceVersion', async () => {
    const { sink } = await start();
    const listsBefore = sliceLists().length;
    api.failNext(1, 503, 'watch');
    api.failNext(1, 429, 'watch');
    api.dropWatches();
    await waitFor(() => sink.failures.length >= 2, { message: 'watch failures' });
    expect(sink.failures.map((failure) => failure.message).join('\n')).toMatch(/HTTP (503|429)/);

    api.upsertSlice(slice('db', 'db-1', [{ ip: '10.2.0.1' }]));
    await waitFor(() => sink.view.has('db.demo'), { message: 'event after recovery' });
    expect(sliceLists().length).toBe(listsBefore);
  });

  it('ignores invalid watch lines and slows down on watches that end with garbage', async () => {
    const { sink } = await start();
    api.injectWatchLine('{"type":"ADDED","object":{"spec":{}}}');
    api.injectWatchLine('not json at all');
    api.upsertSlice(slice('db', 'db-1', [{ ip: '10.2.0.1' }]));
    await waitFor(() => sink.view.has('db.demo'), { message: 'event after invalid lines' });

    api.garbageNext(3, 'non-json', 'watch');
    api.dropWatches();
    await waitFor(() => sink.failures.some((failure) => /without a valid event/.test(failure.message)), {
      message: 'garbage watch reported',
    });
    api.upsertSlice(slice('cache', 'cache-1', [{ ip: '10.3.0.1' }]));
    await waitFor(() => sink.view.has('cache.demo'), { message: 'event after garbage watches' });
    expect(sink.view.has('api.demo')).toBe(true);
  });

  it('works against a slow server', async () => {
    api.delayMs = 250;
    const { sink } = await start();
    api.upsertSlice(slice('db', 'db-1', [{ ip: '10.2.0.1' }]));
    await waitFor(() => sink.view.has('db.demo'), { message: 'event from slow server' });
    expect(sink.summary('api.demo')).toHaveLength(2);
  });

  it('retries the initial list until the server answers, then reports the first view', async () => {
    api.failNext(2, 503, 'list');
    const { source, sink } = await startSource(api, {}, false);
    sources.push(source);
    await waitFor(() => sink.replaceAllCount === 1, { message: 'first view after failures' });
    expect(sink.failures.length).toBeGreaterThanOrEqual(2);
    expect(sink.summary('api.demo')).toHaveLength(2);
  });

  it('stop() closes every watch and nothing is reported afterwards', async () => {
    const { source, sink } = await start();
    await source.stop();
    await waitFor(() => api.openWatchCount() === 0, { message: 'watches closed' });
    const updates = sink.updates;
    const failures = sink.failures.length;
    api.upsertSlice(slice('db', 'db-1', [{ ip: '10.2.0.1' }]));
    api.sendBookmarks();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.updates).toBe(updates);
    expect(sink.failures.length).toBe(failures);
  });
});

import { FakeKubernetesApi, type KubeObject, nodeObject } from '@spillway/test/fakes/kubernetes-api';
import { fixtureJson } from '@spillway/test/fixtures';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubernetesSource } from '../src/kubernetes/index.js';
import {
  gkeNodeLabels,
  slice,
  startSource,
  superedgeSlice,
  terminationSlice,
  tutorialNode,
} from './kubernetes-support.js';

describe('KubernetesSource: initial list → catalog view', () => {
  let api: FakeKubernetesApi;
  const sources: KubernetesSource[] = [];

  beforeEach(async () => {
    api = await FakeKubernetesApi.start();
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((source) => source.stop()));
    await api.close();
  });

  it('maps the termination tutorial slice: terminating → draining, zone, node region, pod/node labels', async () => {
    api.upsertSlice(terminationSlice());
    api.upsertNode(tutorialNode());
    const { source, sink } = await startSource(api);
    sources.push(source);

    expect(sink.summary('nginx-service.default')).toEqual(['10.12.1.201:80 draining', '10.12.1.202:80 healthy']);
    const ready = sink.view.get('nginx-service.default')?.find((e) => e.address === '10.12.1.202');
    expect(ready).toEqual({
      address: '10.12.1.202',
      port: 80,
      cluster: 'onprem-a',
      environment: 'onprem',
      locality: { region: 'us-central1', zone: 'us-central1-c', subZone: '' },
      health: 'healthy',
      weight: 1,
      labels: { 'k8s.node': 'gke-main-default-pool-dca1511c-d17b', 'k8s.pod': 'nginx-deployment-7768647bf9-rkxlw' },
    });
    expect(sink.failures).toEqual([]);
  });

  it('maps the recorded EndpointSliceList: first port when none is grpc/http, configured region without a Node', async () => {
    const list = fixtureJson<{ items: KubeObject[] }>('k8s-endpointslicelist.victoriametrics-test.json');
    for (const item of list.items) api.upsertSlice(item);
    const { source, sink } = await startSource(api);
    sources.push(source);

    expect([...sink.view.keys()].sort()).toEqual(['kube-dns.kube-system', 'kubernetes.default']);
    expect(sink.summary('kubernetes.default')).toEqual(['172.18.0.2:6443 healthy']);
    expect(sink.summary('kube-dns.kube-system')).toEqual(['10.244.0.3:9153 healthy']);
    expect(sink.view.get('kube-dns.kube-system')?.[0]?.locality).toEqual({ region: 'lab', zone: '', subZone: '' });
  });

  it('falls back to the Node zone label, then the legacy failure-domain label', async () => {
    const withoutZone = superedgeSlice();
    for (const endpoint of withoutZone.endpoints as { zone?: string }[]) delete endpoint.zone;
    api.upsertSlice(withoutZone);
    const legacyOnly = Object.fromEntries(
      Object.entries(gkeNodeLabels()).filter(([key]) => !key.startsWith('topology.')),
    );
    api.upsertNode(nodeObject('10.0.0.29', legacyOnly));
    api.upsertSlice(slice('api', 'api-1', [{ ip: '10.1.0.5', node: 'gke-node' }]));
    api.upsertNode(nodeObject('gke-node', { ...gkeNodeLabels(), 'topology.kubernetes.io/zone': 'us-central1-f' }));
    const { source, sink } = await startSource(api);
    sources.push(source);

    const proxy = sink.view.get('externalnode-proxy.kube-system')?.[0];
    expect(proxy?.locality).toEqual({ region: 'us-central1', zone: 'us-central1-a', subZone: '' });
    expect(proxy?.port).toBe(80);
    expect(sink.view.get('api.demo')?.[0]?.locality.zone).toBe('us-central1-f');
  });

  it('combines slices, keeps an address:port once, prefers grpc then http, skips FQDN and unlabelled slices', async () => {
    const ports = [
      { name: 'metrics', port: 9090 },
      { name: 'http', port: 8080 },
    ];
    api.upsertSlice(slice('web', 'web-a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: null }], { ports }));
    api.upsertSlice(
      slice(
        'web',
        'web-b',
        [
          { ip: '10.0.0.2', ready: false },
          { ip: '10.0.0.3', ready: false },
        ],
        { ports },
      ),
    );
    api.upsertSlice(slice('web', 'web-v6', [{ ip: 'fd00::1' }], { ports, addressType: 'IPv6' }));
    api.upsertSlice(slice('web', 'web-fqdn', [{ ip: 'web.example.com' }], { ports, addressType: 'FQDN' }));
    const unlabelled = slice('mirror', 'mirror-1', [{ ip: '10.0.0.9' }]);
    delete unlabelled.metadata.labels?.['kubernetes.io/service-name'];
    api.upsertSlice(unlabelled);
    api.upsertSlice(
      slice('rpc', 'rpc-1', [{ ip: '10.0.1.1' }], {
        ports: [
          { name: 'http', port: 8080 },
          { name: 'grpc', port: 50051 },
        ],
      }),
    );
    const { source, sink } = await startSource(api);
    sources.push(source);

    expect(sink.summary('web.demo')).toEqual([
      '10.0.0.1:8080 healthy',
      '10.0.0.2:8080 healthy',
      '10.0.0.3:8080 unhealthy',
      'fd00::1:8080 healthy',
    ]);
    expect(sink.summary('rpc.demo')).toEqual(['10.0.1.1:50051 healthy']);
    expect(sink.view.has('mirror.demo')).toBe(false);
  });

  it('survives the all-fields fuzz fixture: the invalid slice is skipped, the rest is served', async () => {
    api.upsertSlice(fixtureJson<KubeObject>('k8s-endpointslice-v1.all-fields.apitestdata.json'));
    api.upsertSlice(slice('api', 'api-1', [{ ip: '10.1.0.5' }]));
    const { source, sink } = await startSource(api);
    sources.push(source);

    expect([...sink.view.keys()]).toEqual(['api.demo']);
    expect(sink.failures).toEqual([]);
  });

  it('reads only the configured namespaces, one informer each', async () => {
    api.upsertSlice(slice('api', 'api-1', [{ ip: '10.1.0.5' }], { namespace: 'demo' }));
    api.upsertSlice(slice('api', 'api-1', [{ ip: '10.2.0.5' }], { namespace: 'other' }));
    api.upsertSlice(slice('db', 'db-1', [{ ip: '10.3.0.5' }], { namespace: 'shop' }));
    const { source, sink } = await startSource(api, { namespaces: ['demo', 'shop'] });
    sources.push(source);

    expect([...sink.view.keys()].sort()).toEqual(['api.demo', 'db.shop']);
    const paths = new Set(api.requests.map((request) => request.path));
    expect(paths).toContain('/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices');
    expect(paths).not.toContain('/apis/discovery.k8s.io/v1/endpointslices');

    api.upsertSlice(slice('api', 'api-2', [{ ip: '10.2.0.6' }], { namespace: 'other' }));
    api.upsertSlice(slice('db', 'db-2', [{ ip: '10.3.0.6' }], { namespace: 'shop' }));
    await waitFor(() => sink.summary('db.shop').length === 2, { message: 'db.shop update' });
    expect(sink.view.has('api.other')).toBe(false);
  });

  it('pages through large lists with limit/continue', async () => {
    for (let i = 0; i < 7; i++) api.upsertSlice(slice(`svc-${i}`, `svc-${i}-x`, [{ ip: `10.9.0.${i + 1}` }]));
    const { source, sink } = await startSource(api, { pageSize: 3 });
    sources.push(source);

    expect(sink.view.size).toBe(7);
    const lists = api.requestsFor('endpointslices', 'list');
    expect(lists.map((request) => request.query.limit)).toEqual(['3', '3', '3']);
    expect(lists.filter((request) => request.query.continue).length).toBe(2);
  });
});

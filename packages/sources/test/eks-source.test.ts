import { EKSClient } from '@aws-sdk/client-eks';
import type { EksClusterConfig } from '@spillway/config';
import { checkEksToken, FakeEksApi } from '@spillway/test/fakes/eks-api';
import { FakeKubernetesApi, nodeObject } from '@spillway/test/fakes/kubernetes-api';
import { RecordingSink } from '@spillway/test/support/recording-sink';
import { waitFor } from '@spillway/test/support/wait';
import { generate } from 'selfsigned';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EksSource, eksToken } from '../src/eks/index.js';
import { slice } from './kubernetes-support.js';

const credentials = async () => ({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
});

describe('EksSource', () => {
  let tls: { key: string; cert: string };
  let eks: FakeEksApi;
  const kubes: FakeKubernetesApi[] = [];
  const sources: EksSource[] = [];

  beforeAll(async () => {
    // A self-signed certificate for 127.0.0.1 that is also the CA EKS hands out.
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ],
    });
    tls = { key: pems.private, cert: pems.cert };
  });
  beforeEach(async () => {
    eks = await FakeEksApi.start();
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((source) => source.stop()));
    await Promise.all(kubes.splice(0).map((api) => api.close()));
    await eks.close();
  });

  const caData = () => Buffer.from(tls.cert).toString('base64');

  async function kubeApi(ip: string, zone: string): Promise<FakeKubernetesApi> {
    const api = await FakeKubernetesApi.start({ tls, validateToken: (token) => checkEksToken(token) });
    api.upsertSlice(slice('checkout', 'checkout-1', [{ ip, node: 'ip-10-0-1-1' }], { namespace: 'shop' }));
    api.upsertNode(
      nodeObject('ip-10-0-1-1', { 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/region': 'us-west-2' }),
    );
    kubes.push(api);
    return api;
  }

  function eksSource(config: Partial<EksClusterConfig> = {}, deps: ConstructorParameters<typeof EksSource>[1] = {}) {
    const source = new EksSource(
      { name: 'cloud', kind: 'eks', environment: 'cloud', region: 'us-west-2', eksEndpoint: eks.url, ...config },
      { credentials, backoff: { initialMs: 20, maxMs: 100 }, discoveryIntervalMs: 50, ...deps },
    );
    sources.push(source);
    return source;
  }

  it('discovers clusters page by page, watches them over HTTPS with IAM tokens and merges their views', async () => {
    const east = await kubeApi('10.0.1.10', 'us-west-2a');
    const west = await kubeApi('10.0.2.10', 'us-west-2b');
    eks.pageSize = 1;
    eks.setCluster({ name: 'burst-a', status: 'ACTIVE', endpoint: east.url, caData: caData() });
    eks.setCluster({ name: 'burst-b', status: 'ACTIVE', endpoint: west.url, caData: caData() });
    eks.throttleNext(1);
    const sink = new RecordingSink();
    await eksSource().start(sink);

    await waitFor(() => sink.summary('checkout.shop').length === 2, { message: 'merged checkout endpoints' });
    expect(sink.summary('checkout.shop')).toEqual(['10.0.1.10:50051 healthy', '10.0.2.10:50051 healthy']);
    const endpoint = sink.view.get('checkout.shop')?.find((e) => e.address === '10.0.2.10');
    expect(endpoint).toMatchObject({
      cluster: 'cloud',
      environment: 'cloud',
      locality: { region: 'us-west-2', zone: 'us-west-2b', subZone: '' },
      labels: { 'eks.cluster': 'burst-b', 'k8s.node': 'ip-10-0-1-1' },
    });
    expect(eks.requests[0]?.status).toBe(429); // throttled, then retried by the SDK
    expect(eks.requests.filter((r) => r.path === '/clusters' && r.status === 200).length).toBeGreaterThanOrEqual(2);
    for (const api of [east, west]) {
      expect(api.requests.every((r) => r.status !== 401)).toBe(true);
      expect(api.tokensSeen.every((token) => checkEksToken(token) === undefined)).toBe(true);
    }

    west.upsertSlice(
      slice('checkout', 'checkout-1', [{ ip: '10.0.2.10', node: 'ip-10-0-1-1', ready: false }], { namespace: 'shop' }),
    );
    await waitFor(() => sink.summary('checkout.shop').includes('10.0.2.10:50051 unhealthy'), {
      message: 'watch through EKS',
    });
  });

  it('reports a CREATING cluster (endpoint null) and picks it up once ACTIVE', async () => {
    const api = await kubeApi('10.0.3.10', 'us-west-2c');
    eks.setCluster({ name: 'late', status: 'CREATING', endpoint: null, caData: null });
    const sink = new RecordingSink();
    await eksSource({ clusterNames: ['late'] }).start(sink);

    await waitFor(() => sink.failures.some((f) => f.message === 'cloud: EKS cluster "late" is CREATING; will retry'), {
      message: 'CREATING reported',
    });
    expect(sink.view.size).toBe(0);
    eks.setCluster({ name: 'late', status: 'ACTIVE', endpoint: api.url, caData: caData() });
    await waitFor(() => sink.view.has('checkout.shop'), { message: 'cluster picked up' });
  });

  it('reports a named cluster that does not exist and a CA that does not match, without crashing', async () => {
    const api = await kubeApi('10.0.4.10', 'us-west-2a');
    const other = await generate([{ name: 'commonName', value: 'other' }], { keySize: 2048 });
    eks.setCluster({
      name: 'wrong-ca',
      status: 'ACTIVE',
      endpoint: api.url,
      caData: Buffer.from(other.cert).toString('base64'),
    });
    const sink = new RecordingSink();
    await eksSource({ clusterNames: ['missing', 'wrong-ca'] }).start(sink);

    await waitFor(() => sink.failures.some((f) => f.message === 'cloud: EKS cluster "missing" not found'), {
      message: '404',
    });
    await waitFor(
      () => sink.failures.some((f) => /EKS cluster "wrong-ca": .*(certificate|self.signed)/i.test(f.message)),
      {
        message: 'TLS failure reported',
      },
    );
    expect(sink.replaceAllCount).toBe(0);
  });

  it('drops a cluster that disappears from ListClusters', async () => {
    const a = await kubeApi('10.0.5.10', 'us-west-2a');
    const b = await kubeApi('10.0.6.10', 'us-west-2b');
    eks.setCluster({ name: 'a', status: 'ACTIVE', endpoint: a.url, caData: caData() });
    eks.setCluster({ name: 'b', status: 'ACTIVE', endpoint: b.url, caData: caData() });
    const sink = new RecordingSink();
    await eksSource().start(sink);
    await waitFor(() => sink.summary('checkout.shop').length === 2, { message: 'both clusters' });

    eks.removeCluster('b');
    await waitFor(() => sink.summary('checkout.shop').length === 1, { message: 'cluster b dropped' });
    expect(sink.summary('checkout.shop')).toEqual(['10.0.5.10:50051 healthy']);
    await waitFor(() => b.openWatchCount() === 0, { message: 'cluster b watches closed' });
  });

  it('mints a fresh token once the cached one is old', async () => {
    const api = await kubeApi('10.0.7.10', 'us-west-2a');
    eks.setCluster({ name: 'a', status: 'ACTIVE', endpoint: api.url, caData: caData() });
    let clock = new Date('2025-01-01T00:00:00Z');
    const sink = new RecordingSink();
    await eksSource({ clusterNames: ['a'] }, { now: () => clock, tokenRefreshMs: 60_000 }).start(sink);
    await waitFor(() => sink.view.has('checkout.shop') && api.openWatchCount() === 2, { message: 'synced' });
    expect(new Set(api.tokensSeen).size).toBe(1);

    clock = new Date('2025-01-01T00:05:00Z');
    api.dropWatches();
    await waitFor(() => new Set(api.tokensSeen).size === 2, { message: 'second token' });
    const dates = [...new Set(api.tokensSeen)].map((token) =>
      new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString()).searchParams.get('X-Amz-Date'),
    );
    expect(dates).toEqual(['20250101T000000Z', '20250101T000500Z']);
  });

  it('makes tokens in the aws eks get-token format', async () => {
    const token = await eksToken({ clusterName: 'burst-a', region: 'us-west-2', credentials, signingDate: new Date() });
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(checkEksToken(token)).toBeUndefined();
    const url = new URL(Buffer.from(token.slice(11), 'base64url').toString());
    expect(url.host).toBe('sts.us-west-2.amazonaws.com');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
  });

  it('accepts an injected EKS client', async () => {
    const client = new EKSClient({ region: 'us-west-2', endpoint: eks.url, credentials });
    const api = await kubeApi('10.0.8.10', 'us-west-2a');
    eks.setCluster({ name: 'a', status: 'ACTIVE', endpoint: api.url, caData: caData() });
    const sink = new RecordingSink();
    await eksSource({ eksEndpoint: undefined }, { eks: client }).start(sink);
    await waitFor(() => sink.view.has('checkout.shop'), { message: 'view through injected client' });
    client.destroy();
  });
});

import { buildConfig } from '@spillway/config';
import { silentLogger } from '@spillway/observability';
import { ManualSource } from '@spillway/test/support/manual-source';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { type Federation, startFederation } from '../src/federation-service.js';

let federation: Federation | undefined;
afterEach(async () => {
  await federation?.stop();
  federation = undefined;
});

async function start(sources: ManualSource[]) {
  const config = buildConfig({ federation: { staleAfterSeconds: 60 } });
  federation = await startFederation({ config, logger: silentLogger(), sources, httpAddress: '127.0.0.1:0' });
  return federation;
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected field by field by the assertions
type Json = any;

async function get(path: string): Promise<{ status: number; type: string | null; body: Json }> {
  const response = await fetch(`${federation!.url}${path}`);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

describe('federation HTTP API', () => {
  it('is not ready until every source has synced, then serves clusters and services', async () => {
    const onprem = new ManualSource('dc1');
    const cloud = new ManualSource('eks-use1', 'cloud', 'us-east-1');
    await start([onprem, cloud]);
    expect((await get('/readyz')).status).toBe(503);
    expect((await get('/readyz')).body.checks[0].detail).toContain('dc1');

    onprem.report({ 'echo.demo': [onprem.endpoint('10.0.0.1'), onprem.endpoint('10.0.0.2', { health: 'draining' })] });
    cloud.report({ 'echo.demo': [cloud.endpoint('10.1.0.1')], 'cart.shop': [cloud.endpoint('10.1.0.2')] });
    await waitFor(async () => (await get('/readyz')).status === 200, { message: 'ready' });

    const clusters = await get('/v1/clusters');
    expect(clusters.body.clusters).toEqual([
      expect.objectContaining({ name: 'dc1', state: 'live', endpointCount: 2, serviceCount: 1 }),
      expect.objectContaining({ name: 'eks-use1', environment: 'cloud', state: 'live', endpointCount: 2 }),
    ]);
    const services = await get('/v1/services');
    expect(services.body.services).toEqual([
      expect.objectContaining({ key: 'cart.shop', endpoints: 1, environments: ['cloud'] }),
      expect.objectContaining({ key: 'echo.demo', endpoints: 3, healthy: 2, environments: ['cloud', 'onprem'] }),
    ]);
    const echo = await get('/v1/services/demo/echo');
    expect(echo.body.endpoints.map((e: { address: string; health: string }) => `${e.address} ${e.health}`)).toEqual([
      '10.0.0.1 healthy',
      '10.0.0.2 draining',
      '10.1.0.1 healthy',
    ]);
    expect((await get('/v1/services?namespace=shop')).body.services).toHaveLength(1);
  });

  it('answers unknown services and bad queries with problem+json', async () => {
    await start([new ManualSource('dc1')]);
    const missing = await get('/v1/services/demo/nope');
    expect(missing.status).toBe(404);
    expect(missing.type).toMatch(/^application\/problem\+json/);
    expect(missing.body.detail).toBe('no service nope.demo in the catalog');
    const bad = await get('/v1/catalog/changes?index=-1&wait=forever');
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/index.*wait: expected a duration/);
    expect((await get('/v1/nothing')).status).toBe(404);
  });

  it('long-polls the change feed: blocks until a change, then returns only what changed', async () => {
    const dc1 = new ManualSource('dc1');
    await start([dc1]);
    dc1.report({ 'echo.demo': [dc1.endpoint('10.0.0.1')], 'cart.shop': [dc1.endpoint('10.0.0.5')] });
    const first = await get('/v1/catalog/changes?index=0');
    expect(first.body).toMatchObject({ index: 1, reset: true, removed: [] });
    expect(first.body.services).toHaveLength(2);

    const pending = get('/v1/catalog/changes?index=1&wait=30s');
    dc1.sink.replaceServices(
      new Map([
        ['cart.shop', []],
        ['echo.demo', [dc1.endpoint('10.0.0.1', { health: 'unhealthy' })]],
      ]),
    );
    const next = await pending;
    expect(next.body).toMatchObject({ index: 2, reset: false, removed: ['cart.shop'] });
    expect(next.body.services).toEqual([expect.objectContaining({ name: 'echo', namespace: 'demo' })]);
    expect(next.body.services[0].endpoints[0].health).toBe('unhealthy');

    const epoch = first.body.epoch;
    expect(epoch).toMatch(/^[0-9a-f-]{36}$/);
    expect(next.body.epoch).toBe(epoch);
    const idle = await get(`/v1/catalog/changes?index=2&epoch=${epoch}&wait=50ms`);
    expect(idle.body).toEqual({ index: 2, epoch, reset: false, services: [], removed: [] });
  });

  it('answers an index counted in another epoch (another run of the federation) with everything', async () => {
    const dc1 = new ManualSource('dc1');
    await start([dc1]);
    dc1.report({ 'echo.demo': [dc1.endpoint('10.0.0.1')], 'cart.shop': [dc1.endpoint('10.0.0.5')] });
    await waitFor(() => federation!.store.current().version === 1, { message: 'first version' });
    dc1.sink.replaceServices(new Map([['cart.shop', [dc1.endpoint('10.0.0.6')]]]));
    await waitFor(() => federation!.store.current().version === 2, { message: 'second version' });

    // Same index, another run: not "nothing changed", not a delta, but the whole catalog at once.
    const other = await get('/v1/catalog/changes?index=1&epoch=an-earlier-run&wait=30s');
    expect(other.body).toMatchObject({ index: 2, epoch: federation!.store.epoch, reset: true, removed: [] });
    expect(other.body.services).toHaveLength(2);
    const bad = await get('/v1/catalog/changes?index=1&epoch=not%20one');
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/^epoch: expected the epoch of an earlier answer/);
  });

  it('exposes catalog and source metrics', async () => {
    const dc1 = new ManualSource('dc1');
    await start([dc1]);
    dc1.report({ 'echo.demo': [dc1.endpoint('10.0.0.1')] });
    dc1.sink.failed(new Error('connection refused'));
    const text = await waitFor(async () => {
      const body = await (await fetch(`${federation!.url}/metrics`)).text();
      return /spillway_catalog_version\{[^}]*\} 1\n/.test(body) ? body : undefined;
    });
    expect(text).toMatch(/spillway_catalog_endpoints\{spillway_process="federation"\} 1\n/);
    expect(text).toMatch(/spillway_source_errors_total\{source="dc1",spillway_process="federation"\} 1\n/);
    expect(text).toMatch(/spillway_source_state\{source="dc1",state="failing",spillway_process="federation"\} 1\n/);
  });
});

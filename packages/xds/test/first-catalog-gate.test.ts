import * as grpc from '@grpc/grpc-js';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_TYPE_URL, type DiscoveryResponseMessage, envoyProtos, LISTENER_TYPE_URL } from '../src/index.js';
import { AdsTestClient } from './support/ads-test-client.js';
import { endpoint } from './support/in-memory-catalog.js';
import { startTestXdsServer, type TestXdsServer } from './support/test-server.js';

const node = { id: 'restarted-1', cluster: 'test', locality: { region: 'dc1', zone: 'a', sub_zone: '' } };
const zoneA = { region: 'dc1', zone: 'a' };
const service = (name: string, host: number) => ({
  name,
  namespace: 'demo',
  endpoints: [endpoint(`10.0.0.${host}`, 8080, zoneA)],
});

function names(response: DiscoveryResponseMessage): string[] {
  const protos = envoyProtos();
  return response.resources.map((any) =>
    any.type_url === CLUSTER_TYPE_URL
      ? (protos.Cluster.decode(any.value).toJSON().name as string)
      : (protos.Listener.decode(any.value).toJSON().name as string),
  );
}

async function heldRequests(router: TestXdsServer): Promise<number> {
  const metric = await router.registry.getSingleMetric('spillway_xds_requests_held')?.get();
  return metric?.values[0]?.value ?? 0;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function routerWithoutCatalog(): Promise<TestXdsServer> {
  const router = await startTestXdsServer();
  cleanups.push(() => router.server.stop());
  return router;
}

describe('an xDS server without a catalog yet', () => {
  it('holds SotW CDS and LDS wildcard requests instead of answering 0 resources, then sends the full set', async () => {
    const router = await routerWithoutCatalog();
    const client = AdsTestClient.sotw(router.port);
    cleanups.push(() => client.close());
    client.send({ node, type_url: CLUSTER_TYPE_URL, resource_names: [] });
    client.send({ type_url: LISTENER_TYPE_URL, resource_names: [] });
    // Either the (wrong) empty answers arrive, or the router says it holds both requests.
    await waitFor(async () => client.queued > 0 || (await heldRequests(router)) === 2, {
      message: 'an answer or two held requests',
    });
    expect(client.queued).toBe(0);
    expect(router.server.clients()).toHaveLength(1);

    router.catalog.setService(service('echo', 1));
    const cds = await client.next();
    const lds = await client.next();
    expect([cds.type_url, names(cds)]).toEqual([CLUSTER_TYPE_URL, ['echo.demo']]);
    expect([lds.type_url, names(lds)]).toEqual([LISTENER_TYPE_URL, ['echo.demo']]);
    expect(await heldRequests(router)).toBe(0);
    // Held requests are answered once, not once more by the change that opened the gate.
    client.send({
      type_url: CLUSTER_TYPE_URL,
      resource_names: [],
      version_info: cds.version_info,
      response_nonce: cds.nonce,
    });
    router.catalog.setService(service('other', 2));
    const next = await client.next();
    expect(names(next)).toEqual(['echo.demo', 'other.demo']);
    expect(client.queued).toBe(0);
  });

  it('holds Delta requests too, then sends every resource once the catalog arrives', async () => {
    const router = await routerWithoutCatalog();
    const client = AdsTestClient.delta(router.port);
    cleanups.push(() => client.close());
    client.send({ node, type_url: CLUSTER_TYPE_URL, resource_names_subscribe: ['*'] });
    await waitFor(async () => client.queued > 0 || (await heldRequests(router)) === 1, {
      message: 'an answer or a held request',
    });
    expect(client.queued).toBe(0);

    router.catalog.setService(service('echo', 1));
    const first = await client.next();
    expect(first.resources.map((resource) => resource.name)).toEqual(['echo.demo']);
    expect(first.removed_resources).toEqual([]);
  });

  it('ends a stream that sends more requests than it may hold, with UNAVAILABLE', async () => {
    const router = await routerWithoutCatalog();
    const client = AdsTestClient.sotw(router.port);
    cleanups.push(() => client.close());
    for (let i = 0; i < 200; i++) client.send({ node, type_url: CLUSTER_TYPE_URL, resource_names: [`s${i}.demo`] });
    const status = await client.ended;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(status.details).toMatch(/no catalog yet/);
    await waitFor(async () => (await heldRequests(router)) === 0, { message: 'the held requests dropped' });
  });
});

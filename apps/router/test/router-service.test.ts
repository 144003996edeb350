import { waitFor } from '@spillway/test/support/wait';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL } from '@spillway/xds';
import { AdsTestClient } from '@spillway/xds/test-support/ads-test-client';
import { endpoint, InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningRouter } from '../src/index.js';
import { startLoopbackRouter } from './support/loopback-router.js';

describe('startRouter', () => {
  let router: RunningRouter | undefined;
  const clients: { close(): void }[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await router?.stop();
    router = undefined;
  });

  async function start(catalog = new InMemoryCatalog()) {
    router = await startLoopbackRouter({ catalog });
    return { router, base: `http://127.0.0.1:${router.httpPort}` };
  }

  it('serves health, readiness, metrics and problem+json', async () => {
    const catalog = new InMemoryCatalog();
    const { base } = await start(catalog);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(JSON.stringify(await notReady.json())).toContain('no catalog yet: xDS requests are held');
    catalog.setService({
      name: 'echo',
      namespace: 'demo',
      endpoints: [endpoint('10.0.0.1', 8080, { region: 'dc1', zone: 'a' })],
    });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('spillway_xds_streams');
    const missing = await fetch(`${base}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });

  it('lists connected xDS clients with their locality and subscriptions', async () => {
    const catalog = new InMemoryCatalog();
    catalog.setService({
      name: 'echo',
      namespace: 'demo',
      endpoints: [endpoint('10.0.0.1', 8080, { region: 'dc1', zone: 'a' })],
    });
    const { router: running, base } = await start(catalog);
    const client = AdsTestClient.sotw(running.xdsPort);
    clients.push(client);
    client.send({
      node: { id: 'envoy-7', cluster: 'edge', locality: { region: 'dc1', zone: 'a', sub_zone: '' } },
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['echo.demo'],
    });
    const response = await client.next();
    client.send({
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['echo.demo'],
      version_info: response.version_info,
      response_nonce: response.nonce,
    });
    const body = await waitFor(
      async () => {
        const view = (await (await fetch(`${base}/v1/xds/clients`)).json()) as {
          clients: {
            nodeId: string;
            resources: Record<string, { ackedVersion: string | null; subscribed: string[] }>;
          }[];
        };
        const found = view.clients.find((info) => info.nodeId === 'envoy-7');
        return found?.resources['ClusterLoadAssignment']?.ackedVersion ? found : undefined;
      },
      { message: 'the ACK to show in /v1/xds/clients' },
    );
    expect(body.resources['ClusterLoadAssignment']).toMatchObject({
      subscribed: ['echo.demo'],
      ackedVersion: response.version_info,
    });
    expect(running.clients()).toHaveLength(1);
  });
});

import { waitFor } from '@spillway/test/support/wait';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../src/index.js';
import { AdsTestClient } from './support/ads-test-client.js';
import { endpoint } from './support/in-memory-catalog.js';
import { startTestXdsServer, type TestXdsServer } from './support/test-server.js';

const node = { id: 'delta-1', cluster: 'test', locality: { region: 'dc1', zone: 'a', sub_zone: '' } };
const zoneA = { region: 'dc1', zone: 'a' };

const service = (name: string, host: number, health: 'healthy' | 'unhealthy' = 'healthy') => ({
  name,
  namespace: 'demo',
  endpoints: [endpoint(`10.0.0.${host}`, 8080, zoneA, { health })],
});

describe('Delta ADS protocol', () => {
  let router: TestXdsServer;
  let client: ReturnType<typeof AdsTestClient.delta>;

  beforeEach(async () => {
    router = await startTestXdsServer();
    router.catalog.setService(service('echo', 1));
    router.catalog.setService(service('other', 2));
    client = AdsTestClient.delta(router.port);
  });

  afterEach(async () => {
    client.close();
    await router.server.stop();
  });

  it('subscribes, reports a missing name as removed, sends only what changed, and honours unsubscribe', async () => {
    client.send({
      node,
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names_subscribe: ['echo.demo', 'missing.demo'],
    });
    const first = await client.next();
    expect(first.resources.map((r) => r.name)).toEqual(['echo.demo']);
    expect(first.removed_resources).toEqual(['missing.demo']);
    const echoVersion = first.resources[0]!.version;
    client.send({ type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, response_nonce: first.nonce });

    router.catalog.setService(service('echo', 1, 'unhealthy'));
    const changed = await client.next();
    expect(changed.resources.map((r) => r.name)).toEqual(['echo.demo']);
    expect(changed.resources[0]!.version).not.toBe(echoVersion);
    expect(changed.removed_resources).toEqual([]);
    client.send({ type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, response_nonce: changed.nonce });

    client.send({ type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names_unsubscribe: ['echo.demo'] });
    const subscribed = () => router.server.clients()[0]!.resources['ClusterLoadAssignment']!.subscribed;
    await waitFor(() => !subscribed().includes('echo.demo'), { message: 'the unsubscribe to reach the router' });
    router.catalog.setService(service('echo', 1));
    // Handled in order: an (unwanted) echo update would come before the answer to this subscribe.
    client.send({ type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names_subscribe: ['other.demo'] });
    const other = await client.next();
    expect(other.resources.map((r) => r.name)).toEqual(['other.demo']);

    const [info] = router.server.clients();
    expect(info!.protocol).toBe('delta');
    expect(info!.resources['ClusterLoadAssignment']!.subscribed).toEqual(['missing.demo', 'other.demo']);
    expect(info!.resources['ClusterLoadAssignment']!.ackedVersion).toBe(changed.system_version_info);
  });

  it('sends removed_resources when a subscribed service disappears', async () => {
    client.send({ node, type_url: LISTENER_TYPE_URL, resource_names_subscribe: ['other.demo'] });
    const first = await client.next();
    expect(first.resources.map((r) => r.name)).toEqual(['other.demo']);
    router.catalog.removeService('other.demo');
    const removal = await client.next();
    expect(removal.resources).toEqual([]);
    expect(removal.removed_resources).toEqual(['other.demo']);
  });

  it('serves a legacy wildcard incrementally and resumes from initial_resource_versions', async () => {
    client.send({ node, type_url: CLUSTER_TYPE_URL });
    const all = await client.next();
    expect(all.resources.map((r) => r.name)).toEqual(['echo.demo', 'other.demo']);
    router.catalog.setService(service('third', 3));
    const added = await client.next();
    expect(added.resources.map((r) => r.name)).toEqual(['third.demo']);
    const echoVersion = all.resources[0]!.version;

    const resumed = AdsTestClient.delta(router.port);
    try {
      resumed.send({
        node: { ...node, id: 'delta-2' },
        type_url: CLUSTER_TYPE_URL,
        initial_resource_versions: { 'echo.demo': echoVersion, 'gone.demo': 'v0' },
      });
      const response = await resumed.next();
      expect(response.resources.map((r) => r.name)).toEqual(['other.demo', 'third.demo']);
      expect(response.removed_resources).toEqual(['gone.demo']);
    } finally {
      resumed.close();
    }
  });

  it('records a NACK with the client detail and does not retry it', async () => {
    client.send({ node, type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names_subscribe: ['echo.demo'] });
    const first = await client.next();
    client.send({
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      response_nonce: first.nonce,
      error_detail: { code: 3, message: 'bad assignment' },
    });
    client.send({ type_url: LISTENER_TYPE_URL, resource_names_subscribe: ['echo.demo'] });
    const next = await client.next();
    expect(next.type_url).toBe(LISTENER_TYPE_URL);
    const [info] = router.server.clients();
    expect(info!.lastNack).toMatchObject({ typeUrl: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, detail: 'bad assignment' });
    expect(await router.registry.getSingleMetricAsString('spillway_xds_nacks_total')).toContain(
      'spillway_xds_nacks_total{type="ClusterLoadAssignment"} 1',
    );
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  ENDPOINT_STALE_AFTER_SECONDS,
  envoyProtos,
  OVERPROVISIONING_FACTOR_PERCENT,
} from '../src/index.js';
import { AdsTestClient } from './support/ads-test-client.js';
import { endpoint } from './support/in-memory-catalog.js';
import { startTestXdsServer, type TestXdsServer } from './support/test-server.js';

describe('ClusterLoadAssignment freshness', () => {
  let router: TestXdsServer | undefined;
  let client: ReturnType<typeof AdsTestClient.sotw> | undefined;

  afterEach(async () => {
    client?.close();
    await router?.server.stop();
  });

  it('carries the overprovisioning factor and endpoint_stale_after, and is re-sent before it goes stale', async () => {
    router = await startTestXdsServer({ refreshIntervalMs: 100 });
    router.catalog.setService({
      name: 'echo',
      namespace: 'demo',
      endpoints: [endpoint('10.0.0.1', 8080, { region: 'dc1', zone: 'a' })],
    });
    client = AdsTestClient.sotw(router.port);
    client.send({
      node: { id: 'fresh', locality: { region: 'dc1', zone: 'a', sub_zone: '' } },
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['echo.demo'],
    });
    const first = await client.next();
    const assignment = envoyProtos().ClusterLoadAssignment.toObject(
      envoyProtos().ClusterLoadAssignment.decode(first.resources[0]!.value),
      { enums: String, longs: Number },
    );
    expect(assignment['policy']).toEqual({
      overprovisioning_factor: { value: OVERPROVISIONING_FACTOR_PERCENT },
      endpoint_stale_after: { seconds: ENDPOINT_STALE_AFTER_SECONDS },
    });
    client.send({
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['echo.demo'],
      version_info: first.version_info,
      response_nonce: first.nonce,
    });
    // Nothing changed, yet the router re-sends the same version so Envoy's stale timer restarts.
    const refreshed = await client.next();
    expect(refreshed.version_info).toBe(first.version_info);
    expect(refreshed.nonce).not.toBe(first.nonce);
  });
});

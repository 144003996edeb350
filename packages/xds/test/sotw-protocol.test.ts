import { waitFor } from '@spillway/test/support/wait';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  type DiscoveryResponseMessage,
  envoyProtos,
  LISTENER_TYPE_URL,
} from '../src/index.js';
import { AdsTestClient } from './support/ads-test-client.js';
import { endpoint } from './support/in-memory-catalog.js';
import { startTestXdsServer, type TestXdsServer } from './support/test-server.js';

const node = { id: 'raw-1', cluster: 'test', locality: { region: 'dc1', zone: 'a', sub_zone: '' } };
const zoneA = { region: 'dc1', zone: 'a' };

function echo(healthyCount: number) {
  return {
    name: 'echo',
    namespace: 'demo',
    endpoints: [
      endpoint('10.0.0.1', 8080, zoneA, { health: healthyCount >= 1 ? 'healthy' : 'unhealthy' }),
      endpoint('10.0.0.2', 8080, zoneA, { health: healthyCount >= 2 ? 'healthy' : 'unhealthy' }),
    ],
  };
}

function decodeNames(response: DiscoveryResponseMessage): string[] {
  const protos = envoyProtos();
  return response.resources.map((any) => {
    if (any.type_url === CLUSTER_TYPE_URL) return protos.Cluster.decode(any.value).toJSON().name as string;
    if (any.type_url === LISTENER_TYPE_URL) return protos.Listener.decode(any.value).toJSON().name as string;
    return protos.ClusterLoadAssignment.decode(any.value).toJSON().cluster_name as string;
  });
}

describe('SotW ADS protocol', () => {
  let router: TestXdsServer;
  let client: ReturnType<typeof AdsTestClient.sotw>;

  beforeEach(async () => {
    router = await startTestXdsServer();
    router.catalog.setService(echo(2));
    router.catalog.setService({ name: 'other', namespace: 'demo', endpoints: [endpoint('10.0.1.1', 8080, zoneA)] });
    client = AdsTestClient.sotw(router.port);
  });

  afterEach(async () => {
    client.close();
    await router.server.stop();
  });

  it('answers a named request, stays quiet on ACK, and records a NACK without re-sending', async () => {
    client.send({ node, type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names: ['echo.demo'] });
    const first = await client.next();
    expect(decodeNames(first)).toEqual(['echo.demo']);
    const v1 = first.version_info;

    client.send({
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['echo.demo'],
      version_info: v1,
      response_nonce: first.nonce,
    });
    router.catalog.setService(echo(1));
    const second = await client.next();
    expect(second.version_info).not.toBe(v1);

    client.send({
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['echo.demo'],
      version_info: v1,
      response_nonce: second.nonce,
      error_detail: { code: 3, message: 'endpoints[0]: duplicate locality' },
    });
    // Requests on one stream are handled in order: if the NACK had triggered a re-send, it
    // would arrive before the answer to this next request.
    client.send({ type_url: CLUSTER_TYPE_URL, resource_names: ['echo.demo'] });
    const cds = await client.next();
    expect(cds.type_url).toBe(CLUSTER_TYPE_URL);

    const [info] = router.server.clients();
    expect(info!.nodeId).toBe('raw-1');
    expect(info!.locality).toEqual({ region: 'dc1', zone: 'a', subZone: '' });
    expect(info!.resources['ClusterLoadAssignment']!.ackedVersion).toBe(v1);
    expect(info!.lastNack).toMatchObject({
      detail: 'endpoints[0]: duplicate locality',
      keptVersion: v1,
      rejectedVersion: second.version_info,
    });
    const metrics = await router.registry.getSingleMetricAsString('spillway_xds_nacks_total');
    expect(metrics).toContain('spillway_xds_nacks_total{type="ClusterLoadAssignment"} 1');
    // Two EDS responses and one CDS so far.
    const responses = await router.registry.getSingleMetricAsString('spillway_xds_responses_total');
    expect(responses).toContain('spillway_xds_responses_total{protocol="sotw",type="ClusterLoadAssignment"} 2');
    expect(responses).toContain('spillway_xds_responses_total{protocol="sotw",type="Cluster"} 1');
    // The CDS answer ACKed: counted (the first EDS "ACK" carried a nonce already superseded).
    client.send({
      type_url: CLUSTER_TYPE_URL,
      resource_names: ['echo.demo'],
      version_info: cds.version_info,
      response_nonce: cds.nonce,
    });
    const acked = 'spillway_xds_acks_total{type="Cluster"} 1';
    await waitFor(
      async () => (await router.registry.getSingleMetricAsString('spillway_xds_acks_total')).includes(acked),
      {
        message: 'the CDS ACK to be counted',
      },
    );

    // The content changes again: the client gets the new version despite its NACK.
    router.catalog.setService(echo(2));
    const third = await client.next();
    expect(third.type_url).toBe(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL);
    expect(third.version_info).toBe(v1);
  });

  it('answers a re-request at the same version: new names with the latest nonce, or no nonce at all', async () => {
    client.send({ node, type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names: ['echo.demo'] });
    const first = await client.next();
    client.send({
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['echo.demo', 'other.demo'],
      version_info: first.version_info,
      response_nonce: first.nonce,
    });
    const widened = await client.next();
    expect(decodeNames(widened)).toEqual(['echo.demo', 'other.demo']);

    client.send({
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['echo.demo', 'other.demo'],
      version_info: widened.version_info,
    });
    const again = await client.next();
    expect(again.version_info).toBe(widened.version_info);
    expect(again.nonce).not.toBe(widened.nonce);
  });

  it('ignores a request with a stale nonce', async () => {
    client.send({ node, type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names: ['echo.demo'] });
    const first = await client.next();
    router.catalog.setService(echo(1));
    const second = await client.next();
    // Stale: answers the first response and asks for a new name; must not be answered.
    client.send({
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['other.demo'],
      version_info: first.version_info,
      response_nonce: first.nonce,
    });
    client.send({ type_url: LISTENER_TYPE_URL, resource_names: ['echo.demo'] });
    const next = await client.next();
    expect(next.type_url).toBe(LISTENER_TYPE_URL);
    expect(router.server.clients()[0]!.resources['ClusterLoadAssignment']!.subscribed).toEqual(['echo.demo']);
    expect(second.nonce).not.toBe(first.nonce);
  });

  it('serves a wildcard subscription and drops a removed service from the next state of the world', async () => {
    client.send({ node, type_url: CLUSTER_TYPE_URL, resource_names: [] });
    const all = await client.next();
    expect(decodeNames(all)).toEqual(['echo.demo', 'other.demo']);
    client.send({
      type_url: CLUSTER_TYPE_URL,
      resource_names: [],
      version_info: all.version_info,
      response_nonce: all.nonce,
    });
    router.catalog.removeService('other.demo');
    const after = await client.next();
    expect(decodeNames(after)).toEqual(['echo.demo']);
    await waitFor(() => router.server.clients()[0]!.resources['Cluster']!.subscribed[0] === '*');
  });

  it('sends only the assignments that changed, and re-sends a NACKed one at the next change', async () => {
    client.send({ node, type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names: ['echo.demo', 'other.demo'] });
    const first = await client.next();
    expect(decodeNames(first)).toEqual(['echo.demo', 'other.demo']);
    const ack = (response: DiscoveryResponseMessage, error?: string) =>
      client.send({
        type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
        resource_names: ['echo.demo', 'other.demo'],
        version_info: error ? first.version_info : response.version_info,
        response_nonce: response.nonce,
        ...(error ? { error_detail: { code: 3, message: error } } : {}),
      });
    ack(first);

    // EDS is incremental in SotW: an unchanged assignment is not repeated.
    router.catalog.setService(echo(1));
    const onlyEcho = await client.next();
    expect(decodeNames(onlyEcho)).toEqual(['echo.demo']);
    expect(onlyEcho.version_info).not.toBe(first.version_info);

    // The client rejects it and keeps its old echo.demo: the next change must send echo.demo
    // again even though only other.demo changed.
    ack(onlyEcho, 'rejected');
    await waitFor(() => router.server.clients()[0]?.lastNack?.detail === 'rejected', { message: 'the NACK' });
    router.catalog.setService({ name: 'other', namespace: 'demo', endpoints: [endpoint('10.0.1.2', 8080, zoneA)] });
    const afterNack = await client.next();
    expect(decodeNames(afterNack)).toEqual(['echo.demo', 'other.demo']);
    ack(afterNack);
    await waitFor(
      () => router.server.clients()[0]?.resources['ClusterLoadAssignment']?.ackedVersion === afterNack.version_info,
      { message: 'the ACK' },
    );
    router.catalog.setService(echo(2));
    const ackedThenChanged = await client.next();
    expect(decodeNames(ackedThenChanged)).toEqual(['echo.demo']);
  });

  it('encodes each assignment once per view and shares it across clients', async () => {
    client.send({ node, type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names: ['echo.demo'] });
    const first = await client.next();
    const before = router.server.encodes;
    const twin = AdsTestClient.sotw(router.port);
    const elsewhere = AdsTestClient.sotw(router.port);
    try {
      twin.send({
        node: { ...node, id: 'raw-2' },
        type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
        resource_names: ['echo.demo'],
      });
      const same = await twin.next();
      expect(Buffer.from(same.resources[0]!.value).equals(Buffer.from(first.resources[0]!.value))).toBe(true);
      expect(router.server.encodes).toBe(before);
      const otherZone = { ...node, id: 'raw-3', locality: { region: 'dc1', zone: 'b', sub_zone: '' } };
      elsewhere.send({ node: otherZone, type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names: ['echo.demo'] });
      await elsewhere.next();
      expect(router.server.encodes).toBe(before + 1);
      // A change to another service re-encodes nothing these clients watch; the Listener asked
      // for next is encoded once together with its Route and Cluster (3), nothing else.
      router.catalog.setService({ name: 'other', namespace: 'demo', endpoints: [endpoint('10.0.1.2', 8080, zoneA)] });
      client.send({ type_url: LISTENER_TYPE_URL, resource_names: ['echo.demo'] });
      await client.next();
      expect(router.server.encodes).toBe(before + 1 + 3);
    } finally {
      twin.close();
      elsewhere.close();
    }
  });
});

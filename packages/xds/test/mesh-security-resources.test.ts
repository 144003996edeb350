import type { MeshSecurity } from '@spillway/model';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { describe, expect, it } from 'vitest';
import { type ClientNode, clientNode } from '../src/client-node.js';
import { envoyProtos } from '../src/envoy-protos.js';
import { parseServerListenerName, serverListenerName } from '../src/resources/server-listener-resource.js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../src/type-urls.js';
import { ViewCache } from '../src/view-cache.js';
import { endpoint, InMemoryCatalog } from './support/in-memory-catalog.js';

/** What the router publishes for mesh security, decoded as a client would decode it. */
const security: MeshSecurity = {
  trustDomain: 'lab',
  certificateProvider: 'workload',
  trustBundleSecret: 'ROOTCA',
  sdsCluster: 'sds-grpc',
  services: [
    {
      service: 'echo.demo',
      mtls: 'STRICT',
      identity: 'spiffe://lab/ns/demo/sa/echo',
      allowedCallers: ['spiffe://lab/ns/demo/sa/*', 'spiffe://lab/ns/ops/sa/tool'],
    },
    { service: 'open.demo', mtls: 'PERMISSIVE', identity: 'spiffe://lab/ns/demo/sa/open', allowedCallers: [] },
  ],
};
const grpcNode: ClientNode = { ...clientNode(undefined), kind: 'grpc' };
const envoyNode: ClientNode = { ...clientNode(undefined), kind: 'envoy' };

function setUp() {
  const catalog = new InMemoryCatalog();
  catalog.setService({
    name: 'echo',
    namespace: 'demo',
    endpoints: [endpoint('10.0.0.7', 50051, { region: 'dc1', zone: 'a' })],
  });
  catalog.setService({
    name: 'open',
    namespace: 'demo',
    endpoints: [endpoint('10.0.0.8', 50051, { region: 'dc1', zone: 'a' })],
  });
  catalog.setService({
    name: 'bare',
    namespace: 'demo',
    endpoints: [endpoint('10.0.0.9', 50051, { region: 'dc1', zone: 'a' })],
  });
  const cache = new ViewCache(catalog, new InMemoryTrafficPolicyStore(), { security });
  cache.start();
  return { catalog, cache };
}

// biome-ignore lint/suspicious/noExplicitAny: decoded protobuf JSON is checked field by field below
type Json = any;
const decode = (type: 'Cluster' | 'Listener', bytes: Uint8Array): Json => envoyProtos()[type].decode(bytes).toJSON();
/** protobufjs expands an Any it knows into its message with an `@type` field: drop that. */
const decodeAny = (any: Json): Json => {
  const { '@type': _type, ...message } = any;
  return message;
};

describe('mesh security resources', () => {
  it('a STRICT Cluster for gRPC names the certificate provider and checks the server identity', () => {
    const { cache } = setUp();
    const cluster = decode(
      'Cluster',
      cache.resource(CLUSTER_TYPE_URL, 'echo.demo', grpcNode)?.value ?? new Uint8Array(),
    );
    expect(cluster.transport_socket.name).toBe('envoy.transport_sockets.tls');
    const tls = decodeAny(cluster.transport_socket.typed_config).common_tls_context;
    expect(tls.tls_certificate_provider_instance).toEqual({ instance_name: 'workload' });
    expect(tls.combined_validation_context.default_validation_context).toEqual({
      ca_certificate_provider_instance: { instance_name: 'workload' },
      match_subject_alt_names: [{ exact: 'spiffe://lab/ns/demo/sa/echo' }],
    });
  });

  it('the same Cluster for Envoy refers to SDS secrets by name and matches the URI SAN', () => {
    const { cache } = setUp();
    const cluster = decode(
      'Cluster',
      cache.resource(CLUSTER_TYPE_URL, 'echo.demo', envoyNode)?.value ?? new Uint8Array(),
    );
    const tls = decodeAny(cluster.transport_socket.typed_config).common_tls_context;
    expect(tls.tls_certificate_sds_secret_configs[0].name).toBe('workload');
    expect(
      tls.tls_certificate_sds_secret_configs[0].sds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name,
    ).toBe('sds-grpc');
    expect(tls.combined_validation_context.validation_context_sds_secret_config.name).toBe('ROOTCA');
    expect(tls.combined_validation_context.default_validation_context.match_typed_subject_alt_names).toEqual([
      { san_type: 'URI', matcher: { exact: 'spiffe://lab/ns/demo/sa/echo' } },
    ]);
  });

  it('a service without a security entry gets a plaintext Cluster, shared by both dialects', () => {
    const { cache } = setUp();
    const forGrpc = cache.resource(CLUSTER_TYPE_URL, 'bare.demo', grpcNode);
    expect(decode('Cluster', forGrpc?.value ?? new Uint8Array()).transport_socket).toBeUndefined();
    expect(cache.resource(CLUSTER_TYPE_URL, 'bare.demo', envoyNode)).toBe(forGrpc);
  });

  it('publishes the server Listener of a known address: mTLS required, RBAC from allowedCallers', () => {
    const { cache } = setUp();
    const name = 'grpc/server?xds.resource.listening_address=10.0.0.7:50051';
    const listener = decode('Listener', cache.resource(LISTENER_TYPE_URL, name, grpcNode)?.value ?? new Uint8Array());
    expect(listener.name).toBe(name);
    expect(listener.address.socket_address).toEqual({ address: '10.0.0.7', port_value: 50051 });
    const [chain] = listener.filter_chains;
    const downstream = decodeAny(chain.transport_socket.typed_config);
    expect(downstream.require_client_certificate).toEqual({ value: true });
    expect(downstream.common_tls_context.validation_context.ca_certificate_provider_instance.instance_name).toBe(
      'workload',
    );
    const hcm = decodeAny(chain.filters[0].typed_config);
    expect(hcm.route_config.virtual_hosts[0].routes[0].non_forwarding_action).toEqual({});
    expect(hcm.http_filters.map((filter: Json) => filter.name)).toEqual([
      'envoy.filters.http.rbac',
      'envoy.filters.http.router',
    ]);
    const rbac = decodeAny(hcm.http_filters[0].typed_config);
    expect(rbac.rules.action).toBe('ALLOW');
    expect(rbac.rules.policies['spillway-allowed-callers'].principals[0].or_ids.ids).toEqual([
      { authenticated: { principal_name: { prefix: 'spiffe://lab/ns/demo/sa/' } } },
      { authenticated: { principal_name: { exact: 'spiffe://lab/ns/ops/sa/tool' } } },
    ]);
  });

  it('PERMISSIVE asks for a client certificate without requiring one; no callers means no RBAC filter', () => {
    const { cache } = setUp();
    const name = serverListenerName({ address: '10.0.0.8', port: 50051 });
    const [chain] = decode(
      'Listener',
      cache.resource(LISTENER_TYPE_URL, name, grpcNode)?.value ?? new Uint8Array(),
    ).filter_chains;
    expect(decodeAny(chain.transport_socket.typed_config).require_client_certificate).toEqual({ value: false });
    expect(decodeAny(chain.filters[0].typed_config).http_filters.map((filter: Json) => filter.name)).toEqual([
      'envoy.filters.http.router',
    ]);
  });

  it('an address the catalog does not know has no Listener; one that leaves loses it and streams hear of it', () => {
    const { catalog, cache } = setUp();
    const name = serverListenerName({ address: '10.0.0.7', port: 50051 });
    expect(
      cache.resource(LISTENER_TYPE_URL, serverListenerName({ address: '10.9.9.9', port: 1 }), grpcNode),
    ).toBeUndefined();
    expect(cache.resource(LISTENER_TYPE_URL, name, grpcNode)).toBeDefined();
    const heard: string[] = [];
    // Two xDS-enabled servers' streams, each watching its own Listener by name.
    const moved = serverListenerName({ address: '10.0.0.70', port: 50051 });
    for (const watched of [name, moved]) {
      cache.watch(LISTENER_TYPE_URL, grpcNode, (names) => heard.push(...names)).add(watched);
    }
    catalog.setService({
      name: 'echo',
      namespace: 'demo',
      endpoints: [endpoint('10.0.0.70', 50051, { region: 'dc1', zone: 'a' })],
    });
    expect(heard).toContain(name);
    expect(heard).toContain(moved);
    expect(cache.resource(LISTENER_TYPE_URL, name, grpcNode)).toBeUndefined();
    expect(cache.names(LISTENER_TYPE_URL)).not.toContain(name);
  });

  it('parses only well-formed server Listener names', () => {
    expect(parseServerListenerName('grpc/server?xds.resource.listening_address=[::1]:8080')).toEqual({
      address: '::1',
      port: 8080,
    });
    expect(parseServerListenerName('grpc/server?xds.resource.listening_address=1.2.3.4:0')).toBeUndefined();
    expect(parseServerListenerName('grpc/server?xds.resource.listening_address=host:80')).toBeUndefined();
    expect(parseServerListenerName('echo.demo')).toBeUndefined();
  });
});

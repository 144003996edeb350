import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

/** The .proto files Spillway encodes or decodes; their imports are resolved from the include dirs. */
const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/load_stats/v3/lrs.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
];

/** Reflected message types, with field names kept in proto snake_case (as Envoy's docs spell them). */
export interface EnvoyProtos {
  readonly DiscoveryRequest: protobuf.Type;
  readonly DiscoveryResponse: protobuf.Type;
  readonly DeltaDiscoveryRequest: protobuf.Type;
  readonly DeltaDiscoveryResponse: protobuf.Type;
  readonly LoadStatsRequest: protobuf.Type;
  readonly LoadStatsResponse: protobuf.Type;
  readonly Listener: protobuf.Type;
  readonly HttpConnectionManager: protobuf.Type;
  readonly Router: protobuf.Type;
  readonly RouteConfiguration: protobuf.Type;
  readonly Cluster: protobuf.Type;
  readonly ClusterLoadAssignment: protobuf.Type;
  readonly UpstreamTlsContext: protobuf.Type;
  readonly DownstreamTlsContext: protobuf.Type;
  readonly Rbac: protobuf.Type;
}

let loaded: EnvoyProtos | undefined;

/**
 * Envoy's API protos as shipped inside @grpc/grpc-js-xds (deps/envoy-api, xds, googleapis,
 * protoc-gen-validate), so Spillway encodes exactly the messages its gRPC clients decode.
 * Loaded once per process (about 200 ms).
 */
export function envoyProtos(): EnvoyProtos {
  loaded ??= load();
  return loaded;
}

function load(): EnvoyProtos {
  const root = new protobuf.Root();
  const includeDirs = protoIncludeDirs();
  root.resolvePath = (_origin, target) => resolveInclude(target, includeDirs);
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  const type = (name: string) => root.lookupType(name);
  return {
    DiscoveryRequest: type('envoy.service.discovery.v3.DiscoveryRequest'),
    DiscoveryResponse: type('envoy.service.discovery.v3.DiscoveryResponse'),
    DeltaDiscoveryRequest: type('envoy.service.discovery.v3.DeltaDiscoveryRequest'),
    DeltaDiscoveryResponse: type('envoy.service.discovery.v3.DeltaDiscoveryResponse'),
    LoadStatsRequest: type('envoy.service.load_stats.v3.LoadStatsRequest'),
    LoadStatsResponse: type('envoy.service.load_stats.v3.LoadStatsResponse'),
    Listener: type('envoy.config.listener.v3.Listener'),
    HttpConnectionManager: type('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'),
    Router: type('envoy.extensions.filters.http.router.v3.Router'),
    RouteConfiguration: type('envoy.config.route.v3.RouteConfiguration'),
    Cluster: type('envoy.config.cluster.v3.Cluster'),
    ClusterLoadAssignment: type('envoy.config.endpoint.v3.ClusterLoadAssignment'),
    UpstreamTlsContext: type('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext'),
    DownstreamTlsContext: type('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext'),
    Rbac: type('envoy.extensions.filters.http.rbac.v3.RBAC'),
  };
}

function protoIncludeDirs(): string[] {
  const xdsRoot = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const deps = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => path.join(xdsRoot, 'deps', dir));
  // google/protobuf/descriptor.proto (imported by the validate and udpa annotations) ships with protobufjs.
  return [...deps, path.dirname(require.resolve('protobufjs/package.json'))];
}

function resolveInclude(target: string, includeDirs: readonly string[]): string {
  if (path.isAbsolute(target)) return target;
  for (const dir of includeDirs) {
    const candidate = path.join(dir, target);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`proto import ${target} not found in ${includeDirs.join(', ')}`);
}

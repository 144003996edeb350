import type { MeshSecurity, ServiceSecurity } from '@spillway/model';
import { type EncodedResource, encodeMessage, encodeResource } from '../encoded-resource.js';
import { envoyProtos } from '../envoy-protos.js';
import { HTTP_CONNECTION_MANAGER_TYPE_URL, LISTENER_TYPE_URL, ROUTER_TYPE_URL } from '../type-urls.js';
import { downstreamTransportSocket, rbacHttpFilter } from './tls-contexts.js';

/** gRPC's default `server_listener_resource_name_template`, with `%s` = `IP:PORT` (`[IPv6]:PORT`). */
export const SERVER_LISTENER_PREFIX = 'grpc/server?xds.resource.listening_address=';

export interface ListeningAddress {
  readonly address: string;
  readonly port: number;
}

/** `grpc/server?xds.resource.listening_address=10.0.0.7:50051` → its address; anything else → undefined. */
export function parseServerListenerName(name: string): ListeningAddress | undefined {
  if (!name.startsWith(SERVER_LISTENER_PREFIX)) return undefined;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(name.slice(SERVER_LISTENER_PREFIX.length));
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) return undefined;
  return { address: (match[1] ?? match[2]) as string, port };
}

export function serverListenerName({ address, port }: ListeningAddress): string {
  return `${SERVER_LISTENER_PREFIX}${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * The Listener an xDS-enabled gRPC server (A36) asks for about its own listening address: one
 * filter chain whose HttpConnectionManager has an inline route config with a non-forwarding
 * route (servers do not forward), the RBAC filter for `allowedCallers`, and a
 * DownstreamTlsContext unless the service's mode is DISABLE (or it has no security entry).
 */
export function serverListenerResource(
  where: ListeningAddress,
  mesh: MeshSecurity | undefined,
  entry: ServiceSecurity | undefined,
): EncodedResource {
  const protos = envoyProtos();
  const secured = mesh && entry && entry.mtls !== 'DISABLE' ? { mesh, entry } : undefined;
  const rbac = secured ? rbacHttpFilter(secured.entry) : undefined;
  const httpConnectionManager = encodeMessage(protos.HttpConnectionManager, {
    stat_prefix: 'inbound',
    route_config: {
      name: 'inbound',
      virtual_hosts: [
        { name: 'inbound', domains: ['*'], routes: [{ match: { prefix: '' }, non_forwarding_action: {} }] },
      ],
    },
    http_filters: [
      ...(rbac ? [rbac] : []),
      {
        name: 'envoy.filters.http.router',
        typed_config: { type_url: ROUTER_TYPE_URL, value: encodeMessage(protos.Router, {}) },
      },
    ],
  });
  const name = serverListenerName(where);
  return encodeResource(protos.Listener, LISTENER_TYPE_URL, name, {
    name,
    address: { socket_address: { address: where.address, port_value: where.port } },
    filter_chains: [
      {
        name: secured ? `spillway-${secured.entry.mtls.toLowerCase()}` : 'spillway-plaintext',
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: { type_url: HTTP_CONNECTION_MANAGER_TYPE_URL, value: httpConnectionManager },
          },
        ],
        ...(secured ? { transport_socket: downstreamTransportSocket(secured.mesh, secured.entry, 'grpc') } : {}),
      },
    ],
  });
}

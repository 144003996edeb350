/** The four resource types Spillway serves, by their xDS type URLs. */
export const LISTENER_TYPE_URL = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const ROUTE_CONFIGURATION_TYPE_URL = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const CLUSTER_TYPE_URL = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const CLUSTER_LOAD_ASSIGNMENT_TYPE_URL = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

export const HTTP_CONNECTION_MANAGER_TYPE_URL =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const RBAC_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
export const UPSTREAM_TLS_CONTEXT_TYPE_URL =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
export const DOWNSTREAM_TLS_CONTEXT_TYPE_URL =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

export const SERVED_TYPE_URLS = [
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  CLUSTER_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
] as const;
export type ServedTypeUrl = (typeof SERVED_TYPE_URLS)[number];

export function isServedTypeUrl(typeUrl: string): typeUrl is ServedTypeUrl {
  return (SERVED_TYPE_URLS as readonly string[]).includes(typeUrl);
}

/** Short names for logs, metrics and the clients view. */
export function typeName(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
}

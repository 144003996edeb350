import type { ServiceKey } from '@spillway/model';
import { type EncodedResource, encodeMessage, encodeResource } from '../encoded-resource.js';
import { envoyProtos } from '../envoy-protos.js';
import { HTTP_CONNECTION_MANAGER_TYPE_URL, LISTENER_TYPE_URL, ROUTER_TYPE_URL } from '../type-urls.js';

/**
 * Listener `NAME.NS`: an API listener (no socket) whose HttpConnectionManager takes its routes
 * from RDS `NAME.NS` over ADS and ends with the router filter, which is what a gRPC client
 * dialling `xds:///NAME.NS` looks up.
 */
export function listenerResource(service: ServiceKey): EncodedResource {
  const protos = envoyProtos();
  const httpConnectionManager = encodeMessage(protos.HttpConnectionManager, {
    stat_prefix: service,
    rds: { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: service },
    http_filters: [
      {
        name: 'envoy.filters.http.router',
        typed_config: { type_url: ROUTER_TYPE_URL, value: encodeMessage(protos.Router, {}) },
      },
    ],
  });
  return encodeResource(protos.Listener, LISTENER_TYPE_URL, service, {
    name: service,
    api_listener: { api_listener: { type_url: HTTP_CONNECTION_MANAGER_TYPE_URL, value: httpConnectionManager } },
  });
}

import type { ServiceKey } from '@spillway/model';
import { type EncodedResource, encodeResource } from '../encoded-resource.js';
import { envoyProtos } from '../envoy-protos.js';
import { ROUTE_CONFIGURATION_TYPE_URL } from '../type-urls.js';

/** RouteConfiguration `NAME.NS`: one virtual host for `NAME.NS` (and `*`), every path to cluster `NAME.NS`. */
export function routeConfigurationResource(service: ServiceKey): EncodedResource {
  return encodeResource(envoyProtos().RouteConfiguration, ROUTE_CONFIGURATION_TYPE_URL, service, {
    name: service,
    virtual_hosts: [
      {
        name: service,
        domains: [service, '*'],
        routes: [{ match: { prefix: '' }, route: { cluster: service } }],
      },
    ],
  });
}

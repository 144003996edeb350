import type { ServiceKey } from '@spillway/model';
import { type EncodedResource, encodeResource } from '../encoded-resource.js';
import { envoyProtos } from '../envoy-protos.js';
import { CLUSTER_TYPE_URL } from '../type-urls.js';

/**
 * Cluster `NAME.NS`: endpoints from EDS over ADS (resource name = cluster name), round robin
 * inside a locality, and `locality_weighted_lb_config` so Envoy honours the locality weights
 * that carry the burst share (gRPC always does).
 */
export function clusterResource(service: ServiceKey): EncodedResource {
  return encodeResource(envoyProtos().Cluster, CLUSTER_TYPE_URL, service, {
    name: service,
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    connect_timeout: { seconds: 5 },
    lb_policy: 'ROUND_ROBIN',
    common_lb_config: { locality_weighted_lb_config: {} },
  });
}

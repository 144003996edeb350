import type { MeshSecurity, ServiceKey, ServiceSecurity } from '@spillway/model';
import { type EncodedResource, encodeResource } from '../encoded-resource.js';
import { envoyProtos } from '../envoy-protos.js';
import { CLUSTER_TYPE_URL } from '../type-urls.js';
import { type TlsDialect, upstreamTransportSocket } from './tls-contexts.js';

/** A service's mesh security as one client dialect should see it on the Cluster. */
export interface ClusterSecurity {
  readonly mesh: MeshSecurity;
  readonly entry: ServiceSecurity;
  readonly dialect: TlsDialect;
}

/**
 * Cluster `NAME.NS`: endpoints from EDS over ADS (resource name = cluster name), round robin
 * inside a locality, and `locality_weighted_lb_config` so Envoy honours the locality weights
 * that carry the burst share (gRPC always does). With mesh security (STRICT or PERMISSIVE) the
 * Cluster carries the UpstreamTlsContext: every endpoint, on-prem or cloud, is reached with the
 * same certificate and the same check of the server's identity. With `loadReporting`, the
 * Cluster names this control plane as its LRS server (`lrs_server: { self: {} }`, the only form
 * gRPC accepts, gRFC A27), so gRPC clients report their per-locality load back on the xDS port.
 */
export function clusterResource(
  service: ServiceKey,
  security?: ClusterSecurity,
  loadReporting = false,
): EncodedResource {
  const tls = security && security.entry.mtls !== 'DISABLE' ? security : undefined;
  return encodeResource(envoyProtos().Cluster, CLUSTER_TYPE_URL, service, {
    name: service,
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    connect_timeout: { seconds: 5 },
    lb_policy: 'ROUND_ROBIN',
    common_lb_config: { locality_weighted_lb_config: {} },
    ...(loadReporting ? { lrs_server: { self: {} } } : {}),
    ...(tls ? { transport_socket: upstreamTransportSocket(tls.mesh, tls.entry, tls.dialect) } : {}),
  });
}

import type { LoadAssignment } from '@spillway/eds';
import type { ServiceKey } from '@spillway/model';
import { type EncodedResource, encodeResource } from '../encoded-resource.js';
import { envoyProtos } from '../envoy-protos.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL } from '../type-urls.js';

/** Envoy's default, stated explicitly so Envoy and the EDS maths agree on it (percent). */
export const OVERPROVISIONING_FACTOR_PERCENT = 140;

/**
 * How long Envoy may keep using an assignment without hearing from the router: 5 minutes.
 * Long enough to ride out a router restart or a short partition without dropping traffic,
 * short enough that a client cut off for good stops routing to endpoints that may be gone.
 * The router re-sends every assignment well within this period (see XdsServerOptions), so a
 * live router never lets a quiet assignment go stale. gRPC ignores the field.
 */
export const ENDPOINT_STALE_AFTER_SECONDS = 300;

/** ClusterLoadAssignment `NAME.NS` for one view, from the pure EDS computation. */
export function clusterLoadAssignmentResource(service: ServiceKey, assignment: LoadAssignment): EncodedResource {
  return encodeResource(envoyProtos().ClusterLoadAssignment, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, service, {
    cluster_name: service,
    endpoints: assignment.priorities.flatMap((level, priority) =>
      level.localities.map((locality) => ({
        locality: {
          region: locality.locality.region,
          zone: locality.locality.zone,
          sub_zone: locality.locality.subZone,
        },
        lb_endpoints: locality.endpoints.map((endpoint) => ({
          endpoint: { address: { socket_address: { address: endpoint.address, port_value: endpoint.port } } },
          health_status: endpoint.health,
          load_balancing_weight: { value: endpoint.weight },
        })),
        load_balancing_weight: { value: locality.weight },
        priority,
      })),
    ),
    policy: {
      overprovisioning_factor: { value: OVERPROVISIONING_FACTOR_PERCENT },
      endpoint_stale_after: { seconds: ENDPOINT_STALE_AFTER_SECONDS },
    },
  });
}

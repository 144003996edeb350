import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, envoyProtos } from '../../src/index.js';
import { AdsTestClient } from './ads-test-client.js';

/** A ClusterLoadAssignment as protobufjs' toJSON gives it (snake_case, enums as names). */
export interface AssignmentJson {
  readonly endpoints?: readonly {
    readonly locality: { readonly region?: string; readonly zone: string };
    readonly priority?: number;
    readonly load_balancing_weight?: number;
    readonly lb_endpoints: readonly {
      readonly health_status?: string;
      readonly endpoint: { readonly address: { readonly socket_address: { readonly port_value: number } } };
    }[];
  }[];
}

/** The assignment of `service` that a fresh SotW client at `locality` receives first. */
export async function fetchAssignment(
  xdsPort: number,
  service: string,
  locality: { region: string; zone: string },
  timeoutMs = 20_000,
): Promise<AssignmentJson> {
  const ads = AdsTestClient.sotw(xdsPort);
  try {
    ads.send({
      node: { id: `probe-${Date.now()}-${Math.random()}`, locality: { ...locality, sub_zone: '' } },
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: [service],
    });
    const response = await ads.next(timeoutMs);
    return envoyProtos().ClusterLoadAssignment.decode(response.resources[0]!.value).toJSON() as AssignmentJson;
  } finally {
    ads.close();
  }
}

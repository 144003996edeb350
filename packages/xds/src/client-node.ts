import { Environment, type Locality } from '@spillway/model';
import type { NodeMessage } from './discovery-messages.js';

/** Node metadata key through which a client may state its environment (`onprem` or `cloud`). */
export const ENVIRONMENT_METADATA_KEY = 'spillway.environment';

/** gRPC sends this client feature; Envoy does not. Shown in the clients view. */
const GRPC_FEATURE = 'envoy.lb.does_not_support_overprovisioning';

/** Who is on the other end of a stream, from the `node` of its first request. */
export interface ClientNode {
  readonly id: string;
  readonly cluster: string;
  readonly locality: Locality;
  /** As stated in node metadata; inferred per service by the EDS computation otherwise. */
  readonly environment?: Environment;
  readonly userAgent: string;
  readonly kind: 'grpc' | 'envoy';
}

export function clientNode(node: NodeMessage | null | undefined): ClientNode {
  const stated = Environment.safeParse(node?.metadata?.fields?.[ENVIRONMENT_METADATA_KEY]?.string_value);
  return {
    id: node?.id ?? '',
    cluster: node?.cluster ?? '',
    locality: {
      region: node?.locality?.region ?? '',
      zone: node?.locality?.zone ?? '',
      subZone: node?.locality?.sub_zone ?? '',
    },
    ...(stated.success ? { environment: stated.data } : {}),
    userAgent: node?.user_agent_name ?? '',
    kind: node?.client_features?.includes(GRPC_FEATURE) ? 'grpc' : 'envoy',
  };
}

/**
 * Clients with the same key see the same ClusterLoadAssignments, so they share encoded bytes.
 * Node id and client kind are deliberately not part of it: the EDS maths serves Envoy and gRPC
 * with the same weights.
 */
export function viewKey(node: ClientNode): string {
  let key = viewKeys.get(node);
  if (key === undefined) {
    const { region, zone, subZone } = node.locality;
    key = `${region}/${zone}/${subZone}|${node.environment ?? ''}`;
    viewKeys.set(node, key);
  }
  return key;
}

/** A stream asks for its view key on every resource it is sent: built once per node, not per lookup. */
const viewKeys = new WeakMap<ClientNode, string>();

import { isIPv4, isIPv6 } from 'node:net';
import {
  type Endpoint,
  type Environment,
  endpointId,
  HEALTH_RANK,
  type Health,
  parseServiceKey,
  type ServiceKey,
} from '@spillway/model';
import { describeIssues, EndpointSlice, type SliceEndpoint, type SlicePort } from './schema.js';

/** The label the EndpointSlice controller sets to the owning Service's name. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'] as const;
const REGION_LABELS = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region'] as const;

/** What a Node contributes to its endpoints' locality. */
export interface NodeTopology {
  readonly zone: string | undefined;
  readonly region: string | undefined;
}

/** An EndpointSlice reduced to what the catalog needs, keyed `namespace/name`. */
export interface ParsedSlice {
  readonly id: string;
  readonly serviceKey: ServiceKey;
  readonly addressType: 'IPv4' | 'IPv6';
  readonly port: number;
  readonly endpoints: readonly SliceEndpoint[];
}

/** Why a slice contributes nothing: `debug` for normal cases (FQDN, no service), `warn` for bad data. */
export type SliceSkip = { readonly level: 'debug' | 'warn'; readonly reason: string };

export function sliceId(namespace: string | null | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export function nodeTopology(labels: Readonly<Record<string, string>> | null | undefined): NodeTopology {
  const first = (keys: readonly string[]) => keys.map((key) => labels?.[key]).find((value) => value);
  return { zone: first(ZONE_LABELS), region: first(REGION_LABELS) };
}

/**
 * The port Spillway routes to: the slice port named `grpc`, else `http`, else the first port.
 * A slice carries one port list for all its endpoints; xDS wants one port per endpoint, and
 * gRPC clients (the main consumers) want the gRPC port when a Service exposes several.
 */
export function choosePort(ports: readonly SlicePort[]): number | undefined {
  const named = (name: string) => ports.find((port) => port.name === name)?.port;
  return named('grpc') ?? named('http') ?? ports[0]?.port ?? undefined;
}

/**
 * Endpoint conditions → catalog health. The API says a nil `ready` means ready; `terminating`
 * endpoints (serving or not) finish in-flight work, so they drain rather than vanish.
 */
export function healthOf(conditions: SliceEndpoint['conditions']): Health {
  if (conditions?.terminating === true) return 'draining';
  if (conditions?.ready === false) return 'unhealthy';
  return 'healthy';
}

/** Validates one raw slice; a slice the catalog cannot use comes back as a reason to skip it. */
export function parseSlice(raw: unknown): ParsedSlice | SliceSkip {
  const parsed = EndpointSlice.safeParse(raw);
  if (!parsed.success) return { level: 'warn', reason: `invalid EndpointSlice: ${describeIssues(parsed.error)}` };
  const slice = parsed.data;
  const { name, namespace } = slice.metadata;
  const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  if (!service) return { level: 'debug', reason: `no ${SERVICE_NAME_LABEL} label` };
  const key = `${service}.${namespace ?? ''}`;
  if (!parseServiceKey(key)) return { level: 'warn', reason: `service key "${key}" is not NAME.NAMESPACE` };
  if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') {
    const level = slice.addressType === 'FQDN' ? 'debug' : 'warn';
    return { level, reason: `addressType ${slice.addressType} is not routable by IP` };
  }
  const port = choosePort(slice.ports ?? []);
  if (port === undefined) return { level: 'debug', reason: 'no port (a slice without ports selects all ports)' };
  return {
    id: sliceId(namespace, name),
    serviceKey: key,
    addressType: slice.addressType,
    port,
    endpoints: slice.endpoints ?? [],
  };
}

export function isSkip(result: ParsedSlice | SliceSkip): result is SliceSkip {
  return 'reason' in result;
}

export interface EndpointContext {
  readonly cluster: string;
  readonly environment: Environment;
  readonly region: string;
}

/**
 * The endpoints of one service from all its slices. An address:port reported twice (a pod
 * moving between slices) is kept once, with the better health, so the xDS view never carries
 * a duplicate (gRPC NACKs a ClusterLoadAssignment that does).
 */
export function serviceEndpoints(
  slices: Iterable<ParsedSlice>,
  nodes: ReadonlyMap<string, NodeTopology>,
  context: EndpointContext,
): Endpoint[] {
  const byId = new Map<string, Endpoint>();
  const ordered = [...slices].sort((a, b) => a.id.localeCompare(b.id));
  for (const slice of ordered) {
    for (const endpoint of slice.endpoints) {
      for (const address of endpoint.addresses) {
        if (!validAddress(slice.addressType, address)) continue;
        const built = buildEndpoint(address, slice.port, endpoint, nodes, context);
        const id = endpointId(built);
        const existing = byId.get(id);
        if (!existing || HEALTH_RANK[built.health] < HEALTH_RANK[existing.health]) byId.set(id, built);
      }
    }
  }
  return [...byId.values()];
}

function validAddress(type: ParsedSlice['addressType'], address: string): boolean {
  return type === 'IPv4' ? isIPv4(address) : isIPv6(address);
}

function buildEndpoint(
  address: string,
  port: number,
  endpoint: SliceEndpoint,
  nodes: ReadonlyMap<string, NodeTopology>,
  context: EndpointContext,
): Endpoint {
  const node = endpoint.nodeName ? nodes.get(endpoint.nodeName) : undefined;
  const labels: Record<string, string> = {};
  if (endpoint.nodeName) labels['k8s.node'] = endpoint.nodeName;
  if (endpoint.targetRef?.name) labels['k8s.pod'] = endpoint.targetRef.name;
  return {
    address,
    port,
    cluster: context.cluster,
    environment: context.environment,
    locality: { region: node?.region || context.region, zone: endpoint.zone || node?.zone || '', subZone: '' },
    health: healthOf(endpoint.conditions),
    weight: 1,
    labels,
  };
}

/** Node names a slice's endpoints run on: a Node label change re-derives these services. */
export function sliceNodes(slice: ParsedSlice): Set<string> {
  return new Set(slice.endpoints.map((endpoint) => endpoint.nodeName).filter((name): name is string => !!name));
}

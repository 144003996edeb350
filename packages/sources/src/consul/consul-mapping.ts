import type { ConsulClusterConfig } from '@spillway/config';
import { type Endpoint, type Health, type ServiceKey, ServiceName, serviceKey } from '@spillway/model';
import type { ConsulCheck, ConsulServiceEntry } from './consul-schema.js';

/** Maps health entries of one Consul service to Spillway endpoints, grouped by service key. */
export interface ConsulMapping {
  readonly endpoints: Map<ServiceKey, Endpoint[]>;
  /** Instances left out, each with the reason (the caller logs them). */
  readonly skipped: string[];
}

/** Consul marks maintenance mode with critical checks under these ids (`_service_maintenance:<id>`). */
function isMaintenance(check: ConsulCheck): boolean {
  return check.CheckID === '_node_maintenance' || check.CheckID.startsWith('_service_maintenance');
}

/**
 * A failing real check beats maintenance (the instance is broken, not only drained);
 * maintenance alone drains; a warning keeps the instance in rotation at its warning weight.
 */
export function consulHealth(checks: readonly ConsulCheck[]): { health: Health; warning: boolean } {
  const critical = checks.filter((check) => check.Status === 'critical');
  if (critical.some((check) => !isMaintenance(check))) return { health: 'unhealthy', warning: false };
  if (critical.length > 0) return { health: 'draining', warning: false };
  return { health: 'healthy', warning: checks.some((check) => check.Status === 'warning') };
}

/** Envoy's load_balancing_weight range; Consul allows 0 and larger values. */
export function clampWeight(weight: number | undefined): number {
  if (weight === undefined || !Number.isFinite(weight)) return 1;
  return Math.min(128, Math.max(1, Math.round(weight)));
}

/** Lowercased Consul service name, or undefined when it is no DNS label. */
export function spillwayServiceName(consulName: string): string | undefined {
  const name = consulName.toLowerCase();
  return ServiceName.safeParse(name).success ? name : undefined;
}

export function mapConsulEntries(config: ConsulClusterConfig, entries: readonly ConsulServiceEntry[]): ConsulMapping {
  const endpoints = new Map<ServiceKey, Endpoint[]>();
  const skipped: string[] = [];
  for (const entry of entries) {
    const mapped = mapEntry(config, entry);
    if (typeof mapped === 'string') {
      skipped.push(mapped);
      continue;
    }
    const list = endpoints.get(mapped.key) ?? [];
    list.push(mapped.endpoint);
    endpoints.set(mapped.key, list);
  }
  for (const list of endpoints.values()) list.sort(compareEndpoints);
  return { endpoints, skipped };
}

function mapEntry(
  config: ConsulClusterConfig,
  entry: ConsulServiceEntry,
): { key: ServiceKey; endpoint: Endpoint } | string {
  const { Node: node, Service: service } = entry;
  const instance = `instance ${service.ID} of ${service.Service} on node ${node.Node}`;
  const name = spillwayServiceName(service.Service);
  if (!name) return `${instance}: service name is not a DNS label`;
  const namespace = namespaceOf(config, service.Meta);
  if (!ServiceName.safeParse(namespace).success) return `${instance}: namespace "${namespace}" is not a DNS label`;
  if (service.Port < 1) return `${instance}: no port registered`;
  const { health, warning } = consulHealth(entry.Checks ?? []);
  const weights = service.Weights ?? undefined;
  const endpoint: Endpoint = {
    address: service.Address || node.Address,
    port: service.Port,
    cluster: config.name,
    environment: config.environment,
    locality: { region: config.region, zone: zoneOf(config, entry), subZone: '' },
    health,
    weight: clampWeight(warning ? weights?.Warning : weights?.Passing),
    labels: { 'consul.node': node.Node, 'consul.service-id': service.ID },
  };
  return { key: serviceKey(name, namespace), endpoint };
}

function namespaceOf(config: ConsulClusterConfig, meta: Record<string, string> | null | undefined): string {
  const fromMeta = config.namespace.fromMeta ? meta?.[config.namespace.fromMeta] : undefined;
  return fromMeta ? fromMeta.toLowerCase() : config.namespace.default;
}

/**
 * Zone, most specific first: the instance's own `zone` meta (it may run somewhere its node
 * does not say), then the node's `zone` meta, then the datacenter — the one locality every
 * Consul entry has, and a datacenter is usually one site.
 */
function zoneOf(config: ConsulClusterConfig, entry: ConsulServiceEntry): string {
  return entry.Service.Meta?.zone || entry.Node.Meta?.zone || entry.Node.Datacenter || config.datacenter || '';
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  const left = `${a.address}:${a.port}/${a.labels['consul.service-id']}`;
  const right = `${b.address}:${b.port}/${b.labels['consul.service-id']}`;
  return left < right ? -1 : left > right ? 1 : 0;
}

import type { NomadClusterConfig } from '@spillway/config';
import { type Endpoint, type ServiceKey, ServiceName, serviceKey } from '@spillway/model';
import type { NomadServiceList, NomadServiceRegistration } from './nomad-schema.js';

/** A (Nomad namespace, service) pair, the unit Spillway watches, as one string id. */
export function nomadServiceId(namespace: string, service: string): string {
  return JSON.stringify([namespace, service]);
}

export function parseNomadServiceId(id: string): { namespace: string; service: string } {
  const [namespace, service] = JSON.parse(id) as [string, string];
  return { namespace, service };
}

/**
 * Spillway's namespace for a Nomad namespace: the same name, except Nomad's `default`.
 * `namespace.fromMeta` does not apply: service registrations carry tags, not meta, and
 * Nomad namespaces already are the tenancy boundary users map to.
 */
export function spillwayNamespace(config: NomadClusterConfig, nomadNamespace: string): string {
  return nomadNamespace === 'default' ? config.namespace.default : nomadNamespace.toLowerCase();
}

/** Why a (namespace, service) cannot become a Spillway service, or undefined when it can. */
export function invalidReason(config: NomadClusterConfig, namespace: string, service: string): string | undefined {
  if (!ServiceName.safeParse(service.toLowerCase()).success) {
    return `service "${service}" in Nomad namespace "${namespace}" skipped: its lowercased name is not a DNS label`;
  }
  if (!ServiceName.safeParse(spillwayNamespace(config, namespace)).success) {
    return `Nomad namespace "${namespace}" skipped: it does not map to a DNS label`;
  }
  return undefined;
}

/** Every (namespace, service) of a `/v1/services` answer, as sorted ids, with the skipped ones' reasons. */
export function nomadServiceIds(
  config: NomadClusterConfig,
  list: NomadServiceList,
): { ids: string[]; skipped: string[] } {
  const ids: string[] = [];
  const skipped: string[] = [];
  for (const entry of list) {
    for (const { ServiceName: service } of entry.Services ?? []) {
      const reason = invalidReason(config, entry.Namespace, service);
      if (reason) skipped.push(reason);
      else ids.push(nomadServiceId(entry.Namespace, service));
    }
  }
  return { ids: ids.sort(), skipped };
}

/**
 * Registrations of one (namespace, service) as endpoints. Nomad only registers services of
 * running allocations and deregisters them when the allocation stops: what is listed is
 * healthy as far as Nomad knows (Nomad-native checks do not change the registration).
 */
export function mapNomadRegistrations(
  config: NomadClusterConfig,
  registrations: readonly NomadServiceRegistration[],
): Map<ServiceKey, Endpoint[]> {
  const endpoints = new Map<ServiceKey, Endpoint[]>();
  for (const registration of registrations) {
    if (registration.Port < 1) continue;
    const key = serviceKey(registration.ServiceName.toLowerCase(), spillwayNamespace(config, registration.Namespace));
    const list = endpoints.get(key) ?? [];
    list.push(toEndpoint(config, registration));
    endpoints.set(key, list);
  }
  for (const list of endpoints.values()) list.sort(compareEndpoints);
  return endpoints;
}

function toEndpoint(config: NomadClusterConfig, registration: NomadServiceRegistration): Endpoint {
  return {
    address: registration.Address,
    port: registration.Port,
    cluster: config.name,
    environment: config.environment,
    locality: { region: config.region, zone: registration.Datacenter, subZone: '' },
    health: 'healthy',
    weight: 1,
    labels: { 'nomad.alloc': registration.AllocID, 'nomad.job': registration.JobID, 'nomad.node': registration.NodeID },
  };
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  const left = `${a.address}:${a.port}/${a.labels['nomad.alloc']}`;
  const right = `${b.address}:${b.port}/${b.labels['nomad.alloc']}`;
  return left < right ? -1 : left > right ? 1 : 0;
}

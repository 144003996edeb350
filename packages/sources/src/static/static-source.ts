import type { StaticClusterConfig } from '@spillway/config';
import { type Endpoint, type ServiceKey, serviceKey } from '@spillway/model';
import type { RegistrySource, SourceSink } from '../source.js';

/** Endpoints written in the config file: VMs, bare metal, tests and the demo. */
export class StaticSource implements RegistrySource {
  readonly kind = 'static' as const;
  readonly name: string;
  readonly environment;
  readonly region: string;

  constructor(private readonly config: StaticClusterConfig) {
    this.name = config.name;
    this.environment = config.environment;
    this.region = config.region;
  }

  async start(sink: SourceSink): Promise<void> {
    sink.replaceAll(staticEndpoints(this.config));
  }

  async stop(): Promise<void> {}
}

export function staticEndpoints(config: StaticClusterConfig): Map<ServiceKey, Endpoint[]> {
  const services = new Map<ServiceKey, Endpoint[]>();
  for (const service of config.services) {
    const key = serviceKey(service.name, service.namespace);
    const endpoints = services.get(key) ?? [];
    for (const endpoint of service.endpoints) {
      endpoints.push({
        address: endpoint.address,
        port: endpoint.port,
        cluster: config.name,
        environment: config.environment,
        locality: { region: config.region, zone: endpoint.zone, subZone: endpoint.subZone },
        health: endpoint.health,
        weight: endpoint.weight,
        labels: endpoint.labels,
      });
    }
    services.set(key, endpoints);
  }
  return services;
}

import type { Fault } from './faults.js';
import type { FleetMetrics } from './fleet-metrics.js';
import type { EndpointView, FleetWorld } from './fleet-world.js';
import type { SimDnsRecord, SimDnsWeights } from './sim-dns-weights.js';
import { SimNodegroup } from './sim-nodegroup.js';

export interface ServiceStatus {
  readonly service: string;
  readonly offeredRps: number;
  /** What the router's traffic policy asks for. */
  readonly requestedCloudShare: number;
  /** What reaches the cloud (0 without healthy cloud endpoints). */
  readonly effectiveCloudShare: number;
  readonly onpremRps: number;
  readonly cloudRps: number;
  /** Instantaneous model values (the Prometheus answers average them over their windows). */
  readonly p99Seconds: number;
  readonly errorRatio: number;
  readonly maxUtilisation: number;
  readonly healthyEndpoints: { readonly onprem: number; readonly cloud: number };
}

export interface FleetStatus {
  /** Simulated time, ISO. */
  readonly time: string;
  readonly elapsedSeconds: number;
  readonly speed: number;
  readonly services: readonly ServiceStatus[];
  readonly endpoints: readonly EndpointView[];
  readonly nodegroups: readonly {
    readonly name: string;
    readonly status: string;
    readonly desired: number;
    readonly readyNodes: number;
  }[];
  readonly deployments: readonly {
    readonly name: string;
    readonly service: string;
    readonly desired: number;
    readonly pods: number;
    readonly ready: number;
  }[];
  readonly dns: readonly SimDnsRecord[];
  readonly faults: readonly Fault[];
}

/** A snapshot of the fleet, for the status line of `spillway up`, drills and tests. */
export function fleetStatus(world: FleetWorld, metrics: FleetMetrics, dns: SimDnsWeights): FleetStatus {
  const now = world.clock.now();
  const endpoints = world.endpoints();
  const services = metrics.services().flatMap((service) => {
    const instant = metrics.instant(service);
    if (!instant) return [];
    const healthy = endpoints.filter((endpoint) => endpoint.service === service && endpoint.health === 'healthy');
    return [
      {
        service,
        offeredRps: instant.requestsPerSecond,
        requestedCloudShare: instant.requestedCloudShare,
        effectiveCloudShare: instant.effectiveCloudShare,
        onpremRps: instant.onpremRps,
        cloudRps: instant.cloudRps,
        p99Seconds: instant.p99Seconds,
        errorRatio: instant.requestsPerSecond > 0 ? instant.errorsPerSecond / instant.requestsPerSecond : 0,
        maxUtilisation: instant.maxUtilisation,
        healthyEndpoints: {
          onprem: healthy.filter((endpoint) => endpoint.environment === 'onprem').length,
          cloud: healthy.filter((endpoint) => endpoint.environment === 'cloud').length,
        },
      },
    ];
  });
  return {
    time: new Date(now).toISOString(),
    elapsedSeconds: world.clock.elapsedMs() / 1000,
    speed: world.clock.speed,
    services,
    endpoints,
    nodegroups: world.allNodegroups().map((nodegroup) => ({
      name: SimNodegroup.key(nodegroup.ref),
      status: nodegroup.status(now).status,
      desired: nodegroup.desired,
      readyNodes: nodegroup.readyNodes(now),
    })),
    deployments: world.allDeployments().map((deployment) => ({
      name: `${deployment.ref.cluster}/${deployment.ref.namespace}/${deployment.ref.name}`,
      service: deployment.service,
      desired: deployment.desired,
      pods: deployment.pods.length,
      ready: deployment.readyPods(now).filter((pod) => pod.endpoint.listening).length,
    })),
    dns: dns.list(),
    faults: world.faults.list(),
  };
}

import type { BurstState } from '@spillway/burst';
import { embeddedDefaultConfig, type SpillwayConfig } from '@spillway/config';
import type { RunningController } from '@spillway/controller';
import { PROBE_CERTIFICATE_PROVIDER } from '@spillway/drill';
import type { MeshSecurity, TrafficPolicyReader } from '@spillway/model';
import type { Logger } from '@spillway/observability';
import { defaultScenario, SIM_TRUST_DOMAIN, SimulatedFleet, simIdentity } from '@spillway/simulator';

/** Simulated seconds per real second: the 9-minute surge and its hour-long error window play in about 90 s. */
export const DEMO_SPEED = 60;

export interface DemoFleet {
  readonly fleet: SimulatedFleet;
  /** The config `spillway up` runs with: the simulated sites as sources, the scenario's policies. */
  readonly config: SpillwayConfig;
}

/**
 * `spillway up` with no config: a simulated fleet (two on-prem sites, a cloud region, a surge
 * on checkout.shop) plugged in through the same source, metrics and cloud interfaces as real
 * clusters, so a newcomer sees the whole loop with nothing installed.
 */
export async function startDemoFleet(
  logger: Logger,
  traffic: TrafficPolicyReader,
  options: { readonly mtls?: boolean } = {},
): Promise<DemoFleet> {
  const fleet = await SimulatedFleet.start(defaultScenario(), {
    speed: DEMO_SPEED,
    logger,
    traffic,
    ...(options.mtls ? { mtls: true } : {}),
  });
  // The fleet's sources are passed to the federation directly; its policies name simulated
  // clusters that are not config entries, so they are placed here rather than validated.
  const config: SpillwayConfig = {
    ...embeddedDefaultConfig(),
    clusters: [],
    policies: [...fleet.policies],
    ...(fleet.pki ? { security: simulatedMeshSecurity(fleet) } : {}),
  };
  return { fleet, config };
}

/**
 * Every simulated service STRICT, its servers known by their SPIFFE identity: what the router
 * publishes when the simulated fleet runs mesh mTLS. (Simulated servers are plain TLS servers,
 * not xDS-enabled ones, so RBAC on callers does not apply to them.)
 */
function simulatedMeshSecurity(fleet: SimulatedFleet): MeshSecurity {
  const services = [...new Set(fleet.status().endpoints.map((endpoint) => endpoint.service))].sort();
  return {
    trustDomain: SIM_TRUST_DOMAIN,
    certificateProvider: PROBE_CERTIFICATE_PROVIDER,
    trustBundleSecret: 'ROOTCA',
    sdsCluster: 'sds-grpc',
    services: services.map((service) => ({
      service,
      mtls: 'STRICT',
      identity: simIdentity(service),
      allowedCallers: [],
    })),
  };
}

/** One line per burst policy: what the world and the controller look like now. */
export async function demoStatusLines(fleet: SimulatedFleet, controller: RunningController): Promise<string[]> {
  const status = fleet.status();
  const clock = new Date(status.elapsedSeconds * 1000).toISOString().slice(11, 19);
  const lines: string[] = [];
  for (const policy of fleet.policies) {
    const service = status.services.find((s) => s.service === policy.service);
    if (!service) continue;
    const state: BurstState | undefined = await controller.stores.states.get(policy.service).catch(() => undefined);
    lines.push(
      `[sim ${clock}] ${policy.service.padEnd(14)} ${String(Math.round(service.offeredRps)).padStart(4)} rps` +
        `  p99 ${service.p99Seconds.toFixed(2)}s  errors ${(service.errorRatio * 100).toFixed(1).padStart(4)}%` +
        `  cloud share ${service.requestedCloudShare.toFixed(2)}  cloud endpoints ${service.healthyEndpoints.cloud}` +
        `  burst ${state?.phase ?? 'idle'}`,
    );
  }
  return lines;
}

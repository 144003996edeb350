import type { DeploymentScaler, DnsWeights, NodegroupScaler } from '@spillway/cloud';
import type { BurstPolicy, RegistrySource, TrafficPolicyReader } from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import { SimClock } from './clock.js';
import { Fault } from './faults.js';
import { FleetMetrics } from './fleet-metrics.js';
import { FleetWorld } from './fleet-world.js';
import { MeshPki } from './mesh-pki.js';
import { type PrometheusServer, startPrometheusServer } from './prometheus-server.js';
import { toRealTime } from './real-time-policies.js';
import { Scenario, type ScenarioInput } from './scenario.js';
import { SimDeploymentScaler } from './sim-deployment-scaler.js';
import { SimDnsWeights } from './sim-dns-weights.js';
import { SimNodegroupScaler } from './sim-nodegroup-scaler.js';
import { SimulatedSource } from './simulated-source.js';
import type { FleetStatus } from './status.js';
import { fleetStatus } from './status.js';

export interface FleetOptions {
  /** Simulated seconds per real second (default 1). 10 plays a 10-minute surge in a minute. */
  readonly speed?: number;
  readonly logger?: Logger;
  /**
   * The router's traffic policies: the cloud share the load model applies. Without one (or
   * before useTraffic) the share is 0.
   */
  readonly traffic?: TrafficPolicyReader;
  /** Real ms between the sources' liveness reports (default 1000). */
  readonly heartbeatMs?: number;
  /**
   * Mesh mTLS: every endpoint serves TLS with its service's SPIFFE identity from a PKI made at
   * start (see MeshPki), and requires client certificates from the same root.
   */
  readonly mtls?: boolean;
}

/** The cloud adapters, ready for startController({ adapters }). */
export interface FleetAdapters {
  readonly nodegroups: NodegroupScaler;
  readonly deployments: DeploymentScaler;
  readonly dns: DnsWeights;
}

/**
 * A simulated fleet that plays the world through the same interfaces as the real integrations:
 * RegistrySources for the federation, NodegroupScaler / DeploymentScaler / DnsWeights for the
 * controller, and a Prometheus-shaped URL for its SLO queries.
 */
export class SimulatedFleet {
  readonly sources: readonly RegistrySource[];
  readonly adapters: FleetAdapters;
  /** The scenario's burst policies with their intervals converted to real time (see toRealTime). */
  readonly policies: readonly BurstPolicy[];
  private traffic: TrafficPolicyReader | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly scenario: Scenario,
    readonly clock: SimClock,
    private readonly world: FleetWorld,
    private readonly metrics: FleetMetrics,
    private readonly prometheus: PrometheusServer,
    private readonly dns: SimDnsWeights,
    options: FleetOptions,
    /** The workload PKI when the fleet runs mesh mTLS. */
    readonly pki: MeshPki | undefined,
  ) {
    this.traffic = options.traffic;
    this.sources = scenario.sites.map((site) => new SimulatedSource(site, world, options.heartbeatMs));
    this.adapters = { nodegroups: new SimNodegroupScaler(world), deployments: new SimDeploymentScaler(world), dns };
    this.policies = scenario.policies.map((policy) => toRealTime(policy, clock.speed));
  }

  /** Validates the scenario, starts every endpoint server and the Prometheus-shaped server. */
  static async start(scenario: ScenarioInput | Scenario, options: FleetOptions = {}): Promise<SimulatedFleet> {
    const valid = Scenario.parse(scenario);
    const logger = options.logger ?? silentLogger();
    const clock = new SimClock(options.speed ?? 1);
    const pki = options.mtls ? await MeshPki.create() : undefined;
    const world = new FleetWorld(valid, clock, logger, pki);
    let fleet: SimulatedFleet | undefined;
    let metrics: FleetMetrics | undefined;
    try {
      await world.start();
      // Sampling starts once the endpoints listen: a first sample of a fleet still binding its
      // ports would read as an outage and sit in the 1h window for an hour.
      metrics = new FleetMetrics(valid.load, world, clock, valid.sampleSeconds * 1000, () => fleet?.traffic);
      const prometheus = await startPrometheusServer(metrics);
      const dns = new SimDnsWeights(clock, valid.cloud.dnsSyncSeconds * 1000);
      fleet = new SimulatedFleet(valid, clock, world, metrics, prometheus, dns, options, pki);
      logger.info(
        { scenario: valid.name, speed: clock.speed, prometheus: prometheus.url, endpoints: world.endpoints().length },
        'simulated fleet started',
      );
      return fleet;
    } catch (error) {
      metrics?.stop();
      clock.stop();
      await world.stop();
      await pki?.remove();
      throw error;
    }
  }

  /** Base URL of the Prometheus-shaped server (`/api/v1/query`). */
  get prometheusUrl(): string {
    return this.prometheus.url;
  }

  /** Reads the router's cloud shares from now on. */
  useTraffic(traffic: TrafficPolicyReader): void {
    this.traffic = traffic;
  }

  /** Breaks something (see Fault); throws when the fault names nothing in the scenario. */
  inject(fault: Fault): void {
    const valid = Fault.parse(fault);
    this.checkTarget(valid);
    if (this.world.faults.add(valid)) this.world.faultsChanged();
  }

  /** Repairs a fault injected before (an equal object); a no-op when it is not active. */
  recover(fault: Fault): void {
    if (this.world.faults.remove(Fault.parse(fault))) this.world.faultsChanged();
  }

  /** Repairs every active fault. */
  recoverAll(): void {
    for (const fault of this.world.faults.list()) this.world.faults.remove(fault);
    this.world.faultsChanged();
  }

  /** A snapshot: simulated time, services (load, share, p99, errors), endpoints, capacity, faults, DNS. */
  status(): FleetStatus {
    return fleetStatus(this.world, this.metrics, this.dns);
  }

  /** Stops every server and timer. Idempotent; pending scaler waits reject with FleetStoppedError. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.metrics.stop();
      for (const source of this.sources) await source.stop();
      await this.world.stop();
      this.clock.stop();
      await this.prometheus.stop();
      await this.pki?.remove();
    })();
    return this.stopping;
  }

  private checkTarget(fault: Fault): void {
    const sites = this.scenario.sites;
    const unknown = (what: string) => new Error(`fault ${JSON.stringify(fault)}: no ${what} in the scenario`);
    switch (fault.kind) {
      case 'zone-down':
        if (!sites.some((site) => site.zones.includes(fault.zone))) throw unknown(`zone "${fault.zone}"`);
        return;
      case 'site-down':
      case 'registry-down':
        if (!this.world.site(fault.site)) throw unknown(`site "${fault.site}"`);
        return;
      case 'region-down':
        if (!sites.some((site) => site.region === fault.region)) throw unknown(`region "${fault.region}"`);
        return;
      case 'wrong-trust-bundle':
        if (!this.pki) throw new Error('wrong-trust-bundle needs a fleet with mesh mTLS (mtls: true)');
        if (!sites.some((site) => site.region === fault.region)) throw unknown(`region "${fault.region}"`);
        return;
      case 'latency':
        if (fault.site !== undefined && !this.world.site(fault.site)) throw unknown(`site "${fault.site}"`);
        if (fault.zone !== undefined && !sites.some((site) => site.zones.includes(fault.zone ?? ''))) {
          throw unknown(`zone "${fault.zone}"`);
        }
        return;
    }
  }
}

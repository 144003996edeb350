import type { Endpoint, Health, ServiceKey } from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import { FleetStoppedError, type SimClock } from './clock.js';
import { FaultSet } from './faults.js';
import { formatIdentity } from './identity-server.js';
import type { ServingEndpoint } from './load-model.js';
import { type MeshPki, meshCredentials } from './mesh-pki.js';
import type { Scenario, SiteSpec } from './scenario.js';
import { SimDeployment } from './sim-deployment.js';
import { type EndpointTrust, SimEndpoint, type SimEndpointSpec } from './sim-endpoint.js';
import { SimNodegroup } from './sim-nodegroup.js';

/** One endpoint as status() and drills see it. */
export interface EndpointView {
  readonly service: ServiceKey;
  readonly site: string;
  readonly zone: string;
  readonly environment: 'onprem' | 'cloud';
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** What its gRPC server answers: `cluster/zone/name`. */
  readonly identity: string;
  readonly health: Health;
  readonly listening: boolean;
}

/**
 * The simulated world's state: sites with their fixed endpoints, cloud nodegroups and
 * Deployments, and the active faults. It decides which endpoint servers run (present and not
 * faulted), moves cloud capacity forward on the simulated clock, and tells its listeners
 * (sources, waiting scalers) after every change.
 */
export class FleetWorld {
  readonly faults = new FaultSet();
  private readonly fixed: SimEndpoint[] = [];
  private readonly nodegroups = new Map<string, SimNodegroup>();
  private readonly deployments = new Map<string, SimDeployment>();
  private readonly sites = new Map<string, SiteSpec>();
  private readonly listeners = new Set<() => void>();
  private notifyScheduled = false;
  private cancelWake: (() => void) | undefined;
  private stopped = false;

  constructor(
    readonly scenario: Scenario,
    readonly clock: SimClock,
    private readonly logger: Logger = silentLogger(),
    /** With a mesh PKI every endpoint serves mTLS with its service's identity. */
    private readonly pki?: MeshPki,
  ) {
    for (const site of scenario.sites) this.build(site);
  }

  /** Starts every endpoint that is there from the beginning; resolves once they listen. */
  async start(): Promise<void> {
    // Initial capacity is ready at once: nodes were created ready, pods get no readiness delay.
    for (const deployment of this.deployments.values()) deployment.reconcile(this.clock.now(), 0);
    await Promise.all(this.converge());
    this.reconcile();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  site(name: string): SiteSpec | undefined {
    return this.sites.get(name);
  }

  siteNames(): string[] {
    return [...this.sites.keys()];
  }

  nodegroup(key: string): SimNodegroup | undefined {
    return this.nodegroups.get(key);
  }

  allNodegroups(): SimNodegroup[] {
    return [...this.nodegroups.values()];
  }

  deployment(key: string): SimDeployment | undefined {
    return this.deployments.get(key);
  }

  allDeployments(): SimDeployment[] {
    return [...this.deployments.values()];
  }

  /** Calls `listener` (coalesced, asynchronously) after changes; returns an unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once `condition` holds, checking after every change; rejects when the fleet stops. */
  waitUntil(condition: () => boolean): Promise<void> {
    if (this.stopped) return Promise.reject(new FleetStoppedError());
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const unsubscribe = this.subscribe(() => {
        if (this.stopped) {
          unsubscribe();
          reject(new FleetStoppedError());
        } else if (condition()) {
          unsubscribe();
          resolve();
        }
      });
    });
  }

  /** Moves nodes and pods forward to the clock's now, then starts/stops servers to match. */
  reconcile(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const { nodeReadySeconds, podReadySeconds } = this.scenario.cloud;
    for (const nodegroup of this.nodegroups.values()) nodegroup.reconcile(now, nodeReadySeconds * 1000);
    for (const deployment of this.deployments.values()) {
      for (const pod of deployment.reconcile(now, podReadySeconds * 1000))
        this.runQuietly(pod.endpoint, false, pod.endpoint.wantedTrust);
    }
    this.scheduleWake(now);
    this.converge();
    this.changed();
  }

  /** Re-applies the faults to the servers and tells the listeners. */
  faultsChanged(): void {
    this.converge();
    this.changed();
  }

  /** The site's endpoints as its registry reports them. */
  endpointsOf(site: string): Map<ServiceKey, Endpoint[]> {
    const services = new Map<ServiceKey, Endpoint[]>();
    for (const view of this.endpoints()) {
      if (view.site !== site) continue;
      const list = services.get(view.service) ?? [];
      list.push(this.toEndpoint(view));
      services.set(view.service, list);
    }
    return services;
  }

  /** The service's endpoints that take requests now, for the load model. */
  serving(service: ServiceKey): ServingEndpoint[] {
    return this.present()
      .filter((endpoint) => endpoint.spec.service === service && this.healthy(endpoint))
      .map((endpoint) => ({
        environment: endpoint.spec.environment,
        extraLatencySeconds: this.faults.extraLatencySeconds(endpoint.spec),
      }));
  }

  /** Every endpoint that exists and has been bound once (so it has an address). */
  endpoints(): EndpointView[] {
    return this.present().flatMap((endpoint) => {
      const port = endpoint.port;
      if (port === undefined) return [];
      const { spec } = endpoint;
      return [
        {
          service: spec.service,
          site: spec.site,
          zone: spec.zone,
          environment: spec.environment,
          name: spec.name,
          address: endpoint.address,
          port,
          identity: formatIdentity(endpoint.identity),
          health: this.healthy(endpoint) ? 'healthy' : 'unhealthy',
          listening: endpoint.listening,
        },
      ];
    });
  }

  /** Stops every server; waits are rejected. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelWake?.();
    for (const listener of [...this.listeners]) listener();
    this.listeners.clear();
    const pods = this.allDeployments().flatMap((deployment) => deployment.pods.map((pod) => pod.endpoint));
    await Promise.allSettled([...this.fixed, ...pods].map((endpoint) => endpoint.run(false)));
  }

  private build(site: SiteSpec): void {
    this.sites.set(site.name, site);
    for (const service of site.services) {
      const name = service.service.slice(0, service.service.lastIndexOf('.'));
      for (const zone of site.zones) {
        for (let i = 0; i < service.endpointsPerZone; i++) {
          this.fixed.push(
            this.newEndpoint({
              name: `${name}-${zone}-${i}`,
              service: service.service,
              environment: site.environment,
              site: site.name,
              region: site.region,
              zone,
            }),
          );
        }
      }
    }
    for (const spec of site.nodegroups) {
      const ref = { region: site.region, cluster: spec.cluster, nodegroup: spec.name };
      this.nodegroups.set(
        SimNodegroup.key(ref),
        new SimNodegroup(ref, spec.podsPerNode, spec.initialNodes, this.clock.now()),
      );
    }
    for (const spec of site.deployments) {
      const ref = { cluster: site.name, namespace: spec.namespace, name: spec.name };
      const owner = site.nodegroups.find((candidate) => candidate.name === spec.nodegroup);
      const nodegroup = owner
        ? this.nodegroups.get(SimNodegroup.key({ region: site.region, cluster: owner.cluster, nodegroup: owner.name }))
        : undefined;
      this.deployments.set(
        SimDeployment.key(ref),
        new SimDeployment(
          ref,
          spec.service,
          { site: site.name, environment: site.environment, region: site.region, zones: site.zones },
          nodegroup,
          spec.initialReplicas,
          (endpoint) => this.newEndpoint(endpoint),
        ),
      );
    }
  }

  private newEndpoint(spec: SimEndpointSpec): SimEndpoint {
    const pki = this.pki;
    return new SimEndpoint(spec, {
      delayMs: () => this.faults.extraLatencySeconds(spec) * 1000,
      onChange: () => this.changed(),
      logger: this.logger,
      ...(pki ? { credentials: (trust: EndpointTrust) => meshCredentials(pki, spec.service, trust === 'rogue') } : {}),
    });
  }

  /** Fixed endpoints, and pods past their readiness delay. */
  private present(): SimEndpoint[] {
    const now = this.clock.now();
    const pods = this.allDeployments().flatMap((deployment) => deployment.readyPods(now).map((pod) => pod.endpoint));
    return [...this.fixed, ...pods];
  }

  private healthy(endpoint: SimEndpoint): boolean {
    return endpoint.listening && !this.faults.isDown(endpoint.spec);
  }

  /** Starts the servers that should run and stops the others; returns the transitions started. */
  private converge(): Promise<void>[] {
    const transitions: Promise<void>[] = [];
    for (const endpoint of this.present()) {
      const wanted = !this.stopped && !this.faults.isDown(endpoint.spec);
      const trust = this.trustOf(endpoint);
      if (wanted !== endpoint.wanted || trust !== endpoint.wantedTrust) {
        transitions.push(this.runQuietly(endpoint, wanted, trust));
      }
    }
    return transitions;
  }

  private trustOf(endpoint: SimEndpoint): EndpointTrust {
    if (!this.pki) return 'plaintext';
    return this.faults.wrongTrustBundle(endpoint.spec) ? 'rogue' : 'trusted';
  }

  private runQuietly(endpoint: SimEndpoint, wanted: boolean, trust: EndpointTrust): Promise<void> {
    return endpoint.run(wanted, trust).catch(() => {
      // Logged by the endpoint; the next converge tries again.
    });
  }

  /** One timer for the next node or pod that becomes ready. */
  private scheduleWake(now: number): void {
    this.cancelWake?.();
    this.cancelWake = undefined;
    const times = [
      ...this.allNodegroups().map((nodegroup) => nodegroup.nextReadyAt(now)),
      ...this.allDeployments().map((deployment) => deployment.nextReadyAt(now)),
    ].filter((time): time is number => time !== undefined);
    if (times.length === 0) return;
    this.cancelWake = this.clock.after(Math.min(...times) - now, () => this.reconcile());
  }

  private changed(): void {
    if (this.notifyScheduled || this.stopped) return;
    this.notifyScheduled = true;
    queueMicrotask(() => {
      this.notifyScheduled = false;
      for (const listener of [...this.listeners]) listener();
    });
  }

  private toEndpoint(view: EndpointView): Endpoint {
    const site = this.sites.get(view.site);
    return {
      address: view.address,
      port: view.port,
      cluster: view.site,
      environment: view.environment,
      locality: { region: site?.region ?? '', zone: view.zone, subZone: '' },
      health: view.health,
      weight: 1,
      labels: { 'spillway.dev/simulated': view.name },
    };
  }
}

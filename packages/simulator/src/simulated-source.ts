import type { Environment, RegistrySource, SourceKind, SourceSink } from '@spillway/model';
import type { FleetWorld } from './fleet-world.js';
import type { SiteSpec } from './scenario.js';

/**
 * One simulated site's registry (Kubernetes EndpointSlices, Consul/Nomad catalog, EKS) as a
 * RegistrySource: it reports the site's endpoints through the SourceSink after every change,
 * and on a heartbeat says it is alive — or, while a registry-down fault is active, reports
 * failed() on every attempt and nothing else, like a real source retrying a dead registry.
 */
export class SimulatedSource implements RegistrySource {
  readonly name: string;
  readonly kind: SourceKind;
  readonly environment: Environment;
  readonly region: string;
  private sink: SourceSink | undefined;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** The registry was failing at the last report: the next good one must be a full relist. */
  private failing = false;

  constructor(
    site: SiteSpec,
    private readonly world: FleetWorld,
    /** Real ms between liveness reports: the catalog's grace periods are in real time. */
    private readonly heartbeatMs = 1_000,
  ) {
    this.name = site.name;
    this.kind = site.kind;
    this.environment = site.environment;
    this.region = site.region;
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.sink) throw new Error(`simulated source "${this.name}" is already started`);
    this.sink = sink;
    this.unsubscribe = this.world.subscribe(() => this.report());
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.report();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.sink = undefined;
  }

  private report(): void {
    if (!this.sink || this.world.isStopped) return;
    if (this.down()) {
      this.fail();
      return;
    }
    this.failing = false;
    this.sink.replaceAll(this.world.endpointsOf(this.name));
  }

  private beat(): void {
    if (!this.sink || this.world.isStopped) return;
    if (this.down()) this.fail();
    else if (this.failing) this.report();
    else this.sink.alive();
  }

  private down(): boolean {
    return this.world.faults.registryDown(this.name);
  }

  private fail(): void {
    this.failing = true;
    this.sink?.failed(new Error(`${this.kind} registry of ${this.name} is not answering (simulated fault)`));
  }
}

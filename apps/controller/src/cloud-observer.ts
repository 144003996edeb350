import type { ObservedCloud } from '@spillway/burst';
import type { DeploymentScaler, DnsWeights, DnsWeightValues, NodegroupScaler } from '@spillway/cloud';
import type { BurstPolicy, CatalogReader, TrafficPolicyReader } from '@spillway/model';
import type { Logger } from '@spillway/observability';

export interface CloudAdapters {
  readonly nodegroups?: NodegroupScaler;
  readonly deployments?: DeploymentScaler;
  readonly dns?: DnsWeights;
}

/**
 * What the cloud APIs hold now for one policy's targets: the sizes asked for (desired, not
 * ready: an update in flight counts), the DNS weights, the share the routers serve. Null where
 * the policy has no such target or the adapter cannot read it.
 */
export interface WorldReading {
  readonly nodes: number | null;
  readonly replicas: number | null;
  readonly dns: DnsWeightValues | null;
  readonly share: number;
}

interface CapacityReading {
  replicasReady: number;
  nodesReady: number;
  readAt: number;
}

/**
 * What the world is for one service: cloud endpoints from the catalog, capacity from the cloud
 * APIs, the applied share from the traffic policies. Cloud APIs are read at most every
 * `capacityTtlMs` (AWS throttles describes), and again right after an action completes.
 */
export class CloudObserver {
  private readonly capacity = new Map<string, CapacityReading>();
  private readonly reading = new Set<string>();

  constructor(
    private readonly catalog: CatalogReader,
    private readonly traffic: TrafficPolicyReader,
    private readonly adapters: CloudAdapters,
    private readonly logger: Logger,
    private readonly capacityTtlMs: number,
    private readonly onRead: (service: string) => void,
  ) {}

  /**
   * `readCapacity` false: the capacity as last read, without asking the cloud again. Before the
   * first read completes the capacity is 0 and marked `capacityUnread`.
   */
  observe(policy: BurstPolicy, now: number, readCapacity = true): ObservedCloud {
    const endpoints = this.catalog.current().services.get(policy.service)?.endpoints ?? [];
    const cloud = endpoints.filter((endpoint) => endpoint.environment === 'cloud');
    const ready = cloud.filter((endpoint) => endpoint.health === 'healthy').length;
    if (readCapacity) this.refreshCapacity(policy, now);
    const capacity = this.capacity.get(policy.service);
    return {
      cloudReadyEndpoints: ready,
      // Mostly failing cloud endpoints are not a place to send more traffic to.
      cloudHealthy: ready > 0 && ready * 2 >= cloud.length,
      replicasReady: capacity?.replicasReady ?? 0,
      nodesReady: capacity?.nodesReady ?? 0,
      ...(capacity === undefined ? { capacityUnread: true } : {}),
      appliedShare: this.traffic.get(policy.service)?.cloudShare ?? 0,
    };
  }

  /**
   * Makes the next decision read the cloud again. The last reading stays until the new one
   * arrives: deciding on "nothing known" would look like capacity vanished.
   */
  invalidate(service: string): void {
    const reading = this.capacity.get(service);
    if (reading) this.capacity.set(service, { ...reading, readAt: Number.NEGATIVE_INFINITY });
  }

  /** One fresh read of every target (no cache): for deciding what to do when the state is gone. */
  async readWorld(policy: BurstPolicy): Promise<WorldReading> {
    const { deployment, eks, route53 } = policy.cloud;
    const { deployments, nodegroups, dns } = this.adapters;
    const [replicas, nodes, weights] = await Promise.all([
      deployment && deployments ? deployments.status(deployment).then((status) => status.desired) : null,
      eks && nodegroups ? nodegroups.status(eks).then((status) => status.desired) : null,
      route53 && dns?.readWeights ? dns.readWeights(route53) : null,
    ]);
    return { nodes, replicas, dns: weights, share: this.traffic.get(policy.service)?.cloudShare ?? 0 };
  }

  private refreshCapacity(policy: BurstPolicy, now: number): void {
    const cached = this.capacity.get(policy.service);
    if ((cached && now - cached.readAt < this.capacityTtlMs) || this.reading.has(policy.service)) return;
    this.reading.add(policy.service);
    this.readCapacity(policy)
      .then((reading) => {
        const before = this.capacity.get(policy.service);
        this.capacity.set(policy.service, { ...reading, readAt: now });
        if (before?.replicasReady !== reading.replicasReady || before?.nodesReady !== reading.nodesReady) {
          this.onRead(policy.service);
        }
      })
      .catch((error: unknown) =>
        this.logger.warn({ service: policy.service, err: error }, 'cannot read cloud capacity'),
      )
      .finally(() => this.reading.delete(policy.service));
  }

  private async readCapacity(policy: BurstPolicy): Promise<Omit<CapacityReading, 'readAt'>> {
    const { deployment, eks } = policy.cloud;
    const [replicasReady, nodesReady] = await Promise.all([
      deployment && this.adapters.deployments
        ? this.adapters.deployments.status(deployment).then((status) => status.ready)
        : 0,
      eks && this.adapters.nodegroups
        ? this.adapters.nodegroups.status(eks).then((status) => (status.ready ? status.desired : 0))
        : 0,
    ]);
    return { replicasReady, nodesReady };
  }
}

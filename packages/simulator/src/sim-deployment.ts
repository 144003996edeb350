import type { DeploymentRef } from '@spillway/cloud';
import type { Environment, ServiceKey } from '@spillway/model';
import type { SimEndpoint, SimEndpointSpec } from './sim-endpoint.js';
import type { SimNodegroup } from './sim-nodegroup.js';

/** One pod: pending until it fits on a ready node, then ready `podReadyMs` after scheduling. */
export interface SimPod {
  readonly endpoint: SimEndpoint;
  scheduledAt: number | null;
  readyAt: number | null;
}

export interface DeploymentPlace {
  readonly site: string;
  readonly environment: Environment;
  readonly region: string;
  readonly zones: readonly string[];
}

/**
 * One simulated Deployment. `desired` is spec.replicas; reconcile() makes the pods follow as a
 * ReplicaSet and the scheduler would: create pending pods, delete surplus ones (pending first,
 * then the newest), schedule pending pods while the nodegroup's ready nodes have room
 * (readyNodes × podsPerNode), and delete scheduled pods that lost their node (their
 * replacements come back pending). Pods spread over the site's zones in turn.
 */
export class SimDeployment {
  pods: SimPod[] = [];
  desired: number;
  private sequence = 0;

  constructor(
    readonly ref: DeploymentRef,
    readonly service: ServiceKey,
    private readonly place: DeploymentPlace,
    readonly nodegroup: SimNodegroup | undefined,
    initialReplicas: number,
    private readonly newEndpoint: (spec: SimEndpointSpec) => SimEndpoint,
  ) {
    this.desired = initialReplicas;
  }

  static key(ref: Pick<DeploymentRef, 'cluster' | 'namespace' | 'name'>): string {
    return `${ref.cluster}/${ref.namespace}/${ref.name}`;
  }

  /** Brings the pods towards `desired`; returns the pods it deleted (their servers must stop). */
  reconcile(now: number, podReadyMs: number): SimPod[] {
    const deleted = this.scaleTo(this.desired);
    const room = this.nodegroup
      ? this.nodegroup.readyNodes(now) * this.nodegroup.podsPerNode
      : Number.POSITIVE_INFINITY;
    const scheduled = this.pods.filter((pod) => pod.scheduledAt !== null);
    if (scheduled.length > room) {
      const evicted = new Set(scheduled.slice(room));
      deleted.push(...evicted);
      this.pods = this.pods.filter((pod) => !evicted.has(pod));
      this.scaleTo(this.desired);
    }
    let used = Math.min(scheduled.length, room);
    for (const pod of this.pods) {
      if (pod.scheduledAt !== null || used >= room) continue;
      pod.scheduledAt = now;
      pod.readyAt = now + podReadyMs;
      used++;
    }
    return deleted;
  }

  /** The pods past their readiness delay. */
  readyPods(now: number): SimPod[] {
    return this.pods.filter((pod) => pod.readyAt !== null && pod.readyAt <= now);
  }

  nextReadyAt(now: number): number | undefined {
    const pending = this.pods.flatMap((pod) => (pod.readyAt !== null && pod.readyAt > now ? [pod.readyAt] : []));
    return pending.length > 0 ? Math.min(...pending) : undefined;
  }

  private scaleTo(replicas: number): SimPod[] {
    while (this.pods.length < replicas) this.pods.push(this.newPod());
    if (this.pods.length <= replicas) return [];
    // The ReplicaSet deletes unscheduled pods first, then not-ready ones, then the newest.
    const rank = (pod: SimPod) => (pod.scheduledAt === null ? 0 : pod.readyAt === null ? 1 : 2);
    const order = this.pods.map((pod, index) => ({ pod, index }));
    order.sort((a, b) => rank(a.pod) - rank(b.pod) || b.index - a.index);
    const deleted = new Set(order.slice(0, this.pods.length - replicas).map((entry) => entry.pod));
    this.pods = this.pods.filter((pod) => !deleted.has(pod));
    return [...deleted];
  }

  private newPod(): SimPod {
    const index = this.sequence++;
    const zone = this.place.zones[index % this.place.zones.length] ?? '';
    const endpoint = this.newEndpoint({
      name: `${this.ref.name}-${index}`,
      service: this.service,
      environment: this.place.environment,
      site: this.place.site,
      region: this.place.region,
      zone,
    });
    return { endpoint, scheduledAt: null, readyAt: null };
  }
}

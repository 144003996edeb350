import type { BurstPolicy } from '@spillway/model';
import type { BurstAction, ObservedCloud } from '../../src/index.js';
import { dnsWeights, floorCapacity } from '../../src/index.js';

export type Chaos = 'none' | 'unhealthy' | 'healthy' | 'lose-pod' | 'router-reset' | 'catalog-lag';

export interface Outcome {
  /** How long the job takes to take effect. */
  delayMs: number;
  /** The job fails; the controller's re-emission with the same key may run it again. */
  fail: boolean;
}

interface Pending {
  action: BurstAction;
  at: number;
}

/** The sequence in a key `${burstId}/${seq}/${kind}`. */
function seqOf(action: BurstAction): number {
  return Number(action.key.split('/').at(-2));
}

/**
 * A cloud that follows the controller's actions with delays and failures, and drifts under
 * chaos. Its job layer keeps the contract the core relies on: a pending or completed key is
 * never run twice, a failed one may be retried, and a job whose sequence is older than the
 * newest one emitted for its kind is skipped (it was superseded).
 */
export class SimulatedWorld {
  deploymentTarget: number;
  nodegroupTarget: number;
  routerShare = 0;
  dns = dnsWeights(0);
  healthy = true;
  lostPods = 0;
  catalogLag = false;
  readonly executed: BurstAction[] = [];
  private pending: Pending[] = [];
  private readonly done = new Set<string>();
  private readonly latest = new Map<BurstAction['kind'], number>();

  constructor(private readonly policy: BurstPolicy) {
    const floor = floorCapacity(policy.capacity);
    this.deploymentTarget = floor.replicas;
    this.nodegroupTarget = floor.nodes;
  }

  observe(): ObservedCloud {
    const { cloud, capacity } = this.policy;
    const nodesReady = cloud.eks === undefined ? capacity.maxNodes : this.nodegroupTarget;
    const schedulable = cloud.eks === undefined ? Number.POSITIVE_INFINITY : nodesReady * capacity.podsPerNode;
    // Without a managed Deployment the cloud runs a fixed pool that the controller cannot scale.
    const wanted = cloud.deployment === undefined ? capacity.maxReplicas : this.deploymentTarget;
    const replicasReady = Math.max(0, Math.min(wanted - this.lostPods, schedulable));
    return {
      cloudReadyEndpoints: this.catalogLag ? 0 : replicasReady,
      cloudHealthy: this.healthy,
      replicasReady,
      nodesReady,
      appliedShare: this.routerShare,
    };
  }

  chaos(event: Chaos): void {
    this.catalogLag = event === 'catalog-lag';
    if (event === 'unhealthy') this.healthy = false;
    if (event === 'healthy') this.healthy = true;
    if (event === 'lose-pod') this.lostPods += 1;
    if (event === 'router-reset') this.routerShare = 0;
  }

  submit(actions: readonly BurstAction[], now: number, outcome: Outcome): void {
    for (const action of actions) {
      this.latest.set(action.kind, Math.max(this.latest.get(action.kind) ?? 0, seqOf(action)));
      if (this.done.has(action.key) || this.pending.some((p) => p.action.key === action.key)) continue;
      if (outcome.fail) continue;
      this.pending.push({ action, at: now + outcome.delayMs });
    }
  }

  /** Runs every job due by `now`, in submission order. */
  advanceTo(now: number): void {
    const due = this.pending.filter((p) => p.at <= now);
    this.pending = this.pending.filter((p) => p.at > now);
    for (const { action } of due) this.apply(action);
  }

  private apply(action: BurstAction): void {
    this.done.add(action.key);
    if (seqOf(action) < (this.latest.get(action.kind) ?? 0)) return;
    this.executed.push(action);
    if (action.kind === 'scale-deployment') {
      this.deploymentTarget = action.replicas;
      this.lostPods = 0;
    } else if (action.kind === 'scale-nodegroup') this.nodegroupTarget = action.desiredSize;
    else if (action.kind === 'set-traffic-share') this.routerShare = action.share;
    else this.dns = { cloudWeight: action.cloudWeight, onpremWeight: action.onpremWeight };
  }
}

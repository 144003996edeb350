import type { NodegroupRef, NodegroupStatus } from '@spillway/cloud';

/**
 * One simulated EKS managed nodegroup. `desired` is what UpdateNodegroupConfig set; the nodes
 * follow in reconcile(): new nodes are ready `nodeReadyMs` after they were asked for, surplus
 * nodes go at once (newest first). It is ACTIVE when it has `desired` nodes, all ready, and
 * UPDATING while it gets there, as EKS reports.
 */
export class SimNodegroup {
  /** Ready time (simulated epoch ms) of each node, oldest first. */
  private nodes: number[] = [];
  desired: number;
  min = 0;
  max: number;

  constructor(
    readonly ref: NodegroupRef,
    readonly podsPerNode: number,
    initialNodes: number,
    startedAt: number,
  ) {
    this.desired = initialNodes;
    this.max = Math.max(initialNodes, 1);
    this.nodes = Array.from({ length: initialNodes }, () => startedAt);
  }

  static key(ref: Pick<NodegroupRef, 'region' | 'cluster' | 'nodegroup'>): string {
    return `${ref.region}/${ref.cluster}/${ref.nodegroup}`;
  }

  /** Adds or removes nodes towards `desired`; true when it changed something. */
  reconcile(now: number, nodeReadyMs: number): boolean {
    if (this.nodes.length === this.desired) return false;
    if (this.nodes.length < this.desired) {
      while (this.nodes.length < this.desired) this.nodes.push(now + nodeReadyMs);
    } else {
      this.nodes = this.nodes.slice(0, this.desired);
    }
    return true;
  }

  readyNodes(now: number): number {
    return this.nodes.filter((readyAt) => readyAt <= now).length;
  }

  /** The earliest future moment a node becomes ready, if any. */
  nextReadyAt(now: number): number | undefined {
    const pending = this.nodes.filter((readyAt) => readyAt > now);
    return pending.length > 0 ? Math.min(...pending) : undefined;
  }

  status(now: number): NodegroupStatus {
    const active = this.nodes.length === this.desired && this.readyNodes(now) === this.desired;
    return {
      status: active ? 'ACTIVE' : 'UPDATING',
      desired: this.desired,
      min: this.min,
      max: this.max,
      ready: active,
      issues: [],
    };
  }
}

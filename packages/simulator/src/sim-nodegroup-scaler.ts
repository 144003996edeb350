import {
  CloudActionError,
  type NodegroupLimits,
  type NodegroupProgress,
  NodegroupRef,
  type NodegroupScaler,
  type NodegroupStatus,
} from '@spillway/cloud';
import type { FleetWorld } from './fleet-world.js';
import { SimNodegroup } from './sim-nodegroup.js';

/**
 * NodegroupScaler over the simulated EKS: the same contract as EksNodegroupScaler — describe
 * first, update only when the size differs, wait until ACTIVE at the size (simulated node
 * delay), refuse sizes above the budget, and the same errors: an unknown nodegroup is
 * ResourceNotFoundException (final), a region that is down is ServiceUnavailableException
 * (retryable).
 */
export class SimNodegroupScaler implements NodegroupScaler {
  constructor(private readonly world: FleetWorld) {}

  async status(target: NodegroupRef): Promise<NodegroupStatus> {
    const nodegroup = this.find(target, 'read-status');
    return nodegroup.status(this.world.clock.now());
  }

  async scale(
    target: NodegroupRef,
    desiredSize: number,
    progress: (progress: NodegroupProgress) => void = () => {},
    limits: NodegroupLimits = {},
  ): Promise<NodegroupStatus> {
    const nodegroup = this.find(target, 'scale-nodegroup');
    const name = SimNodegroup.key(nodegroup.ref);
    const fail = (detail: string) =>
      new CloudActionError({ action: 'scale-nodegroup', target: name, retryable: false, detail });
    if (!Number.isInteger(desiredSize) || desiredSize < 0)
      throw fail(`desiredSize ${desiredSize} is not a whole number ≥ 0`);
    if (limits.maxNodes !== undefined && desiredSize > limits.maxNodes) {
      throw fail(`desiredSize ${desiredSize} is above the capacity budget (maxNodes ${limits.maxNodes})`);
    }
    if (desiredSize > nodegroup.max && limits.maxNodes === undefined) {
      throw fail(
        `desiredSize ${desiredSize} is above maxSize ${nodegroup.max} and no capacity budget allows raising it`,
      );
    }
    for (;;) {
      this.find(target, 'scale-nodegroup');
      const status = nodegroup.status(this.world.clock.now());
      const report = (phase: NodegroupProgress['phase']) =>
        progress({ phase, status: status.status, desired: status.desired, target: desiredSize });
      report('observed');
      if (status.ready && status.desired === desiredSize) {
        report('ready');
        return status;
      }
      if (status.ready) {
        // ACTIVE at another size: send the update (as UpdateNodegroupConfig would).
        nodegroup.desired = desiredSize;
        nodegroup.max = Math.max(nodegroup.max, desiredSize);
        nodegroup.min = Math.min(nodegroup.min, desiredSize);
        report('update-requested');
        this.world.reconcile();
      } else if (status.desired !== desiredSize) {
        report('update-in-progress-elsewhere');
      }
      // Wake up on readiness, or on the region going down (the next describe then fails, as EKS's would).
      await this.world.waitUntil(
        () => nodegroup.status(this.world.clock.now()).ready || this.world.faults.regionDown(nodegroup.ref.region),
      );
    }
  }

  private find(target: NodegroupRef, action: 'scale-nodegroup' | 'read-status'): SimNodegroup {
    const ref = NodegroupRef.parse(target);
    const name = SimNodegroup.key(ref);
    if (this.world.faults.regionDown(ref.region)) {
      throw new CloudActionError({
        action,
        target: name,
        retryable: true,
        code: 'ServiceUnavailableException',
        detail: `EKS in ${ref.region} is unavailable (simulated region-down)`,
      });
    }
    const nodegroup = this.world.nodegroup(name);
    if (!nodegroup) {
      throw new CloudActionError({
        action,
        target: name,
        retryable: false,
        code: 'ResourceNotFoundException',
        detail: `no simulated nodegroup ${name}`,
      });
    }
    return nodegroup;
  }
}

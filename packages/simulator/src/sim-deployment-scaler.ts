import {
  CloudActionError,
  DeploymentRef,
  type DeploymentScaleResult,
  type DeploymentScaler,
  type DeploymentStatus,
} from '@spillway/cloud';
import type { FleetWorld } from './fleet-world.js';
import { SimDeployment } from './sim-deployment.js';

/**
 * DeploymentScaler over the simulated clusters: like KubernetesDeploymentScaler it sets
 * spec.replicas and returns at once (the controller waits for ready endpoints in the catalog);
 * the pods then follow on simulated time. `ready` counts pods whose servers answer.
 */
export class SimDeploymentScaler implements DeploymentScaler {
  constructor(private readonly world: FleetWorld) {}

  async scale(ref: DeploymentRef, replicas: number): Promise<DeploymentScaleResult> {
    const deployment = this.find(ref, 'scale-deployment');
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new CloudActionError({
        action: 'scale-deployment',
        target: SimDeployment.key(deployment.ref),
        retryable: false,
        detail: `replicas ${replicas} is not a whole number ≥ 0`,
      });
    }
    const previous = deployment.desired;
    if (previous === replicas) return { changed: false, previous, replicas };
    deployment.desired = replicas;
    this.world.reconcile();
    return { changed: true, previous, replicas };
  }

  async status(ref: DeploymentRef): Promise<DeploymentStatus> {
    const deployment = this.find(ref, 'read-status');
    const now = this.world.clock.now();
    const ready = deployment.readyPods(now).filter((pod) => pod.endpoint.listening).length;
    return { desired: deployment.desired, ready, available: ready, observed: true };
  }

  private find(ref: DeploymentRef, action: 'scale-deployment' | 'read-status'): SimDeployment {
    const target = DeploymentRef.parse(ref);
    const name = SimDeployment.key(target);
    const site = this.world.site(target.cluster);
    if (site && this.world.faults.regionDown(site.region)) {
      throw new CloudActionError({
        action,
        target: name,
        retryable: true,
        code: '503',
        detail: `the API server of ${target.cluster} is unreachable (simulated region-down)`,
      });
    }
    const deployment = this.world.deployment(name);
    if (!deployment) {
      throw new CloudActionError({
        action,
        target: name,
        retryable: false,
        code: 'NotFound',
        detail: `read scale: HTTP 404 NotFound: deployments.apps "${target.name}" not found`,
      });
    }
    return deployment;
  }
}

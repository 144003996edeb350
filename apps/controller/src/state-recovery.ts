import {
  type BurstAction,
  type BurstState,
  dnsWeights,
  floorCapacity,
  type Intent,
  type IntentKind,
  initialBurstState,
} from '@spillway/burst';
import type { BurstPolicy } from '@spillway/model';
import type { WorldReading } from './cloud-observer.js';

export interface Recovery {
  /** The state to persist: idle, with the release's values as its intents (what jobs check "still wanted" against). */
  readonly state: BurstState;
  /** The release, in order: traffic and DNS first, capacity after. Empty when the world already is idle. */
  readonly actions: BurstAction[];
  /** For the audit log: what was observed and what happens now. */
  readonly message: string;
  readonly burstId: string | null;
}

/**
 * The controller's state for a service is gone (Redis flushed, or restarted without its data)
 * while this process had read it before. Nothing it asked for is known any more; what the cloud
 * APIs hold is. Anything above the policy's idle (burst capacity, a cloud DNS weight, a cloud
 * share) is released at once, under a burst id of its own (`recovered-…`): share 0, DNS weights
 * all on-prem, capacity to the floor. Capacity is sized by what was asked for (desired), not by
 * what is ready: an update still in flight is released too. The state becomes idle with these
 * values as its intents, so a job of the lost burst still running finds itself superseded. Pure.
 */
export function recoverLostState(policy: BurstPolicy, world: WorldReading, now: number): Recovery {
  const floor = floorCapacity(policy.capacity);
  const observed = describe(world);
  const above = {
    traffic: world.share > 0 || (world.dns !== null && world.dns.cloudWeight > 0),
    replicas: world.replicas !== null && world.replicas > floor.replicas,
    nodes: world.nodes !== null && world.nodes > floor.nodes,
  };
  const state = initialBurstState();
  if (!above.nodes && !above.replicas && !above.traffic) {
    return {
      state,
      actions: [],
      burstId: null,
      message: `state lost; observed ${observed}: already idle, nothing to release`,
    };
  }
  const burstId = `recovered-${now}`;
  const reason = `state lost; releasing what the cloud APIs show (${observed})`;
  const actions: BurstAction[] = [];
  const issue = (kind: IntentKind, value: number, mode: Intent['mode']): string => {
    const seq = ++state.seq;
    state.intents[kind] = { burstId, value, mode, seq, satisfied: false };
    return `${burstId}/${seq}`;
  };
  if (above.traffic) {
    const key = issue('traffic', 0, 'exact');
    actions.push({ kind: 'set-traffic-share', key: `${key}/set-traffic-share`, burstId, reason, share: 0 });
    if (policy.cloud.route53 !== undefined) {
      actions.push({ kind: 'set-dns-weights', key: `${key}/set-dns-weights`, burstId, reason, ...dnsWeights(0) });
    }
  }
  if (above.replicas) {
    const key = issue('replicas', floor.replicas, 'at-most');
    actions.push({
      kind: 'scale-deployment',
      key: `${key}/scale-deployment`,
      burstId,
      reason,
      replicas: floor.replicas,
    });
  }
  if (above.nodes) {
    const key = issue('nodes', floor.nodes, 'at-most');
    actions.push({ kind: 'scale-nodegroup', key: `${key}/scale-nodegroup`, burstId, reason, desiredSize: floor.nodes });
  }
  const release = `releasing to the policy's idle (share 0, DNS on-prem, ${floor.nodes} nodes, ${floor.replicas} replicas) as ${burstId}`;
  return { state, actions, burstId, message: `state lost; observed ${observed}; ${release}` };
}

function describe(world: WorldReading): string {
  const parts = [
    world.nodes === null ? null : `nodegroup ${world.nodes}`,
    world.replicas === null ? null : `deployment ${world.replicas}`,
    world.dns === null ? null : `dns cloud ${world.dns.cloudWeight} / on-prem ${world.dns.onpremWeight}`,
    `router share ${world.share}`,
  ];
  return parts.filter((part) => part !== null).join(', ');
}

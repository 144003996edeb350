import { budgetReplicas, dnsWeights, sameShare } from './capacity.js';
import { committedShare, type DecisionContext, readinessBlocker, record } from './context.js';
import { formatShare, plural } from './format.js';
import { type IssuedIntent, intend } from './intents.js';
import { desiredCapacity } from './phases.js';
import type { ActiveBurst, BurstAction, Intent } from './types.js';

/**
 * Level-triggered: compares what the state wants with what is observed and emits an action
 * only where they differ. Traffic first, capacity second.
 */
export function reconcileActions(ctx: DecisionContext): BurstAction[] {
  return [...trafficActions(ctx), ...capacityActions(ctx)];
}

/** The id traffic actions carry when no burst runs (putting a stray share back to 0). */
function idleBurstId(service: string): string {
  return `${service}-idle`;
}

function trafficActions(ctx: DecisionContext): BurstAction[] {
  const desired = committedShare(ctx.state);
  const applied = ctx.observed.appliedShare;
  const burst = ctx.state.burst;
  const burstId = burst?.id ?? idleBurstId(ctx.policy.service);
  // Rule one: a share above 0 goes out only while the cloud is observed ready for it.
  if (desired > 0 && readinessBlocker(ctx, desired) !== null) return [];
  const intent = intend(ctx, 'traffic', { burstId, value: desired, mode: 'exact' });
  if (intent === null) return [];
  if (intent.fresh) auditTrafficDrift(ctx, burst, intent, applied);
  const reason = burst?.shareReason ?? `no burst running; the router holds share ${formatShare(applied)}`;
  const base = { burstId, reason };
  const actions: BurstAction[] = [
    { ...base, kind: 'set-traffic-share', key: keyOf(intent, 'set-traffic-share'), share: desired },
  ];
  if (ctx.policy.cloud.route53 !== undefined) {
    actions.push({ ...base, kind: 'set-dns-weights', key: keyOf(intent, 'set-dns-weights'), ...dnsWeights(desired) });
  }
  return actions;
}

/** Planned shifts are audited where they are decided; drift and stray shares are audited here. */
function auditTrafficDrift(
  ctx: DecisionContext,
  burst: ActiveBurst | null,
  intent: IssuedIntent,
  applied: number,
): void {
  const share = formatShare(intent.value);
  if (burst === null) {
    record(ctx, 'safety', `no burst running but the router holds share ${formatShare(applied)}; setting ${share}`);
  } else if (intent.repair) {
    record(ctx, 'safety', `the router drifted to share ${formatShare(applied)}; applying ${share} again`);
  }
}

function capacityActions(ctx: DecisionContext): BurstAction[] {
  const burst = ctx.state.burst;
  if (burst === null || ctx.state.phase === 'idle') return [];
  const { releasing, plan } = desiredCapacity(ctx, burst);
  // Capacity goes down only once no traffic reaches the cloud.
  if (releasing && !sameShare(ctx.observed.appliedShare, 0)) return [];
  const actions: BurstAction[] = [];
  const { deployment, eks } = ctx.policy.cloud;
  if (deployment !== undefined) {
    const intent = capacityIntent(ctx, burst, 'replicas', plan.replicas, ctx.observed.replicasReady, releasing);
    if (intent !== null)
      actions.push({ ...capacityBase(burst, intent, releasing, 'scale-deployment'), replicas: intent.value });
  }
  if (eks !== undefined) {
    const intent = capacityIntent(ctx, burst, 'nodes', plan.nodes, ctx.observed.nodesReady, releasing);
    if (intent !== null)
      actions.push({ ...capacityBase(burst, intent, releasing, 'scale-nodegroup'), desiredSize: intent.value });
  }
  return actions;
}

function capacityBase<K extends 'scale-deployment' | 'scale-nodegroup'>(
  burst: ActiveBurst,
  intent: Intent,
  releasing: boolean,
  kind: K,
) {
  const reason = releasing
    ? `share 0 observed; releasing capacity to the floor`
    : `capacity for share ${formatShare(burst.capacityShare)}`;
  return { kind, burstId: burst.id, key: keyOf(intent, kind), reason };
}

/**
 * While bursting, capacity is a lower bound (more is harmless, and shrinking mid-burst could
 * strand traffic); while releasing, the floor is an upper bound.
 */
function capacityIntent(
  ctx: DecisionContext,
  burst: ActiveBurst,
  kind: 'replicas' | 'nodes',
  target: number,
  observed: number,
  releasing: boolean,
): Intent | null {
  const budget = ctx.policy.capacity;
  const ceiling = kind === 'replicas' ? budgetReplicas(budget) : budget.maxNodes;
  const mode = releasing ? 'at-most' : 'at-least';
  const intent = intend(ctx, kind, { burstId: burst.id, value: target, mode, ceiling });
  if (intent?.fresh) auditCapacity(ctx, burst, intent, kind, observed, releasing);
  return intent;
}

function auditCapacity(
  ctx: DecisionContext,
  burst: ActiveBurst,
  intent: IssuedIntent,
  kind: 'replicas' | 'nodes',
  observed: number,
  releasing: boolean,
): void {
  const amount = plural(intent.value, kind === 'replicas' ? 'replica' : 'node');
  if (intent.repair) {
    record(ctx, 'capacity', `${observed} ${kind} ready, drifted from the ${amount} requested; requesting again`);
  } else if (releasing) {
    record(ctx, 'capacity', `share 0 observed; releasing capacity to ${amount}`);
  } else {
    record(ctx, 'capacity', `requesting ${amount} for share ${formatShare(burst.capacityShare)}`);
  }
}

function keyOf(intent: Intent, kind: BurstAction['kind']): string {
  return `${intent.burstId}/${intent.seq}/${kind}`;
}

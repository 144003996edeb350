import type { BurstPolicy } from '@spillway/model';
import { type CapacityPlan, capacityForShare, SHARE_EPSILON } from './capacity.js';
import type { ForecastReading } from './forecast.js';
import { formatShare, plural } from './format.js';
import { pendingBelow } from './intents.js';
import { type SignalLevel, signalLevel } from './signal-level.js';
import type {
  ActiveBurst,
  AuditDecision,
  AuditEntry,
  BurstPhase,
  BurstSignals,
  BurstState,
  DecideInput,
  ObservedCloud,
} from './types.js';

/** One decision in progress: the inputs, a private copy of the state, and the audit so far. */
export interface DecisionContext {
  readonly policy: BurstPolicy;
  readonly now: number;
  readonly signals: BurstSignals;
  readonly observed: ObservedCloud;
  readonly level: SignalLevel;
  /** The request-rate forecast when the policy is predictive and one could be made; else null. */
  readonly forecast: ForecastReading | null;
  /** A deep copy of the input state, changed in place; the caller's object is never touched. */
  readonly state: BurstState;
  readonly audit: AuditEntry[];
}

export function createContext(input: DecideInput): DecisionContext {
  return {
    policy: input.policy,
    now: input.now,
    signals: input.signals,
    observed: input.observed,
    level: signalLevel(input.policy, input.signals),
    forecast: input.policy.predictive?.enabled ? (input.forecast ?? null) : null,
    state: structuredClone(input.state),
    audit: [],
  };
}

export function committedShare(state: BurstState): number {
  return state.burst?.share ?? 0;
}

export function record(
  ctx: DecisionContext,
  decision: AuditDecision,
  reason: string,
  change?: { from: BurstPhase; burstId?: string | null },
): void {
  const phase = ctx.state.phase;
  const from = change?.from ?? phase;
  const entry: AuditEntry = {
    at: ctx.now,
    service: ctx.policy.service,
    burstId: change?.burstId === undefined ? (ctx.state.burst?.id ?? null) : change.burstId,
    decision,
    phase,
    from,
    share: committedShare(ctx.state),
    reason,
  };
  if (from !== phase) entry.to = phase;
  ctx.audit.push(entry);
}

/** Moves to `to` (or stays) and records one audit entry for the decision. */
export function transition(ctx: DecisionContext, to: BurstPhase, decision: AuditDecision, reason: string): void {
  const from = ctx.state.phase;
  ctx.state.phase = to;
  record(ctx, decision, reason, { from });
}

export function activeBurst(ctx: DecisionContext): ActiveBurst {
  const burst = ctx.state.burst;
  if (burst === null) throw new Error(`burst state for ${ctx.policy.service} is ${ctx.state.phase} without a burst`);
  return burst;
}

export function commitShare(ctx: DecisionContext, burst: ActiveBurst, share: number, reason: string): void {
  burst.share = share;
  burst.shareReason = reason;
  burst.waitingOn = null;
  ctx.state.lastShareChangeAt = ctx.now;
}

/** Why no traffic may go to the cloud at all right now, or null. */
export function healthBlocker(observed: ObservedCloud): string | null {
  if (observed.cloudReadyEndpoints <= 0) return 'the catalog shows no ready cloud endpoints';
  if (!observed.cloudHealthy) return 'cloud endpoints are unhealthy';
  return null;
}

/**
 * Why `share` may not be sent to the cloud right now, or null: endpoints ready and healthy,
 * and the share's capacity observed ready (for the parts of the cloud target this policy manages).
 */
export function readinessBlocker(ctx: DecisionContext, share: number): string | null {
  const health = healthBlocker(ctx.observed);
  if (health !== null) return health;
  const plan = capacityForShare(ctx.policy.capacity, share);
  const { replicasReady, nodesReady } = ctx.observed;
  if (ctx.policy.cloud.deployment !== undefined && replicasReady < plan.replicas) {
    return `${replicasReady} of ${plural(plan.replicas, 'replica')} ready for share ${formatShare(share)}`;
  }
  if (ctx.policy.cloud.eks !== undefined && nodesReady < plan.nodes) {
    return `${nodesReady} of ${plural(plan.nodes, 'node')} ready for share ${formatShare(share)}`;
  }
  return inFlightBlocker(ctx, plan);
}

function inFlightBlocker(ctx: DecisionContext, plan: CapacityPlan): string | null {
  const replicas = ctx.policy.cloud.deployment === undefined ? null : pendingBelow(ctx, 'replicas', plan.replicas);
  if (replicas !== null) return `a change to ${plural(replicas.value, 'replica')} is still in flight`;
  const nodes = ctx.policy.cloud.eks === undefined ? null : pendingBelow(ctx, 'nodes', plan.nodes);
  if (nodes !== null) return `a change to ${plural(nodes.value, 'node')} is still in flight`;
  return null;
}

export function readinessSummary(ctx: DecisionContext): string {
  const { replicasReady, cloudReadyEndpoints } = ctx.observed;
  return `${plural(replicasReady, 'replica')} and ${plural(cloudReadyEndpoints, 'endpoint')} ready and healthy`;
}

/** Next step up the path from the committed share, or null at the top. */
export function nextUp(burst: ActiveBurst): number | null {
  return burst.path.find((step) => step > burst.share + SHARE_EPSILON) ?? null;
}

/** Next step down the path from the committed share; 0 below the first step. */
export function nextDown(burst: ActiveBurst): number {
  return burst.path.filter((step) => step < burst.share - SHARE_EPSILON).at(-1) ?? 0;
}

/** The phase a burst in progress belongs in, judged by where its share is on its path. */
export function positionPhase(burst: ActiveBurst): 'scaling-out' | 'shifting' | 'holding' {
  if (nextUp(burst) === null) return 'holding';
  return burst.share > SHARE_EPSILON ? 'shifting' : 'scaling-out';
}

export function secondsMs(seconds: number): number {
  return seconds * 1000;
}

import { budgetExhaustedAt, drainOverBudget } from './budget-drain.js';
import { applyCommands } from './commands.js';
import { createContext, type DecisionContext } from './context.js';
import { accrueCost, nextDayStart, startMeter } from './cost.js';
import { cooldownMs } from './flap-damping.js';
import { refreshIntents } from './intents.js';
import { dwellEndsAt, enforceSafety, stepPhases, trackSignal } from './phases.js';
import { followPolicy } from './policy-change.js';
import { warmReleaseAt } from './prewarm.js';
import { reconcileActions } from './reconcile.js';
import type { BurstDecision, BurstState, DecideInput } from './types.js';

/** The state of a service that has never burst. */
export function initialBurstState(): BurstState {
  return {
    phase: 'idle',
    burst: null,
    lastShareChangeAt: null,
    autoSuppressed: false,
    seq: 0,
    intents: { traffic: null, replicas: null, nodes: null },
  };
}

/**
 * One level-triggered decision for one service: from the policy, the persisted state, the
 * signals, what the world is, and operator commands, to the next state, the desired-state
 * actions that make the world match, and the audit entries saying why. Pure: the same input
 * gives the same output, and the input is never modified.
 */
export function decide(input: DecideInput): BurstDecision {
  const ctx = createContext(input);
  // The capacity held since the last decision is paid for whatever this one decides.
  const costAccrued = accrueCost(ctx.policy, ctx.state, ctx.observed, ctx.now);
  refreshIntents(ctx);
  applyCommands(ctx, input.commands?.start, input.commands?.abort);
  drainOverBudget(ctx);
  followPolicy(ctx);
  trackSignal(ctx);
  enforceSafety(ctx);
  stepPhases(ctx);
  const actions = reconcileActions(ctx);
  if (ctx.state.burst !== null) startMeter(ctx.policy, ctx.state.burst, ctx.observed, ctx.now);
  return { state: ctx.state, actions, audit: ctx.audit, nextDecisionAt: nextDecisionAt(ctx), costAccrued };
}

/** The earliest future moment at which time alone could change the decision. */
function nextDecisionAt(ctx: DecisionContext): number | null {
  const moments = [...budgetMoments(ctx), ...budgetExhaustedAt(ctx), ...burstMoments(ctx)];
  const future = moments.filter((moment) => moment > ctx.now);
  return future.length === 0 ? null : Math.min(...future);
}

function burstMoments(ctx: DecisionContext): number[] {
  const burst = ctx.state.burst;
  if (burst === null) return [];
  const moments: number[] = [];
  if (burst.quietSince !== null) moments.push(burst.quietSince + cooldownMs(ctx, burst));
  if (['scaling-out', 'shifting', 'draining'].includes(ctx.state.phase)) moments.push(dwellEndsAt(ctx, burst));
  if (burst.origin === 'manual' && burst.manual?.expiresAt != null) moments.push(burst.manual.expiresAt);
  if (ctx.state.phase === 'warming' && burst.prewarm != null) moments.push(warmReleaseAt(ctx, burst.prewarm));
  return moments;
}

/** A step (or a start) the day's budget holds back may go ahead at the zone's next midnight. */
function budgetMoments(ctx: DecisionContext): number[] {
  const cost = ctx.policy.cost;
  if (ctx.state.budgetHold?.budget !== 'dailyBudget' || cost === undefined) return [];
  return [nextDayStart(ctx.now, cost.dailyResetTimeZone)];
}

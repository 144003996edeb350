import { abortBurst } from './commands.js';
import type { DecisionContext } from './context.js';
import { formatMoney, spendingToday } from './cost.js';

const HOUR_MS = 3_600_000;

/** The budget a burst has spent in full, with the figures; null while it is within both. */
export interface ExhaustedBudget {
  budget: 'perBurstBudget' | 'dailyBudget';
  reason: string;
}

export function exhaustedBudget(ctx: DecisionContext): ExhaustedBudget | null {
  const cost = ctx.policy.cost;
  const meter = ctx.state.burst?.cost;
  if (cost === undefined || meter == null) return null;
  const money = (amount: number) => formatMoney(amount, cost.currency);
  if (cost.perBurstBudget !== undefined && meter.total >= cost.perBurstBudget) {
    return {
      budget: 'perBurstBudget',
      reason: `perBurstBudget ${money(cost.perBurstBudget)} spent: the burst has spent ${money(meter.total)}`,
    };
  }
  const today = spendingToday(ctx.state, cost, ctx.now);
  if (cost.dailyBudget !== undefined && today.spent >= cost.dailyBudget) {
    return {
      budget: 'dailyBudget',
      reason: `dailyBudget ${money(cost.dailyBudget)} for ${today.day} (${cost.dailyResetTimeZone}) spent: ${money(today.spent)} today`,
    };
  }
  return null;
}

/** Phases in which a burst holds or asks for cloud capacity carrying (or warmed for) traffic. */
function spending(ctx: DecisionContext): boolean {
  return !['idle', 'aborted', 'scaling-in'].includes(ctx.state.phase);
}

/**
 * `cost.onBudgetExhausted: drain`: a burst that has spent a budget in full ends as an operator's
 * abort does (traffic back on-prem at once, then capacity). One drained for its per-burst budget
 * keeps automatic bursts off until the signal has been quiet, as an abort does: a new burst in the
 * same episode would get a new budget and be drained again. One drained for the day does not: the
 * budget gate keeps the next automatic burst from starting until the zone's midnight, and then it
 * may start if the signal still calls for it.
 */
export function drainOverBudget(ctx: DecisionContext): void {
  const burst = ctx.state.burst;
  if (ctx.policy.cost?.onBudgetExhausted !== 'drain' || burst === null || !spending(ctx)) return;
  const exhausted = exhaustedBudget(ctx);
  if (exhausted === null) return;
  abortBurst(ctx, burst, { reason: `${exhausted.reason}; cost.onBudgetExhausted is drain`, actor: 'cost-guard' });
  if (exhausted.budget === 'dailyBudget') ctx.state.autoSuppressed = false;
}

/** When a draining policy's burst will have spent a budget at its current rate (none: no moment). */
export function budgetExhaustedAt(ctx: DecisionContext): number[] {
  const cost = ctx.policy.cost;
  const meter = ctx.state.burst?.cost;
  if (cost?.onBudgetExhausted !== 'drain' || meter == null || meter.hourly <= 0 || !spending(ctx)) return [];
  const left = [
    cost.perBurstBudget === undefined ? undefined : cost.perBurstBudget - meter.total,
    cost.dailyBudget === undefined ? undefined : cost.dailyBudget - spendingToday(ctx.state, cost, ctx.now).spent,
  ].filter((amount): amount is number => amount !== undefined);
  // Rounded up: at the moment itself the budget is spent, not a millisecond short of it.
  return left.map((amount) => ctx.now + Math.ceil((Math.max(amount, 0) * HOUR_MS) / meter.hourly));
}

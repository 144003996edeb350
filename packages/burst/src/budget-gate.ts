import { type DecisionContext, record } from './context.js';
import { budgetRefusal, formatMoney } from './cost.js';
import { formatShare } from './format.js';
import type { ActiveBurst } from './types.js';

/**
 * Refuses the capacity for `share` when holding it over its dwell would break a budget: the
 * burst stays where it is (or, with no burst, does not start), `waitingOn` says which budget,
 * and the refusal is audited once (again only when the budget or the step changes).
 */
export function refusedByBudget(ctx: DecisionContext, share: number, burst: ActiveBurst | null): boolean {
  const refusal = budgetRefusal(ctx, share, burst?.cost?.total ?? 0);
  if (refusal === null) {
    clearBudgetHold(ctx);
    return false;
  }
  if (burst !== null) burst.waitingOn = `the budget: ${refusal.reason}`;
  const burstId = burst?.id ?? null;
  const held = ctx.state.budgetHold;
  if (held?.budget !== refusal.budget || held.share !== refusal.share || held.burstId !== burstId) {
    ctx.state.budgetHold = { budget: refusal.budget, share: refusal.share, burstId };
    const what = burst === null ? 'burst not started' : `burst ${burst.id} held at share ${formatShare(burst.share)}`;
    record(ctx, 'refusal', `${what}: ${refusal.reason}`);
  }
  return true;
}

/** "; cost so far 1.20 USD" for audit reasons of a burst with a cost meter; "" otherwise. */
export function costSoFar(burst: ActiveBurst | null): string {
  const meter = burst?.cost;
  return meter == null ? '' : `; cost so far ${formatMoney(meter.total, meter.currency)}`;
}

/** Forgets a refusal (the step went ahead, the burst ended, the signal episode is over). */
export function clearBudgetHold(ctx: DecisionContext): void {
  // Deleted rather than nulled: a state without a refusal stays the state it was.
  delete ctx.state.budgetHold;
}

import { RunningCost } from '@spillway/api';
import { z } from 'zod';

/** What the target's bursts that ran during a drill cost (their running totals when it ended). */
export interface DrillCost {
  readonly total: number;
  readonly currency: string;
  readonly bursts: readonly { readonly id: string; readonly total: number }[];
}

/** The fields of a stored burst record a drill reads; the rest is the controller's. */
const PricedBurst = z.looseObject({
  id: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  cost: RunningCost.nullable().optional(),
});

/**
 * Sums the cost of the bursts that were active at some time in [sinceMs, untilMs], oldest first.
 * Null when none of them has a cost (the policy has no prices, or no burst ran). Totals in
 * another currency than the newest burst's (a policy changed its currency) are left out.
 */
export function costOfBursts(records: readonly unknown[], sinceMs: number, untilMs: number): DrillCost | null {
  const priced = records
    .map((record) => PricedBurst.safeParse(record))
    .flatMap((parsed) => (parsed.success && parsed.data.cost ? [{ ...parsed.data, cost: parsed.data.cost }] : []))
    .filter((burst) => Date.parse(burst.createdAt) <= untilMs && Date.parse(burst.updatedAt) >= sinceMs)
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  const currency = priced.at(-1)?.cost.currency;
  if (currency === undefined) return null;
  const bursts = priced
    .filter((burst) => burst.cost.currency === currency)
    .map((burst) => ({ id: burst.id, total: burst.cost.total }));
  return { total: bursts.reduce((sum, burst) => sum + burst.total, 0), currency, bursts };
}

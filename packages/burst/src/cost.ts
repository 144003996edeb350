import type { BurstPolicy, CostSettings } from '@spillway/model';
import { type CapacityPlan, capacityForShare } from './capacity.js';
import { formatShare } from './format.js';
import type { ActiveBurst, BurstState, DailySpending, ObservedCloud } from './types.js';

const HOUR_MS = 3_600_000;

/** Money in plain words: two decimals and the currency ("12.40 USD"). */
export function formatMoney(amount: number, currency: string): string {
  return `${amount.toFixed(2)} ${currency}`;
}

/**
 * What holding `capacity` costs per hour. A policy prices what it manages: the nodes of its
 * `eks` nodegroup and the replicas of its `deployment`; a part it does not manage costs nothing.
 */
export function hourlyCost(policy: BurstPolicy, cost: CostSettings, capacity: CapacityPlan): number {
  const nodes = policy.cloud.eks === undefined ? 0 : capacity.nodes;
  const replicas = policy.cloud.deployment === undefined ? 0 : capacity.replicas;
  return nodes * cost.nodeHourly + replicas * cost.replicaHourly;
}

/** The capacity a burst is billed for: what the cloud APIs show ready, not what was asked for. */
export function heldCapacity(observed: ObservedCloud): CapacityPlan {
  return { replicas: observed.replicasReady, nodes: observed.nodesReady };
}

/** The cost of holding `hourly` for `fromMs` → `toMs` (nothing for a non-positive span). */
export function costOver(hourly: number, fromMs: number, toMs: number): number {
  return toMs > fromMs ? (hourly * (toMs - fromMs)) / HOUR_MS : 0;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (`YYYY-MM-DD`) that `epochMs` falls on in `timeZone`; Intl does the zone rules. */
export function dayIn(epochMs: number, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  return format.format(epochMs);
}

/**
 * The first millisecond of the day `toMs` falls on in `timeZone`, if it is after `fromMs`;
 * else `fromMs`. Found by bisection over `dayIn` (days only move forward), so the zone's own
 * rules decide where midnight is, including on the days a DST change makes 23 or 25 hours long.
 */
export function dayStartAfter(fromMs: number, toMs: number, timeZone: string): number {
  const today = dayIn(toMs, timeZone);
  if (dayIn(fromMs, timeZone) === today) return fromMs;
  let before = fromMs; // on an earlier day
  let at = toMs; // on today
  while (at - before > 1) {
    const middle = Math.floor((before + at) / 2);
    if (dayIn(middle, timeZone) === today) at = middle;
    else before = middle;
  }
  return at;
}

/** No day is longer than this (a DST change adds at most an hour; Lord Howe half of one). */
const LONGEST_DAY_MS = 25 * HOUR_MS;

/** The first millisecond after `now` that falls on the next day in `timeZone` (its midnight). */
export function nextDayStart(now: number, timeZone: string): number {
  const today = dayIn(now, timeZone);
  let before = now; // today
  let at = now + LONGEST_DAY_MS + 1; // a later day
  while (at - before > 1) {
    const middle = Math.floor((before + at) / 2);
    if (dayIn(middle, timeZone) === today) before = middle;
    else at = middle;
  }
  return at;
}

/** Today's spending in the policy's time zone: what is stored, or a fresh day after midnight. */
export function spendingToday(state: BurstState, cost: CostSettings, now: number): DailySpending {
  const day = dayIn(now, cost.dailyResetTimeZone);
  const stored = state.dailySpending;
  if (stored !== undefined && stored.day === day && stored.timeZone === cost.dailyResetTimeZone) return stored;
  return { day, timeZone: cost.dailyResetTimeZone, spent: 0 };
}

/**
 * Runs the meter of the active burst up to `now`: the capacity held since the last decision at
 * the rate observed then, added to the burst's total and to the day's spending (only the part
 * after midnight counts for a day that began meanwhile). Then the rate is set from what is held
 * now; before the capacity has been read (`capacityUnread`, a new leader) the stored rate goes on,
 * as it does for the time without a leader: an unread 0 would bill held capacity as free.
 * Returns the amount accrued (0 for a second decision at the same `now`).
 */
export function accrueCost(policy: BurstPolicy, state: BurstState, observed: ObservedCloud, now: number): number {
  const cost = policy.cost;
  if (cost === undefined) return 0;
  const burst = state.burst;
  if (burst === null) {
    state.dailySpending = spendingToday(state, cost, now); // rolled over at midnight even between bursts
    return 0;
  }
  const meter = burst.cost ?? { total: 0, hourly: 0, accruedAt: now, currency: cost.currency };
  const from = Math.min(meter.accruedAt, now);
  const amount = costOver(meter.hourly, from, now);
  const today = spendingToday(state, cost, now);
  const todayPart = costOver(meter.hourly, dayStartAfter(from, now, cost.dailyResetTimeZone), now);
  state.dailySpending = { ...today, spent: today.spent + todayPart };
  burst.cost = {
    total: meter.total + amount,
    hourly: observed.capacityUnread ? meter.hourly : hourlyCost(policy, cost, heldCapacity(observed)),
    accruedAt: now,
    currency: cost.currency,
  };
  return amount;
}

/** Starts the meter of a burst that began in this decision (its rate: what is held now). */
export function startMeter(policy: BurstPolicy, burst: ActiveBurst, observed: ObservedCloud, now: number): void {
  const cost = policy.cost;
  if (cost === undefined || burst.cost != null) return;
  burst.cost = {
    total: 0,
    hourly: hourlyCost(policy, cost, heldCapacity(observed)),
    accruedAt: now,
    currency: cost.currency,
  };
}

/** How long a step's capacity is held at least: a step lasts its dwell before the next change. */
export function stepDwellMs(policy: BurstPolicy): number {
  return Math.max(policy.minDwellSeconds, policy.stepIntervalSeconds) * 1000;
}

/** Which budget a refused step would break, with the figures, for the audit and `waitingOn`. */
export interface BudgetRefusal {
  budget: 'perBurstBudget' | 'dailyBudget';
  share: number;
  reason: string;
}

/**
 * Would holding the capacity of `share` over its dwell break the per-burst or the daily budget?
 * The projection adds that cost to what the burst (`spentByBurst`) and the day have spent.
 */
export function budgetRefusal(
  ctx: { policy: BurstPolicy; state: BurstState; now: number },
  share: number,
  spentByBurst: number,
): BudgetRefusal | null {
  const cost = ctx.policy.cost;
  if (cost === undefined) return null;
  const dwell = stepDwellMs(ctx.policy);
  const hourly = hourlyCost(ctx.policy, cost, capacityForShare(ctx.policy.capacity, share));
  const projected = costOver(hourly, 0, dwell);
  const money = (amount: number) => formatMoney(amount, cost.currency);
  const step = `capacity for share ${formatShare(share)} (${money(hourly)}/h) held for its dwell of ${dwell / 1000} s costs ${money(projected)}`;
  if (cost.perBurstBudget !== undefined && spentByBurst + projected > cost.perBurstBudget) {
    return {
      budget: 'perBurstBudget',
      share,
      reason: `perBurstBudget ${money(cost.perBurstBudget)} would be exceeded: the burst has spent ${money(spentByBurst)} and ${step}`,
    };
  }
  const today = spendingToday(ctx.state, cost, ctx.now);
  if (cost.dailyBudget !== undefined && today.spent + projected > cost.dailyBudget) {
    return {
      budget: 'dailyBudget',
      share,
      reason:
        `dailyBudget ${money(cost.dailyBudget)} for ${today.day} (${cost.dailyResetTimeZone}) would be exceeded: ` +
        `${money(today.spent)} spent today and ${step}`,
    };
  }
  return null;
}

/** Where a priced service stands, from its stored state: what gauges and dashboards show. */
export interface CostStanding {
  readonly currency: string;
  /** The open burst's cost so far (0 with no burst open). */
  readonly burst: number;
  /** What the service's bursts spent today, in the policy's time zone. */
  readonly today: number;
  readonly perBurstBudget: number | null;
  readonly dailyBudget: number | null;
}

/** The standing of `policy`'s service in `state` at `now` (after midnight: a fresh day); null without prices. */
export function costStanding(policy: BurstPolicy, state: BurstState, now: number): CostStanding | null {
  const cost = policy.cost;
  if (cost === undefined) return null;
  return {
    currency: cost.currency,
    burst: state.burst?.cost?.total ?? 0,
    today: spendingToday(state, cost, now).spent,
    perBurstBudget: cost.perBurstBudget ?? null,
    dailyBudget: cost.dailyBudget ?? null,
  };
}

import type { BurstPolicy } from '@spillway/model';
import { refusedByBudget } from './budget-gate.js';
import { type CapacityPlan, capacityForShare, planPath, SHARE_EPSILON } from './capacity.js';
import { activeBurst, type DecisionContext, positionPhase, record, secondsMs, transition } from './context.js';
import { describeForecast, type ForecastReading, shareNeededFor } from './forecast.js';
import { automaticBurstId, formatShare, formatTime } from './format.js';
import { describeSignals } from './signal-level.js';
import type { ActiveBurst, PrewarmRecord } from './types.js';

/**
 * Predictive pre-warming in the pure core. From idle, a forecast that crosses on-prem capacity
 * within the lead time starts a burst in `warming`: capacity for the step that carries the
 * forecast peak (within the path, so within maxShare and the budget) is requested, the share
 * stays 0. Traffic moves when the signals turn hot or the load itself reaches on-prem capacity;
 * warm capacity the forecast stops supporting is released after `releaseAfterSeconds`.
 */

/** The forecast, when the policy is predictive and one could be made. */
function forecastOf(ctx: DecisionContext): ForecastReading | null {
  return ctx.policy.predictive?.enabled ? ctx.forecast : null;
}

/** The load is at or above on-prem capacity now, or the forecast says it will be within the lead time. */
export function forecastHolds(ctx: DecisionContext): boolean {
  const forecast = forecastOf(ctx);
  return forecast !== null && (forecast.observedRps >= forecast.capacityRps || forecast.crossingAt !== null);
}

/** With a predictive policy, the share the observed load needs beyond on-prem capacity (0 when it fits). */
export function forecastNeed(ctx: DecisionContext): number {
  const forecast = forecastOf(ctx);
  return forecast === null ? 0 : shareNeededFor(forecast.observedRps, forecast.capacityRps);
}

/** The smallest step of the path that carries the forecast peak; the top step when none does. */
function warmShare(path: readonly number[], forecast: ForecastReading): number {
  const need = shareNeededFor(forecast.peakRps, forecast.capacityRps);
  return path.find((step) => step >= need - SHARE_EPSILON) ?? path.at(-1) ?? 0;
}

/**
 * The warm capacity a forecast calls for under `policy`: the smallest step of its path (within
 * maxShare and the budget) that carries the forecast peak, and that step's replicas and nodes.
 * Null when the peak fits on-prem or the policy has no step. What the burst API shows.
 */
export function warmCapacityFor(
  policy: BurstPolicy,
  forecast: ForecastReading,
): (CapacityPlan & { share: number }) | null {
  if (shareNeededFor(forecast.peakRps, forecast.capacityRps) === 0) return null;
  const { path } = planPath(policy, policy.steps);
  if (path.length === 0) return null;
  const share = warmShare(path, forecast);
  return { share, ...capacityForShare(policy.capacity, share) };
}

/** idle → warming when the forecast crosses on-prem capacity within the lead time. */
export function startWarmingIfForecast(ctx: DecisionContext): void {
  const forecast = forecastOf(ctx);
  if (forecast === null || forecast.crossingAt === null || ctx.state.autoSuppressed) return;
  if ((ctx.state.prewarmHeldUntil ?? 0) > ctx.now) return;
  const { path, notes } = planPath(ctx.policy, ctx.policy.steps);
  if (path.length === 0) return;
  const share = warmShare(path, forecast);
  // Warm capacity costs as much as capacity carrying traffic: the budgets apply to it too.
  if (refusedByBudget(ctx, share, null)) return;
  const id = automaticBurstId(ctx.policy.service, ctx.now);
  const words = describeForecast(forecast);
  const prewarm: PrewarmRecord = {
    startedAt: ctx.now,
    crossingAt: forecast.crossingAt,
    supportedAt: ctx.now,
    forecast: words,
    shiftedAt: null,
  };
  ctx.state.burst = {
    id,
    origin: 'signal',
    startedAt: ctx.now,
    path,
    share: 0,
    shareReason: `burst ${id} warming capacity ahead of the forecast; no traffic moved`,
    capacityShare: share,
    quietSince: null,
    manual: null,
    abort: null,
    waitingOn: null,
    prewarm,
  };
  transition(
    ctx,
    'warming',
    'prewarm',
    `${words}; warming capacity for share ${formatShare(share)} without moving traffic`,
  );
  for (const note of notes) record(ctx, 'capacity', note);
}

/** warming: shift when hot or when the load arrives; follow the forecast; release when it stops supporting. */
export function stepWarming(ctx: DecisionContext): void {
  const burst = activeBurst(ctx);
  const prewarm = burst.prewarm;
  const forecast = forecastOf(ctx);
  if (ctx.level === 'hot') {
    shiftOntoWarm(ctx, burst, describeSignals(ctx.policy, ctx.signals));
    return;
  }
  if (forecast !== null && forecast.observedRps >= forecast.capacityRps) {
    const arrived = `the forecast came true: ${describeForecast(forecast)}`;
    shiftOntoWarm(ctx, burst, arrived);
    return;
  }
  if (prewarm == null) return;
  if (forecast !== null && forecast.crossingAt !== null) {
    prewarm.supportedAt = ctx.now;
    prewarm.crossingAt = forecast.crossingAt;
    if (raiseWarmShare(ctx, burst, forecast)) return; // refused by a budget; waitingOn says which
    burst.waitingOn = `the forecast crossing at ${formatTime(forecast.crossingAt)} or an SLO breach; capacity warm for share ${formatShare(burst.capacityShare)}`;
    return;
  }
  const releaseAt = warmReleaseAt(ctx, prewarm);
  if (ctx.now < releaseAt) {
    burst.waitingOn = `the forecast to cross again; warm capacity released at ${formatTime(releaseAt)} otherwise`;
    return;
  }
  releaseWarm(ctx, forecast);
}

/** When warm capacity the forecast no longer supports is released. */
export function warmReleaseAt(ctx: DecisionContext, prewarm: PrewarmRecord): number {
  return prewarm.supportedAt + secondsMs(ctx.policy.predictive?.releaseAfterSeconds ?? 300);
}

/** Warms capacity for a higher step when the forecast needs it; true when a budget refused it. */
function raiseWarmShare(ctx: DecisionContext, burst: ActiveBurst, forecast: ForecastReading): boolean {
  const share = warmShare(burst.path, forecast);
  if (share <= burst.capacityShare + SHARE_EPSILON) return false;
  if (refusedByBudget(ctx, share, burst)) return true;
  record(
    ctx,
    'prewarm',
    `${describeForecast(forecast)}; warming more: capacity for share ${formatShare(burst.capacityShare)} → ${formatShare(share)}`,
  );
  burst.capacityShare = share;
  return false;
}

function shiftOntoWarm(ctx: DecisionContext, burst: ActiveBurst, why: string): void {
  if (burst.prewarm != null) burst.prewarm.shiftedAt = ctx.now;
  burst.waitingOn = null;
  transition(ctx, positionPhase(burst), 'phase', `${why}; shifting traffic onto the warm capacity`);
}

function releaseWarm(ctx: DecisionContext, forecast: ForecastReading | null): void {
  const settings = ctx.policy.predictive;
  const heldFor = settings?.releaseAfterSeconds ?? 300;
  ctx.state.prewarmHeldUntil = ctx.now + secondsMs(heldFor);
  const why =
    forecast === null
      ? settings?.enabled
        ? 'no forecast could be made'
        : 'predictive pre-warming is no longer enabled'
      : `the forecast did not come true: ${describeForecast(forecast)}`;
  transition(ctx, 'scaling-in', 'prewarm', `${why}; releasing the warm capacity (no new pre-warm for ${heldFor} s)`);
}

import { clearBudgetHold, costSoFar, refusedByBudget } from './budget-gate.js';
import { type CapacityPlan, capacityForShare, floorCapacity, planPath, SHARE_EPSILON, sameShare } from './capacity.js';
import {
  activeBurst,
  commitShare,
  type DecisionContext,
  healthBlocker,
  nextDown,
  nextUp,
  positionPhase,
  readinessBlocker,
  readinessSummary,
  record,
  secondsMs,
  transition,
} from './context.js';
import { cooldownMs, dampRebreach, noteStepDown, relaxDamping } from './flap-damping.js';
import { automaticBurstId, formatShare, formatTime, plural } from './format.js';
import { judgeMeasuredShare } from './measured-share.js';
import { forecastHolds, forecastNeed, startWarmingIfForecast, stepWarming } from './prewarm.js';
import { describeSignals } from './signal-level.js';
import type { ActiveBurst, BurstPhase } from './types.js';

/** Phases in which the burst is going up or staying up. */
const RISING: readonly BurstPhase[] = ['scaling-out', 'shifting', 'holding'];
/** Phases in which traffic may be in the cloud and the safety gate applies. */
const CARRYING: readonly BurstPhase[] = [...RISING, 'draining'];
/** Enough for the longest legal chain in one decision (idle → scaling-out → holding, …). */
const MAX_TRANSITIONS = 8;

/** Cooldown bookkeeping and re-arming after an abort; runs before the phase step. */
export function trackSignal(ctx: DecisionContext): void {
  const { state, level } = ctx;
  if (state.autoSuppressed && level === 'quiet') {
    state.autoSuppressed = false;
    record(ctx, 'signal', `${describeSignals(ctx.policy, ctx.signals)}; automatic bursts re-armed after the abort`);
  }
  const burst = state.burst;
  relaxDamping(ctx, burst);
  if (burst === null || burst.origin !== 'signal' || !RISING.includes(state.phase)) return;
  // A predictive policy's load above on-prem capacity (now or within the lead time) is not quiet.
  const quiet = level === 'quiet' && !forecastHolds(ctx);
  if (quiet && burst.quietSince === null) {
    burst.quietSince = ctx.now;
    const until = formatTime(ctx.now + cooldownMs(ctx, burst));
    record(ctx, 'signal', `${describeSignals(ctx.policy, ctx.signals)}; cooldown until ${until}`);
  } else if (!quiet && burst.quietSince !== null) {
    burst.quietSince = null;
    record(ctx, 'signal', `${describeSignals(ctx.policy, ctx.signals)}; cooldown cancelled`);
  }
}

/**
 * Traffic leaves the cloud at once (no dwell) when its endpoints are not ready and healthy,
 * or when the router holds more than planned while capacity is short. A pod restart that
 * leaves healthy endpoints does not trigger this: dropping the share for it would flap.
 */
export function enforceSafety(ctx: DecisionContext): void {
  const burst = ctx.state.burst;
  if (burst === null || burst.share <= SHARE_EPSILON || !CARRYING.includes(ctx.state.phase)) return;
  const health = healthBlocker(ctx.observed);
  if (health !== null) {
    dropToZero(ctx, burst, health);
    return;
  }
  const applied = ctx.observed.appliedShare;
  const short = readinessBlocker(ctx, burst.share);
  if (applied > burst.share + SHARE_EPSILON && short !== null) {
    dropToZero(ctx, burst, `the router holds share ${formatShare(applied)}, above the planned one, and ${short}`);
  }
}

function dropToZero(ctx: DecisionContext, burst: ActiveBurst, why: string): void {
  const reason = `${why}; traffic share ${formatShare(burst.share)} → 0 until the cloud is ready again`;
  commitShare(ctx, burst, 0, reason);
  burst.waitingOn = why;
  transition(ctx, ctx.state.phase === 'draining' ? 'draining' : 'scaling-out', 'safety', reason);
}

export function stepPhases(ctx: DecisionContext): void {
  for (let i = 0; i < MAX_TRANSITIONS; i++) {
    const before = ctx.state.phase;
    PHASE_STEPS[before](ctx);
    if (ctx.state.phase === before) return;
  }
}

const PHASE_STEPS: Record<BurstPhase, (ctx: DecisionContext) => void> = {
  idle: stepIdle,
  warming: stepWarming,
  'scaling-out': stepRising,
  shifting: stepRising,
  holding: stepRising,
  draining: stepDraining,
  'scaling-in': stepScalingIn,
  aborted: stepAborted,
};

function stepIdle(ctx: DecisionContext): void {
  if (ctx.level !== 'hot') {
    // A new signal episode's (or forecast's) refusal is audited again.
    if (ctx.level === 'quiet' && !forecastHolds(ctx)) clearBudgetHold(ctx);
    startWarmingIfForecast(ctx);
    return;
  }
  if (ctx.state.autoSuppressed) return;
  const { path, notes } = planPath(ctx.policy, ctx.policy.steps);
  if (refusedByBudget(ctx, path[0] ?? 0, null)) return;
  const id = automaticBurstId(ctx.policy.service, ctx.now);
  ctx.state.burst = {
    id,
    origin: 'signal',
    startedAt: ctx.now,
    path,
    share: 0,
    shareReason: `burst ${id} starting`,
    capacityShare: 0,
    quietSince: null,
    manual: null,
    abort: null,
    waitingOn: null,
  };
  const first = formatShare(path[0] ?? 0);
  transition(
    ctx,
    'scaling-out',
    'start',
    `${describeSignals(ctx.policy, ctx.signals)}; bursting toward share ${first}`,
  );
  for (const note of notes) record(ctx, 'capacity', note);
}

/** scaling-out, shifting and holding: end if due, otherwise step up when everything allows. */
function stepRising(ctx: DecisionContext): void {
  const burst = activeBurst(ctx);
  if (finishIfDue(ctx, burst)) return;
  const next = nextUp(burst);
  if (next === null) {
    if (ctx.state.phase !== 'holding') transition(ctx, 'holding', 'hold', holdingReason(ctx, burst));
    return;
  }
  if (!wantsMore(ctx, burst)) {
    burst.waitingOn = `${describeSignals(ctx.policy, ctx.signals)}: not stepping up`;
    return;
  }
  // Capacity for the next step is requested while dwelling at this one, so it is ready sooner;
  // that is when it starts to cost, so the budget is judged then.
  if (next > burst.capacityShare + SHARE_EPSILON && refusedByBudget(ctx, next, burst)) return;
  burst.capacityShare = Math.max(burst.capacityShare, next);
  stepUpWhenReady(ctx, burst, next);
}

function stepUpWhenReady(ctx: DecisionContext, burst: ActiveBurst, next: number): void {
  const wait = timingBlocker(ctx, burst);
  if (wait !== null) {
    burst.waitingOn = wait;
    return;
  }
  const short = readinessBlocker(ctx, next);
  if (short === null) {
    stepUp(ctx, burst, next);
    return;
  }
  burst.waitingOn = short;
  if (ctx.state.phase === 'shifting') transition(ctx, 'scaling-out', 'phase', `waiting for capacity: ${short}`);
}

function stepUp(ctx: DecisionContext, burst: ActiveBurst, next: number): void {
  const from = burst.share;
  const cause = burst.origin === 'manual' ? manualCause(burst) : describeSignals(ctx.policy, ctx.signals);
  const reason = `${cause}; ${readinessSummary(ctx)}; share ${formatShare(from)} → ${formatShare(next)}${costSoFar(burst)}`;
  commitShare(ctx, burst, next, reason);
  const to = positionPhase(burst);
  transition(ctx, to, 'step', to === 'holding' ? `${reason}; ${holdingReason(ctx, burst)}` : reason);
}

function manualCause(burst: ActiveBurst): string {
  return `manual burst by ${burst.manual?.actor ?? 'an operator'}: ${burst.manual?.reason ?? ''}`;
}

function holdingReason(ctx: DecisionContext, burst: ActiveBurst): string {
  const target = burst.origin === 'manual' ? 'the requested share' : 'the top step';
  return `holding at ${target} ${formatShare(burst.share)} (maxShare ${formatShare(ctx.policy.maxShare)})`;
}

function wantsMore(ctx: DecisionContext, burst: ActiveBurst): boolean {
  // A predictive policy also steps up while the load beyond on-prem capacity needs more than the share.
  return burst.origin === 'manual' || ctx.level === 'hot' || forecastNeed(ctx) > burst.share + SHARE_EPSILON;
}

/** The router must show the current step, and the step must have lasted long enough. */
function timingBlocker(ctx: DecisionContext, burst: ActiveBurst): string | null {
  if (!sameShare(ctx.observed.appliedShare, burst.share)) {
    return `the router to apply share ${formatShare(burst.share)} (it holds ${formatShare(ctx.observed.appliedShare)})`;
  }
  const readyAt = dwellEndsAt(ctx, burst);
  if (readyAt > ctx.now) return `the step to last until ${formatTime(readyAt)}`;
  return measuredShareBlocker(ctx, burst);
}

/**
 * With `measuredShare.holdSteps`, the next step waits until the clients' reported share follows
 * the published one. No data (no reports, too little traffic) does not hold: it is no evidence.
 */
function measuredShareBlocker(ctx: DecisionContext, burst: ActiveBurst): string | null {
  const settings = ctx.policy.measuredShare;
  if (!settings?.holdSteps || burst.share <= SHARE_EPSILON) return null;
  const verdict = judgeMeasuredShare({
    published: ctx.observed.appliedShare,
    measured: ctx.observed.measuredShare,
    lastShareChangeAt: ctx.state.lastShareChangeAt,
    now: ctx.now,
    settings,
  });
  if (verdict.kind !== 'diverges' && verdict.kind !== 'settling') return null;
  return `the measured cloud share to follow: ${verdict.detail}`;
}

/** minDwell between any two changes; stepping up from a share above 0 also waits stepInterval. */
export function dwellEndsAt(ctx: DecisionContext, burst: ActiveBurst): number {
  const last = ctx.state.lastShareChangeAt;
  if (last === null) return ctx.now;
  const { minDwellSeconds, stepIntervalSeconds } = ctx.policy;
  const rising = ctx.state.phase !== 'draining' && burst.share > SHARE_EPSILON;
  return last + secondsMs(rising ? Math.max(minDwellSeconds, stepIntervalSeconds) : minDwellSeconds);
}

function finishIfDue(ctx: DecisionContext, burst: ActiveBurst): boolean {
  if (burst.origin === 'manual') return expireIfDue(ctx, burst);
  if (burst.quietSince === null || ctx.now - burst.quietSince < cooldownMs(ctx, burst)) return false;
  const since = formatTime(burst.quietSince);
  transition(ctx, 'draining', 'phase', `signal quiet since ${since}, cooldown over; stepping the share back down`);
  return true;
}

function expireIfDue(ctx: DecisionContext, burst: ActiveBurst): boolean {
  const expiresAt = burst.manual?.expiresAt ?? null;
  if (expiresAt === null || ctx.now < expiresAt) return false;
  const expired = `manual burst expired at ${formatTime(expiresAt)}`;
  if (ctx.level === 'quiet') {
    // Up as the operator asked, down gently: through the policy's steps below the share too.
    burst.path = mergePaths(burst.path, planPath(ctx.policy, ctx.policy.steps).path);
    transition(ctx, 'draining', 'phase', `${expired}; stepping the share back down`);
    return true;
  }
  // Draining a service that is still burning only to burst again would flap; hand it to the signals.
  resumeAutomatic(ctx, burst, `${expired} while ${describeSignals(ctx.policy, ctx.signals)}; continuing as automatic`);
  return true;
}

function mergePaths(a: readonly number[], b: readonly number[]): number[] {
  const sorted = [...a, ...b].sort((x, y) => x - y);
  return sorted.filter((share, i) => i === 0 || share > (sorted[i - 1] ?? 0) + SHARE_EPSILON);
}

/** The signals take over a burst (back from draining or scaling-in, or after a manual expiry). */
function resumeAutomatic(ctx: DecisionContext, burst: ActiveBurst, reason: string): void {
  if (burst.origin === 'manual') burst.path = planPath(ctx.policy, ctx.policy.steps).path;
  burst.origin = 'signal';
  burst.quietSince = null;
  burst.waitingOn = null;
  transition(ctx, positionPhase(burst), 'phase', reason);
}

function stepDraining(ctx: DecisionContext): void {
  const burst = activeBurst(ctx);
  if (ctx.level === 'hot') {
    resumeAutomatic(ctx, burst, `${describeSignals(ctx.policy, ctx.signals)} again while draining; resuming`);
    dampRebreach(ctx, burst);
    return;
  }
  if (forecastHolds(ctx)) {
    resumeAutomatic(ctx, burst, 'the forecast puts the load above on-prem capacity again while draining; resuming');
    return;
  }
  if (burst.share <= SHARE_EPSILON) {
    finishDraining(ctx, burst);
    return;
  }
  // Inside the hysteresis band the step-down pauses: going lower is what pushed the SLO up.
  if (ctx.level === 'warm') {
    burst.waitingOn = `${describeSignals(ctx.policy, ctx.signals)}: step-down paused`;
    return;
  }
  const wait = timingBlocker(ctx, burst);
  if (wait !== null) {
    burst.waitingOn = wait;
    return;
  }
  const down = nextDown(burst);
  const reason = `${describeSignals(ctx.policy, ctx.signals)}; share ${formatShare(burst.share)} → ${formatShare(down)}`;
  commitShare(ctx, burst, down, reason);
  noteStepDown(ctx, burst);
  record(ctx, 'step', reason);
}

function finishDraining(ctx: DecisionContext, burst: ActiveBurst): void {
  if (!sameShare(ctx.observed.appliedShare, 0)) {
    burst.waitingOn = `the router to apply share 0 (it holds ${formatShare(ctx.observed.appliedShare)})`;
    return;
  }
  const floor = floorCapacity(ctx.policy.capacity);
  const to = `${plural(floor.replicas, 'replica')}, ${plural(floor.nodes, 'node')}`;
  transition(ctx, 'scaling-in', 'phase', `share 0 applied; releasing capacity to the floor (${to})`);
}

function stepScalingIn(ctx: DecisionContext): void {
  const burst = activeBurst(ctx);
  if (ctx.level === 'hot') {
    resumeAutomatic(ctx, burst, `${describeSignals(ctx.policy, ctx.signals)} again while scaling in; resuming`);
    dampRebreach(ctx, burst);
    return;
  }
  releaseToFloor(ctx, burst, `burst ${burst.id} ended`);
}

function stepAborted(ctx: DecisionContext): void {
  releaseToFloor(ctx, activeBurst(ctx), `abort of burst ${activeBurst(ctx).id} complete`);
}

/** Idle once no traffic reaches the cloud and the capacity is down at the floor. */
function releaseToFloor(ctx: DecisionContext, burst: ActiveBurst, done: string): void {
  const { appliedShare, replicasReady, nodesReady } = ctx.observed;
  if (!sameShare(appliedShare, 0)) {
    burst.waitingOn = `the router to apply share 0 (it holds ${formatShare(appliedShare)})`;
    return;
  }
  const floor = floorCapacity(ctx.policy.capacity);
  const replicasUp = ctx.policy.cloud.deployment !== undefined && replicasReady > floor.replicas;
  const nodesUp = ctx.policy.cloud.eks !== undefined && nodesReady > floor.nodes;
  if (replicasUp || nodesUp) {
    burst.waitingOn = `capacity to reach the floor (${replicasReady} replicas, ${nodesReady} nodes ready)`;
    return;
  }
  transition(ctx, 'idle', 'end', `${done}; capacity at the floor${costSoFar(burst)}`);
  ctx.state.burst = null;
  clearBudgetHold(ctx);
}

/** The capacity the burst wants now: the floor once releasing, else enough for `capacityShare`. */
export function desiredCapacity(ctx: DecisionContext, burst: ActiveBurst): { releasing: boolean; plan: CapacityPlan } {
  const releasing = ctx.state.phase === 'scaling-in' || ctx.state.phase === 'aborted';
  const plan = releasing
    ? floorCapacity(ctx.policy.capacity)
    : capacityForShare(ctx.policy.capacity, burst.capacityShare);
  return { releasing, plan };
}

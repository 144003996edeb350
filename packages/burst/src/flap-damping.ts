import { type BurstPolicy, type DampingSettings, DEFAULT_DAMPING } from '@spillway/model';
import { type DecisionContext, record, secondsMs } from './context.js';
import { formatShare, formatTime } from './format.js';
import type { ActiveBurst, BurstState } from './types.js';

/**
 * Flap damping for automatic bursts, after BGP route-flap damping (RFC 2439) and the back-off
 * of the Kubernetes HPA's scale-down: when the signal breaches again soon after a step down,
 * the step down was the cause (the load is still above on-prem capacity), so this burst's
 * cooldown doubles before it tries again. Without it a reactive burst under sustained overload
 * drains, re-breaches and climbs back every cooldown + a few minutes, each time burning error
 * budget and churning capacity. Manual bursts, aborts and safety drops never read it.
 */

/** The policy's window (in cooldowns) and cap (a factor of its cooldown); defaults when it sets none. */
export function dampingOf(ctx: DecisionContext): DampingSettings {
  return ctx.policy.damping ?? DEFAULT_DAMPING;
}

/** The cooldown that applies to `burst` now: the policy's, or its damped one (within the policy's cap). */
export function cooldownMs(ctx: DecisionContext, burst: ActiveBurst): number {
  const base = ctx.policy.cooldownSeconds;
  const damped = burst.damping?.cooldownSeconds ?? base;
  return secondsMs(Math.min(damped, base * dampingOf(ctx).maxFactor));
}

/**
 * How many policy cooldowns the burst's cooldown is now: 1 without damping, up to the policy's
 * maxFactor (a cap lowered mid-burst applies at once). What `spillway_burst_cooldown_factor` shows.
 */
export function cooldownFactor(policy: BurstPolicy, burst: ActiveBurst | null): number {
  const damped = burst?.damping?.cooldownSeconds;
  if (damped == null) return 1;
  const { maxFactor } = policy.damping ?? DEFAULT_DAMPING;
  return Math.max(1, Math.min(damped / policy.cooldownSeconds, maxFactor));
}

/**
 * Whether the decisions from `before` to `after` damped a re-breach (the burst's pending step
 * down was answered by a longer cooldown): what `spillway_burst_damping_total` counts. A step
 * down that held (damping cleared) or a new burst is not one.
 */
export function dampedRebreach(before: BurstState, after: BurstState): boolean {
  const pending = before.burst?.damping?.steppedDownAt;
  const now = after.burst?.damping;
  return pending != null && now != null && now.steppedDownAt === null && after.burst?.id === before.burst?.id;
}

/** Remembers a step down of an automatic burst, so that a re-breach soon after is recognised. */
export function noteStepDown(ctx: DecisionContext, burst: ActiveBurst): void {
  if (burst.origin !== 'signal') return;
  const cooldownSeconds = burst.damping?.cooldownSeconds ?? ctx.policy.cooldownSeconds;
  burst.damping = { cooldownSeconds, steppedDownAt: ctx.now, steppedDownTo: burst.share };
}

/**
 * The signal is hot again while the burst is coming down: if that is within the window of the
 * last step down, the cooldown doubles (bounded) and the decision is audited with its reason.
 */
export function dampRebreach(ctx: DecisionContext, burst: ActiveBurst): void {
  const damping = burst.damping;
  if (burst.origin !== 'signal' || damping == null || damping.steppedDownAt === null) return;
  const after = ctx.now - damping.steppedDownAt;
  if (after > rebreachWindowMs(ctx)) return;
  const base = ctx.policy.cooldownSeconds;
  const { maxFactor } = dampingOf(ctx);
  const doubled = Math.min(damping.cooldownSeconds * 2, base * maxFactor);
  const bounded = doubled === damping.cooldownSeconds ? ` (the bound, ${maxFactor} × the policy's)` : '';
  burst.damping = { ...damping, cooldownSeconds: doubled, steppedDownAt: null };
  const seconds = Math.round(after / 1000);
  record(
    ctx,
    'damping',
    `re-breached ${seconds} s after stepping down to ${formatShare(damping.steppedDownTo)}: cooldown now ${doubled} s${bounded}`,
  );
}

/**
 * A step down that the signal did not follow with a breach within the window held: the load
 * has come down, so the burst's cooldown goes back to the policy's.
 */
export function relaxDamping(ctx: DecisionContext, burst: ActiveBurst | null): void {
  const damping = burst?.damping;
  if (burst == null || damping == null || damping.steppedDownAt === null) return;
  if (ctx.now - damping.steppedDownAt <= rebreachWindowMs(ctx)) return;
  const base = ctx.policy.cooldownSeconds;
  if (damping.cooldownSeconds !== base) {
    const since = formatTime(damping.steppedDownAt);
    const share = formatShare(damping.steppedDownTo);
    record(ctx, 'damping', `no re-breach since stepping down to ${share} at ${since}: cooldown back to ${base} s`);
  }
  burst.damping = null;
}

function rebreachWindowMs(ctx: DecisionContext): number {
  return secondsMs(ctx.policy.cooldownSeconds * dampingOf(ctx).windowCooldowns);
}

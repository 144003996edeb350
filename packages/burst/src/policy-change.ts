import { planPath, SHARE_EPSILON, sameShare } from './capacity.js';
import { commitShare, type DecisionContext, positionPhase, record, transition } from './context.js';
import { formatShare } from './format.js';
import type { BurstPhase } from './types.js';

/** Phases whose path and share follow the policy; aborted and scaling-in already head for 0. */
const FOLLOWING: readonly BurstPhase[] = ['warming', 'scaling-out', 'shifting', 'holding', 'draining'];

/**
 * A running burst follows the policy as it is now, not as it was when the burst started (the
 * policy may have been reloaded or its BurstPolicy edited): the path is planned again under the
 * current steps, maxShare and budget, and a committed share above the new ceiling comes down to
 * it at once (no dwell: maxShare is a safety bound, not a step). Capacity is left alone; it is
 * released when the burst ends, never while traffic is in the cloud.
 */
export function followPolicy(ctx: DecisionContext): void {
  const burst = ctx.state.burst;
  if (burst === null || !FOLLOWING.includes(ctx.state.phase)) return;
  // Automatic bursts climb the policy's own steps; a manual burst keeps its requested steps, capped.
  const requested = burst.origin === 'signal' ? ctx.policy.steps : burst.path;
  const { path, notes } = planPath(ctx.policy, requested);
  if (!samePath(path, burst.path)) {
    const before = burst.path.map(formatShare).join(', ');
    burst.path = path;
    record(ctx, 'capacity', `policy changed: path [${before}] → [${path.map(formatShare).join(', ')}]`);
    for (const note of notes) record(ctx, 'capacity', note);
  }
  const ceiling = path.at(-1) ?? 0;
  if (burst.share <= ceiling + SHARE_EPSILON) return;
  const reason = `the policy now allows at most share ${formatShare(ceiling)}: share ${formatShare(burst.share)} → ${formatShare(ceiling)} at once`;
  commitShare(ctx, burst, ceiling, reason);
  const to = ctx.state.phase === 'draining' ? 'draining' : positionPhase(burst);
  transition(ctx, to, 'safety', reason);
}

function samePath(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((step, index) => sameShare(step, b[index] ?? Number.NaN));
}

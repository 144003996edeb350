import { sameShare } from './capacity.js';
import type { DecisionContext } from './context.js';
import { learnLeadTime } from './lead-time.js';
import type { Intent, IntentKind, IntentMode } from './types.js';

/** What the world shows for the thing an intent of this kind sets. */
function observedFor(ctx: DecisionContext, kind: IntentKind): number {
  const { appliedShare, replicasReady, nodesReady } = ctx.observed;
  if (kind === 'traffic') return appliedShare;
  return kind === 'replicas' ? replicasReady : nodesReady;
}

export function reached(mode: IntentMode, value: number, observed: number): boolean {
  if (mode === 'at-least') return observed >= value;
  if (mode === 'at-most') return observed <= value;
  return sameShare(observed, value);
}

/** Marks the intents the world has reached, before anything is decided from them. */
export function refreshIntents(ctx: DecisionContext): void {
  const scaledOut: Intent[] = [];
  for (const kind of ['traffic', 'replicas', 'nodes'] as const) {
    const intent = ctx.state.intents[kind];
    if (intent !== null && !intent.satisfied && reached(intent.mode, intent.value, observedFor(ctx, kind))) {
      intent.satisfied = true;
      if (kind !== 'traffic' && intent.mode === 'at-least') scaledOut.push(intent);
    }
  }
  learnFromScaleOut(ctx, scaledOut);
}

/**
 * A scale-out is complete when no capacity increase is pending any more; its lead time runs
 * from the earliest request among the ones that just became ready.
 */
function learnFromScaleOut(ctx: DecisionContext, scaledOut: readonly Intent[]): void {
  const { replicas, nodes } = ctx.state.intents;
  const pending = [replicas, nodes].some(
    (intent) => intent !== null && !intent.satisfied && intent.mode === 'at-least',
  );
  const requested = scaledOut.map((intent) => intent.issuedAt).filter((at): at is number => at !== undefined);
  if (pending || requested.length === 0) return;
  ctx.state.leadTime = learnLeadTime(ctx.state.leadTime, (ctx.now - Math.min(...requested)) / 1000);
}

/**
 * A pending intent below `need` (a release still in flight, e.g. from the scale-in a resumed
 * burst interrupted): capacity observed now would not last, so it does not count as ready.
 */
export function pendingBelow(ctx: DecisionContext, kind: 'replicas' | 'nodes', need: number): Intent | null {
  const intent = ctx.state.intents[kind];
  return intent !== null && !intent.satisfied && intent.value < need ? intent : null;
}

/** A pending intent whose job, when it runs, would undo what is wanted now. */
function wouldUndo(previous: Intent, value: number, mode: IntentMode): boolean {
  if (previous.satisfied) return false;
  if (mode === 'at-least') return previous.value < value;
  if (mode === 'at-most') return previous.value > value;
  return previous.value !== value;
}

export interface IssuedIntent extends Intent {
  /** Created by this decision (a new key). */
  fresh: boolean;
  /** Fresh because the world drifted away from a value it had reached. */
  repair: boolean;
}

/**
 * The intent to act on for `kind`, or null when the world already is as wanted and nothing
 * in flight would change that. A pending intent keeps its sequence (same job key); a new
 * value, a new burst, or a repair after drift takes a new sequence (a new job).
 */
export function intend(
  ctx: DecisionContext,
  kind: IntentKind,
  /** `ceiling`: the most an at-least intent may ask for (the budget). */
  wanted: { burstId: string; value: number; mode: IntentMode; ceiling?: number },
): IssuedIntent | null {
  const { burstId, mode } = wanted;
  const previous = ctx.state.intents[kind];
  const observed = observedFor(ctx, kind);
  const unreached = !reached(mode, wanted.value, observed);
  if (!unreached && (previous === null || !wouldUndo(previous, wanted.value, mode))) return null;
  // Superseding a pending lower value while more is running: ask to keep what runs, not to shrink.
  const keep = Math.min(Math.max(wanted.value, observed), wanted.ceiling ?? wanted.value);
  const value = !unreached && mode === 'at-least' ? keep : wanted.value;
  const same = previous !== null && previous.burstId === burstId && previous.value === value && previous.mode === mode;
  if (same && !previous.satisfied) return { ...previous, fresh: false, repair: false };
  ctx.state.seq += 1;
  const intent: Intent = { burstId, value, mode, seq: ctx.state.seq, satisfied: false, issuedAt: ctx.now };
  ctx.state.intents[kind] = intent;
  return { ...intent, fresh: true, repair: same };
}

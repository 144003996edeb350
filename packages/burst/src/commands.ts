import { MIN_MANUAL_SHARE, planPath, SHARE_EPSILON } from './capacity.js';
import { type DecisionContext, record, transition } from './context.js';
import { formatShare, formatTime } from './format.js';
import type { AbortRequest, ActiveBurst, ManualBurstRequest } from './types.js';

/** Start first, abort second: when both arrive together, the abort wins. */
export function applyCommands(ctx: DecisionContext, start?: ManualBurstRequest, abort?: AbortRequest): void {
  if (start !== undefined) applyStart(ctx, start);
  if (abort !== undefined) applyAbort(ctx, abort);
}

function isShare(value: number): boolean {
  return Number.isFinite(value) && value >= MIN_MANUAL_SHARE && value <= 1;
}

function startProblem(ctx: DecisionContext, request: ManualBurstRequest): string | null {
  if (request.id === '') return 'the request has no id';
  if (!isShare(request.share)) return `share ${request.share} is not in [${MIN_MANUAL_SHARE}, 1]`;
  const steps = request.steps ?? [];
  if (!steps.every(isShare)) return `every step must be in [${MIN_MANUAL_SHARE}, 1]`;
  if (steps.some((step, i) => i > 0 && step <= (steps[i - 1] ?? 0))) return 'steps must be strictly ascending';
  if (request.expiresAt !== undefined && !Number.isFinite(request.expiresAt)) return 'its expiry is not a time';
  if (request.expiresAt !== undefined && request.expiresAt <= ctx.now) return 'it expires before it could start';
  return null;
}

function refuseStart(ctx: DecisionContext, request: ManualBurstRequest, why: string): void {
  record(ctx, 'refusal', `manual burst ${request.id} by ${request.actor} refused: ${why}`, {
    from: ctx.state.phase,
    burstId: request.id,
  });
}

function applyStart(ctx: DecisionContext, request: ManualBurstRequest): void {
  const current = ctx.state.burst;
  // A re-delivered request (API retry, controller restart) must not restart its own burst.
  if (current !== null && current.id === request.id) return;
  const problem = startProblem(ctx, request);
  if (problem !== null) {
    refuseStart(ctx, request, problem);
    return;
  }
  // Warm capacity is no traffic: an operator's burst takes it over.
  if (current !== null && ctx.state.phase !== 'aborted' && ctx.state.phase !== 'warming') {
    refuseStart(ctx, request, `burst ${current.id} is ${ctx.state.phase}; abort it first`);
    return;
  }
  startManual(ctx, request);
}

function startManual(ctx: DecisionContext, request: ManualBurstRequest): void {
  const below = (request.steps ?? []).filter((step) => step < request.share - SHARE_EPSILON);
  const { path, notes } = planPath(ctx.policy, [...below, request.share]);
  // An aborted burst may still have traffic in flight; the new one starts from share 0.
  ctx.state.burst = {
    id: request.id,
    origin: 'manual',
    startedAt: ctx.now,
    path,
    share: 0,
    shareReason: `manual burst ${request.id} starting`,
    capacityShare: 0,
    quietSince: null,
    manual: { reason: request.reason, actor: request.actor, expiresAt: request.expiresAt ?? null },
    abort: null,
    waitingOn: null,
  };
  ctx.state.autoSuppressed = false;
  const expiry = request.expiresAt === undefined ? 'no expiry' : `until ${formatTime(request.expiresAt)}`;
  const target = formatShare(path.at(-1) ?? 0);
  transition(
    ctx,
    'scaling-out',
    'start',
    `manual burst by ${request.actor}: ${request.reason}; to share ${target}, ${expiry}`,
  );
  for (const note of notes) record(ctx, 'capacity', note);
}

function applyAbort(ctx: DecisionContext, request: AbortRequest): void {
  const burst = ctx.state.burst;
  if (burst === null) {
    record(ctx, 'refusal', `abort by ${request.actor} refused: no burst is running`, {
      from: ctx.state.phase,
      burstId: request.burstId ?? null,
    });
    return;
  }
  if (request.burstId !== undefined && request.burstId !== burst.id) {
    record(ctx, 'refusal', `abort by ${request.actor} refused: burst ${request.burstId} is not the running one`);
    return;
  }
  if (ctx.state.phase === 'aborted') return;
  abortBurst(ctx, burst, request);
}

/** Ends `burst` at once: share 0 first (no dwell), capacity after; automatic bursts wait for a quiet signal. */
export function abortBurst(ctx: DecisionContext, burst: ActiveBurst, request: AbortRequest): void {
  const from = burst.share;
  const reason = `aborted by ${request.actor}: ${request.reason}`;
  burst.abort = { reason: request.reason, actor: request.actor, at: ctx.now };
  // The abort ignores minDwell: an operator's "stop" is not flapping.
  if (from > 0) {
    burst.share = 0;
    ctx.state.lastShareChangeAt = ctx.now;
  }
  burst.shareReason = reason;
  burst.waitingOn = null;
  ctx.state.autoSuppressed = true;
  transition(ctx, 'aborted', 'abort', `${reason}; traffic share ${formatShare(from)} → 0 first, capacity after`);
}

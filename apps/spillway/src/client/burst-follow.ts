import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from '../load-config.js';
import { type ApiClient, ApiError } from './api-client.js';
import { phaseText, progressLine, shareText } from './burst-view.js';
import { formatDuration } from './format.js';
import type { Output } from './output.js';
import { AuditResponse, type BurstDetail, BurstDetail as BurstDetailSchema } from './schemas.js';

/** Exit code when `--wait` gives up: the burst goes on, the command stops watching. */
export const DEADLINE_EXIT_CODE = 3;
const SHARE_EPSILON = 1e-9;

/** `holding`: at its target share (burst start); `ended`: no longer active (burst abort). */
export type FollowGoal = 'holding' | 'ended';

export interface FollowOptions {
  readonly goal: FollowGoal;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
}

export function burstPath(id: string): string {
  return `/v1/bursts/${encodeURIComponent(id)}`;
}

/** True once the burst is where the goal wants it; throws when it can no longer get there. */
function reached(burst: BurstDetail, goal: FollowGoal): boolean {
  if (goal === 'ended') return !burst.active;
  if (burst.active && burst.phase === 'holding' && Math.abs(burst.share - burst.targetShare) < SHARE_EPSILON) {
    return true;
  }
  if (!burst.active || burst.phase === 'aborted') {
    const why = burst.abort ? `: aborted by ${burst.abort.actor}: ${burst.abort.reason}` : '';
    throw new CliError(`burst ${burst.id} ${phaseText(burst)} before holding at its share${why}`);
  }
  return false;
}

/**
 * Polls `GET /v1/bursts/{id}` until the goal is reached, writing a progress line to stderr
 * whenever the phase, share or what it waits on changes. Before the controller has taken the
 * request the burst is a 404; a start the controller refused shows up in the audit log.
 */
export async function followBurst(
  api: ApiClient,
  output: Output,
  id: string,
  options: FollowOptions,
): Promise<BurstDetail> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let last = '';
  for (;;) {
    const burst = await fetchBurst(api, id);
    if (burst) {
      const line = progressLine(burst, formatDuration(Date.now() - started));
      const key = `${phaseText(burst)}|${shareText(burst)}|${burst.waitingOn ?? ''}`;
      if (key !== last) output.note(line);
      last = key;
      if (reached(burst, options.goal)) return burst;
    }
    if (Date.now() >= deadline) throw deadlinePassed(id, burst, options);
    await sleep(options.intervalMs ?? 500);
  }
}

async function fetchBurst(api: ApiClient, id: string): Promise<BurstDetail | undefined> {
  try {
    return await api.get(burstPath(id), BurstDetailSchema);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    const refusal = await findRefusal(api, id);
    if (refusal) throw new CliError(refusal);
    return undefined;
  }
}

/** The controller's reason for refusing burst `id` (e.g. another burst is running), if any. */
export async function findRefusal(api: ApiClient, id: string): Promise<string | undefined> {
  const { entries } = await api.get('/v1/audit', AuditResponse, { burstId: id, limit: 50 });
  return entries.find((entry) => entry.details?.decision === 'refusal')?.message;
}

function deadlinePassed(id: string, burst: BurstDetail | undefined, options: FollowOptions): CliError {
  const after = formatDuration(options.timeoutMs);
  if (!burst) return new CliError(`burst ${id} not started by the controller after ${after}`, DEADLINE_EXIT_CODE);
  const where = `${phaseText(burst)} at share ${shareText(burst)}${burst.waitingOn ? `, waiting on ${burst.waitingOn}` : ''}`;
  const goal = options.goal === 'holding' ? 'holding at its share' : 'ended';
  const next = options.goal === 'holding' ? `; it goes on: spillway burst abort ${id} stops it` : '';
  return new CliError(`burst ${id} not ${goal} after ${after}: ${where}${next}`, DEADLINE_EXIT_CODE);
}

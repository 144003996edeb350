import type { BurstTimeline, PhaseSpan, TimelinePoint } from '@spillway/api';
import type { AuditEntry, BurstRecord } from '@spillway/state';
import { z } from 'zod';

/** At most this many points (the newest) per answer. */
export const MAX_TIMELINE_POINTS = 500;

const DecisionDetails = z.object({ phase: z.string(), share: z.number().min(0).max(1) });

/**
 * The phase and share history of a burst, from its decision entries in the audit trail (every
 * decision the controller takes is audited with the phase and committed share after it), so any
 * process that reads the trail can answer, and it outlives restarts. Pure.
 * `entries` are the burst's audit entries, oldest first; `olderOmitted` says the page had older ones.
 */
export function burstTimeline(
  record: BurstRecord,
  entries: readonly AuditEntry[],
  olderOmitted = false,
): BurstTimeline {
  const points: TimelinePoint[] = [];
  const phases: PhaseSpan[] = [];
  for (const entry of entries) {
    if (entry.kind !== 'decision') continue;
    const details = DecisionDetails.safeParse(entry.details);
    if (!details.success) continue;
    points.push({ at: entry.at, phase: details.data.phase, share: details.data.share });
    const current = phases.at(-1);
    if (current?.phase !== details.data.phase) {
      if (current) current.until = entry.at;
      phases.push({ phase: details.data.phase, since: entry.at, until: null, reason: entry.message });
    }
  }
  const now = recordPoint(record);
  if (now) points.push(now);
  const last = phases.at(-1);
  if (last && !record.active && record.phase === 'ended') last.until ??= record.updatedAt;
  return {
    id: record.id,
    service: record.service,
    active: record.active,
    points: points.slice(-MAX_TIMELINE_POINTS),
    phases: phases.slice(-MAX_TIMELINE_POINTS),
    appliedShare: typeof record.appliedShare === 'number' ? record.appliedShare : null,
    truncated: olderOmitted || points.length > MAX_TIMELINE_POINTS,
  };
}

/** The record's own state as the newest point, so the line reaches "now". */
function recordPoint(record: BurstRecord): TimelinePoint | undefined {
  const share = typeof record.share === 'number' ? record.share : undefined;
  const phase = typeof record.phase === 'string' ? record.phase : undefined;
  if (share === undefined || phase === undefined) return undefined;
  return { at: record.updatedAt, phase, share: Math.min(1, Math.max(0, share)) };
}

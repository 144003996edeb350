import type { SourceState } from '@spillway/model';

/** What the catalog remembers about a source's contacts (times in epoch ms). */
export interface LivenessRecord {
  readonly synced: boolean;
  readonly lastSyncAt: number | null;
  readonly failingSince: number | null;
}

/**
 * A source's state at `now`. The grace period runs from the first failure after the last
 * success, not from the last event: a watch can be quiet for hours and still be live.
 */
export function sourceState(record: LivenessRecord, now: number, graceMs: number): SourceState {
  if (record.failingSince === null) return record.synced ? 'live' : 'syncing';
  return now - record.failingSince >= graceMs ? 'stale' : 'failing';
}

/** When the source will turn stale if nothing changes; null when it is not failing. */
export function staleAt(record: LivenessRecord, graceMs: number): number | null {
  return record.failingSince === null ? null : record.failingSince + graceMs;
}

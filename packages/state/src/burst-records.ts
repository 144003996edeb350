import { z } from 'zod';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { FencingToken } from './fencing.js';

/**
 * A burst as the API shows it. Only these fields are Spillway's storage contract; the burst
 * controller adds whatever else it wants to show (state, step, history, waiting on).
 */
export const BurstRecord = z.looseObject({
  id: z.string().min(1),
  service: z.string().min(1),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  active: z.boolean(),
});
export type BurstRecord = z.infer<typeof BurstRecord>;

export interface BurstQuery {
  service?: string;
  active?: boolean;
  /** At most this many, newest (createdAt) first. */
  limit: number;
  /** Continue after the page that returned this `next`. */
  cursor?: string;
  /** At most this many records are looked at per call (default 5,000); a short page then has a `next`. */
  maxScan?: number;
}

export interface BurstPage {
  readonly bursts: BurstRecord[];
  /** The cursor for the next (older) page; null when there is nothing older. */
  readonly next: string | null;
}

/**
 * Which ended bursts are kept: at most `maxEnded`, none that ended more than `maxAgeMs` ago.
 * Active bursts are always kept, whatever their age.
 */
export interface BurstRetention {
  readonly maxEnded: number;
  readonly maxAgeMs: number;
}
export const DEFAULT_BURST_RETENTION: BurstRetention = { maxEnded: 1000, maxAgeMs: 7 * 24 * 3600 * 1000 };

export interface BurstRecordsOptions {
  readonly retention?: BurstRetention;
  readonly now?: () => number;
}

/** Bursts by id, for the API; the controller writes them, any process reads them. */
export interface BurstRecords {
  /**
   * Inserts or replaces the record with this id; storing an ended one applies the retention.
   * With `fence`, refused (FencedWriteError) once the lease has moved on from it.
   */
  put(record: BurstRecord, fence?: FencingToken): Promise<void>;
  get(id: string): Promise<BurstRecord | undefined>;
  page(query: BurstQuery): Promise<BurstPage>;
}

/** Where a record sits in the newest-first order: createdAt, then id descending (as Redis orders equal scores). */
export interface BurstPosition {
  readonly createdMs: number;
  readonly id: string;
}

export function positionOf(record: BurstRecord): BurstPosition {
  return { createdMs: Date.parse(record.createdAt), id: record.id };
}

/** Negative when `a` comes first (is newer). */
export function compareNewestFirst(a: BurstPosition, b: BurstPosition): number {
  const byTime = b.createdMs - a.createdMs;
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function matchesQuery(record: BurstRecord, query: BurstQuery): boolean {
  if (query.service !== undefined && record.service !== query.service) return false;
  return query.active === undefined || record.active === query.active;
}

export function encodeBurstCursor(position: BurstPosition): string {
  return encodeCursor([position.createdMs, position.id]);
}

export function decodeBurstCursor(text: string): BurstPosition {
  const [createdMs, id] = decodeCursor(text, ['number', 'string']);
  return { createdMs: createdMs as number, id: id as string };
}

/** True when `position` comes strictly after `cursor` in the newest-first order. */
export function isAfterCursor(position: BurstPosition, cursor: BurstPosition | null): boolean {
  return cursor === null || compareNewestFirst(position, cursor) > 0;
}

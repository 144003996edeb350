import { z } from 'zod';

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
}

/** Bursts by id, for the API; the controller writes them, any process reads them. */
export interface BurstRecords {
  /** Inserts or replaces the record with this id. */
  put(record: BurstRecord): Promise<void>;
  get(id: string): Promise<BurstRecord | undefined>;
  list(query: BurstQuery): Promise<BurstRecord[]>;
}

/** Newest first; ties (same createdAt) by id descending, as Redis orders equal scores. */
export function compareNewestFirst(a: BurstRecord, b: BurstRecord): number {
  const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt);
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function matchesQuery(record: BurstRecord, query: BurstQuery): boolean {
  if (query.service !== undefined && record.service !== query.service) return false;
  return query.active === undefined || record.active === query.active;
}

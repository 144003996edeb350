import { z } from 'zod';

export const AuditKind = z.enum(['decision', 'action', 'signal', 'api']);
export type AuditKind = z.infer<typeof AuditKind>;

/** One line of the audit trail: who did what, when and why. */
export const AuditEntry = z.object({
  at: z.iso.datetime({ offset: true }),
  actor: z.string().min(1),
  kind: AuditKind,
  service: z.string().optional(),
  burstId: z.string().optional(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export interface AuditQuery {
  service?: string;
  burstId?: string;
  /** ISO time: entries at or after it. */
  since?: string;
  limit: number;
}

/** Every decision and action with its reason; newest first when read. */
export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  list(query: AuditQuery): Promise<AuditEntry[]>;
}

export function matchesAuditQuery(entry: AuditEntry, query: AuditQuery): boolean {
  if (query.service !== undefined && entry.service !== query.service) return false;
  if (query.burstId !== undefined && entry.burstId !== query.burstId) return false;
  return query.since === undefined || Date.parse(entry.at) >= Date.parse(query.since);
}

/**
 * Entries are appended in time order, so a newest-first scan may stop at the first entry older
 * than `since`. (Two writers' clocks may disagree by a little; the audit is for humans.)
 */
export function olderThanSince(entry: AuditEntry, query: AuditQuery): boolean {
  return query.since !== undefined && Date.parse(entry.at) < Date.parse(query.since);
}

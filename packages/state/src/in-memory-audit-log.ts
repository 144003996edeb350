import { AuditEntry, type AuditLog, type AuditQuery, matchesAuditQuery, olderThanSince } from './audit-log.js';

/** AuditLog for embedded mode: the newest `maxEntries`, like the capped Redis stream. */
export class InMemoryAuditLog implements AuditLog {
  private readonly entries: AuditEntry[] = [];

  constructor(private readonly maxEntries = 100_000) {}

  async append(entry: AuditEntry): Promise<void> {
    // A copy through JSON: a caller mutating its object later must not rewrite history.
    this.entries.push(AuditEntry.parse(JSON.parse(JSON.stringify(entry))));
    if (this.entries.length > this.maxEntries) this.entries.splice(0, this.entries.length - this.maxEntries);
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const found: AuditEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && found.length < query.limit; i--) {
      const entry = this.entries[i]!;
      if (olderThanSince(entry, query)) break;
      if (matchesAuditQuery(entry, query)) found.push(structuredClone(entry));
    }
    return found;
  }
}

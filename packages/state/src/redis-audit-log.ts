import type { Redis } from 'ioredis';
import { AuditEntry, type AuditLog, type AuditQuery, matchesAuditQuery, olderThanSince } from './audit-log.js';
import { CorruptStateError } from './errors.js';
import { redisCall } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { parseStored, toStored } from './stored-json.js';

const PAGE = 500;

/**
 * AuditLog in a Redis stream, capped with `XADD MAXLEN ~` (Redis trims whole nodes, so the length
 * hovers just above the cap, cheaply). Each entry is one field, `entry`, holding the JSON.
 */
export class RedisAuditLog implements AuditLog {
  private readonly key: string;

  constructor(
    private readonly client: Redis,
    keys: RedisKeys,
    private readonly maxEntries = 100_000,
  ) {
    this.key = keys.audit();
  }

  async append(entry: AuditEntry): Promise<void> {
    const text = toStored(AuditEntry.parse(entry), 'audit entry');
    await redisCall('audit.append', () =>
      this.client.xadd(this.key, 'MAXLEN', '~', this.maxEntries, '*', 'entry', text),
    );
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const found: AuditEntry[] = [];
    let end = '+';
    while (found.length < query.limit) {
      const page = await redisCall('audit.list', () => this.client.xrevrange(this.key, end, '-', 'COUNT', PAGE));
      for (const [id, fields] of page) {
        const entry = this.parse(id, fields);
        if (olderThanSince(entry, query)) return found;
        if (matchesAuditQuery(entry, query)) found.push(entry);
        if (found.length >= query.limit) return found;
      }
      const last = page.at(-1);
      if (page.length < PAGE || last === undefined) break;
      end = `(${last[0]}`;
    }
    return found;
  }

  private parse(id: string, fields: string[]): AuditEntry {
    const index = fields.indexOf('entry');
    const raw = index >= 0 ? fields[index + 1] : undefined;
    if (raw === undefined) throw new CorruptStateError(this.key, id, 'no entry field');
    return parseStored(AuditEntry, raw, this.key, id);
  }
}

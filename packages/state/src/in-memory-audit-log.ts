import {
  AUDIT_CLASSES,
  type AuditCaps,
  type AuditClass,
  AuditEntry,
  type AuditLog,
  type AuditPage,
  type AuditQuery,
  type AuditStreams,
  auditClassOf,
  boundAuditEntry,
  compareStreamIds,
  DEFAULT_AUDIT_CAPS,
  readAuditPage,
  type StoredAuditEntry,
  type StreamBound,
  type StreamId,
} from './audit-log.js';

/**
 * AuditLog for embedded mode: one array per class, each capped like the Redis streams, with
 * stream-style ids (milliseconds, sequence) so both stores page the same way.
 */
export class InMemoryAuditLog implements AuditLog, AuditStreams {
  private readonly streams = new Map<AuditClass, StoredAuditEntry[]>(AUDIT_CLASSES.map((cls) => [cls, []]));
  private readonly caps: AuditCaps;
  private readonly now: () => number;
  private lastId: StreamId = [0, 0];

  constructor(options: { caps?: Partial<AuditCaps>; now?: () => number } = {}) {
    this.caps = { ...DEFAULT_AUDIT_CAPS, ...options.caps };
    this.now = options.now ?? Date.now;
  }

  async append(entry: AuditEntry): Promise<void> {
    // A copy through JSON: a caller mutating its object later must not rewrite history.
    const stored = AuditEntry.parse(JSON.parse(JSON.stringify(boundAuditEntry(AuditEntry.parse(entry)))));
    const cls = auditClassOf(stored.kind);
    const stream = this.streams.get(cls)!;
    stream.push({ id: this.nextId(), entry: stored });
    // Trimmed in batches (like `MAXLEN ~`): a splice per append would cost O(cap) every time.
    const cap = this.caps[cls];
    if (stream.length > cap + Math.max(1, Math.floor(cap / 100))) stream.splice(0, stream.length - cap);
  }

  async page(query: AuditQuery): Promise<AuditPage> {
    return await readAuditPage(this, query);
  }

  async readBefore(cls: AuditClass, before: StreamBound | null, count: number): Promise<StoredAuditEntry[]> {
    const stream = this.streams.get(cls)!;
    let end = stream.length;
    if (before !== null) end = firstIndexAfter(stream, before);
    const found: StoredAuditEntry[] = [];
    for (let i = end - 1; i >= 0 && found.length < count; i--) {
      const stored = stream[i]!;
      found.push({ id: stored.id, entry: structuredClone(stored.entry) });
    }
    return found;
  }

  private nextId(): StreamId {
    const ms = Math.max(this.now(), this.lastId[0]);
    this.lastId = [ms, ms === this.lastId[0] ? this.lastId[1] + 1 : 0];
    return this.lastId;
  }
}

/** Index of the first entry not readable before `bound` (ids ascend: a binary search). */
function firstIndexAfter(stream: readonly StoredAuditEntry[], bound: StreamBound): number {
  let low = 0;
  let high = stream.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const order = compareStreamIds(stream[mid]!.id, bound.id);
    if (order < 0 || (order === 0 && bound.inclusive)) low = mid + 1;
    else high = mid;
  }
  return low;
}

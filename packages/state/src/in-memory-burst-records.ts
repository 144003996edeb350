import {
  type BurstPage,
  type BurstPosition,
  type BurstQuery,
  BurstRecord,
  type BurstRecords,
  type BurstRecordsOptions,
  type BurstRetention,
  compareNewestFirst,
  DEFAULT_BURST_RETENTION,
  decodeBurstCursor,
  encodeBurstCursor,
  isAfterCursor,
} from './burst-records.js';
import { parseStored, toStored } from './stored-json.js';

interface Held extends BurstPosition {
  readonly text: string;
  readonly service: string;
  /** When it ended (its last updatedAt), or null while it is active. */
  readonly endedMs: number | null;
}

/**
 * BurstRecords for embedded mode; JSON texts inside, like the Redis store. What a listing
 * filters and orders by is kept beside the text, so a page parses only the records it returns.
 */
export class InMemoryBurstRecords implements BurstRecords {
  private readonly held = new Map<string, Held>();
  private readonly retention: BurstRetention;
  private readonly now: () => number;

  constructor(options: BurstRecordsOptions = {}) {
    this.retention = options.retention ?? DEFAULT_BURST_RETENTION;
    this.now = options.now ?? Date.now;
  }

  async put(record: BurstRecord): Promise<void> {
    const valid = BurstRecord.parse(record);
    this.held.set(valid.id, {
      id: valid.id,
      createdMs: Date.parse(valid.createdAt),
      service: valid.service,
      endedMs: valid.active ? null : Date.parse(valid.updatedAt),
      text: toStored(valid, `burst ${valid.id}`),
    });
    if (!valid.active) this.prune();
  }

  async get(id: string): Promise<BurstRecord | undefined> {
    const held = this.held.get(id);
    return held === undefined ? undefined : this.parse(held);
  }

  async page(query: BurstQuery): Promise<BurstPage> {
    this.prune();
    const cursor = query.cursor === undefined ? null : decodeBurstCursor(query.cursor);
    const matching = [...this.held.values()]
      .filter((held) => query.service === undefined || held.service === query.service)
      .filter((held) => query.active === undefined || (held.endedMs === null) === query.active)
      .filter((held) => isAfterCursor(held, cursor))
      .sort(compareNewestFirst);
    const page = matching.slice(0, query.limit);
    const last = page.at(-1);
    return {
      bursts: page.map((held) => this.parse(held)),
      next: matching.length > page.length && last ? encodeBurstCursor(last) : null,
    };
  }

  /** Drops ended bursts beyond the count or past the age; active ones are never touched. */
  private prune(): void {
    const cutoff = this.now() - this.retention.maxAgeMs;
    const ended = [...this.held.values()].filter((held) => held.endedMs !== null);
    if (ended.length <= this.retention.maxEnded && ended.every((held) => (held.endedMs ?? 0) >= cutoff)) return;
    ended.sort((a, b) => (a.endedMs ?? 0) - (b.endedMs ?? 0));
    const excess = ended.length - this.retention.maxEnded;
    ended.forEach((held, index) => {
      if (index < excess || (held.endedMs ?? 0) < cutoff) this.held.delete(held.id);
    });
  }

  private parse(held: Held): BurstRecord {
    return parseStored(BurstRecord, held.text, 'memory:bursts', held.id);
  }
}

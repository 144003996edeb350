import { type BurstQuery, BurstRecord, type BurstRecords, compareNewestFirst, matchesQuery } from './burst-records.js';
import { parseStored, toStored } from './stored-json.js';

/** BurstRecords for embedded mode; JSON texts inside, like the Redis store. */
export class InMemoryBurstRecords implements BurstRecords {
  private readonly texts = new Map<string, string>();

  async put(record: BurstRecord): Promise<void> {
    const valid = BurstRecord.parse(record);
    this.texts.set(valid.id, toStored(valid, `burst ${valid.id}`));
  }

  async get(id: string): Promise<BurstRecord | undefined> {
    const raw = this.texts.get(id);
    return raw === undefined ? undefined : parseStored(BurstRecord, raw, 'memory:bursts', id);
  }

  async list(query: BurstQuery): Promise<BurstRecord[]> {
    const records = [...this.texts].map(([id, raw]) => parseStored(BurstRecord, raw, 'memory:bursts', id));
    return records
      .filter((record) => matchesQuery(record, query))
      .sort(compareNewestFirst)
      .slice(0, query.limit);
  }
}

import type { Redis } from 'ioredis';
import { type BurstQuery, BurstRecord, type BurstRecords, compareNewestFirst, matchesQuery } from './burst-records.js';
import { redisCall } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { parseStored, toStored } from './stored-json.js';

/** How many ids one page of a newest-first scan reads. */
const PAGE = 200;

/**
 * BurstRecords in Redis: a hash of record JSON by id, a sorted set by createdAt for newest-first
 * listing, and a set of active ids so "what is running" does not scan history. One MULTI keeps
 * the three in step.
 */
export class RedisBurstRecords implements BurstRecords {
  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async put(record: BurstRecord): Promise<void> {
    const valid = BurstRecord.parse(record);
    const text = toStored(valid, `burst ${valid.id}`);
    const tx = this.client.multi().hset(this.keys.bursts(), valid.id, text);
    tx.zadd(this.keys.burstsByCreated(), Date.parse(valid.createdAt), valid.id);
    if (valid.active) tx.sadd(this.keys.burstsActive(), valid.id);
    else tx.srem(this.keys.burstsActive(), valid.id);
    await redisCall('bursts.put', () => tx.exec());
  }

  async get(id: string): Promise<BurstRecord | undefined> {
    const raw = await redisCall('bursts.get', () => this.client.hget(this.keys.bursts(), id));
    return raw === null ? undefined : parseStored(BurstRecord, raw, this.keys.bursts(), id);
  }

  async list(query: BurstQuery): Promise<BurstRecord[]> {
    if (query.limit <= 0) return [];
    if (query.active === true) {
      const ids = await redisCall('bursts.list', () => this.client.smembers(this.keys.burstsActive()));
      const records = await this.read(ids);
      return records
        .filter((record) => matchesQuery(record, query))
        .sort(compareNewestFirst)
        .slice(0, query.limit);
    }
    return await this.scanNewestFirst(query);
  }

  private async scanNewestFirst(query: BurstQuery): Promise<BurstRecord[]> {
    const found: BurstRecord[] = [];
    for (let start = 0; found.length < query.limit; start += PAGE) {
      const ids = await redisCall('bursts.list', () =>
        this.client.zrevrange(this.keys.burstsByCreated(), start, start + PAGE - 1),
      );
      for (const record of await this.read(ids)) if (matchesQuery(record, query)) found.push(record);
      if (ids.length < PAGE) break;
    }
    return found.slice(0, query.limit);
  }

  private async read(ids: readonly string[]): Promise<BurstRecord[]> {
    if (ids.length === 0) return [];
    const texts = await redisCall('bursts.list', () => this.client.hmget(this.keys.bursts(), ...ids));
    const records: BurstRecord[] = [];
    texts.forEach((raw, index) => {
      // An id whose record is gone (deleted by hand) is skipped, not an error.
      if (raw !== null) records.push(parseStored(BurstRecord, raw, this.keys.bursts(), ids[index] ?? '?'));
    });
    return records;
  }
}

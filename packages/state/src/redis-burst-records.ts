import type { Redis } from 'ioredis';
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
  matchesQuery,
  positionOf,
} from './burst-records.js';
import { FENCE_GUARD, type FencingToken, fenceArgs, fencedCall } from './fencing.js';
import { redisCall } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { parseStored, toStored } from './stored-json.js';

/** How many ids one page of a newest-first scan reads. */
const PAGE = 200;
/** How many ended bursts one put may remove: retention catches up over a few puts, never stalls one. */
const PRUNE_BATCH = 500;

/**
 * Stores one record and keeps the indexes in step, while the writer still holds the lease.
 * KEYS[2..5]: records, by-created, active, ended. ARGV[2..6]: id, JSON, createdAt ms, '1' when
 * active, updatedAt ms.
 */
const PUT_SCRIPT = `${FENCE_GUARD}
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
if ARGV[5] == '1' then
  redis.call('SADD', KEYS[4], ARGV[2])
  redis.call('ZREM', KEYS[5], ARGV[2])
else
  redis.call('SREM', KEYS[4], ARGV[2])
  redis.call('ZADD', KEYS[5], ARGV[6], ARGV[2])
end
return 1
`;

/**
 * BurstRecords in Redis: a hash of record JSON by id, a sorted set by createdAt for newest-first
 * listing, a set of active ids so "what is running" does not scan history, and a sorted set of
 * ended ids by end time for retention. One script keeps them in step.
 */
export class RedisBurstRecords implements BurstRecords {
  private readonly retention: BurstRetention;
  private readonly now: () => number;

  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
    options: BurstRecordsOptions = {},
  ) {
    this.retention = options.retention ?? DEFAULT_BURST_RETENTION;
    this.now = options.now ?? Date.now;
  }

  async put(record: BurstRecord, fence?: FencingToken): Promise<void> {
    const valid = BurstRecord.parse(record);
    const text = toStored(valid, `burst ${valid.id}`);
    const { key, token } = fenceArgs(fence, this.keys.bursts());
    const k = this.keys;
    const keys = [key, k.bursts(), k.burstsByCreated(), k.burstsActive(), k.burstsEnded()];
    const args = [valid.id, text, Date.parse(valid.createdAt), valid.active ? '1' : '0', Date.parse(valid.updatedAt)];
    await fencedCall('bursts.put', () => this.client.eval(PUT_SCRIPT, keys.length, ...keys, token, ...args));
    if (!valid.active) await this.prune();
  }

  async get(id: string): Promise<BurstRecord | undefined> {
    const raw = await redisCall('bursts.get', () => this.client.hget(this.keys.bursts(), id));
    return raw === null ? undefined : parseStored(BurstRecord, raw, this.keys.bursts(), id);
  }

  async page(query: BurstQuery): Promise<BurstPage> {
    const cursor = query.cursor === undefined ? null : decodeBurstCursor(query.cursor);
    // Age alone ends a record's retention: a quiet controller writes nothing that would prune.
    // Best effort: a listing must not fail (or fail differently) because a prune could not run.
    await this.prune().catch(() => undefined);
    if (query.active === true) return await this.activePage(query, cursor);
    return await this.scanNewestFirst(query, cursor);
  }

  /** Active bursts are few (one per service at most): read them all, order, slice. */
  private async activePage(query: BurstQuery, cursor: BurstPosition | null): Promise<BurstPage> {
    const ids = await redisCall('bursts.list', () => this.client.smembers(this.keys.burstsActive()));
    const matching = (await this.read(ids))
      .filter((record) => matchesQuery(record, query) && isAfterCursor(positionOf(record), cursor))
      .sort((a, b) => compareNewestFirst(positionOf(a), positionOf(b)));
    const bursts = matching.slice(0, query.limit);
    const last = bursts.at(-1);
    return { bursts, next: matching.length > bursts.length && last ? encodeBurstCursor(positionOf(last)) : null };
  }

  private async scanNewestFirst(query: BurstQuery, cursor: BurstPosition | null): Promise<BurstPage> {
    const maxScan = query.maxScan ?? 5_000;
    const bursts: BurstRecord[] = [];
    let scanned = 0;
    let last: BurstPosition | null = null;
    const max = cursor === null ? '+inf' : String(cursor.createdMs);
    for (let offset = 0; ; offset += PAGE) {
      const rows = await redisCall('bursts.list', () =>
        this.client.zrevrangebyscore(this.keys.burstsByCreated(), max, '-inf', 'WITHSCORES', 'LIMIT', offset, PAGE),
      );
      const positions = pairs(rows).filter((position) => isAfterCursor(position, cursor));
      const records = new Map((await this.read(positions.map((p) => p.id))).map((record) => [record.id, record]));
      for (const position of positions) {
        if (bursts.length >= query.limit || scanned >= maxScan)
          return { bursts, next: last && encodeBurstCursor(last) };
        scanned++;
        last = position;
        const record = records.get(position.id);
        if (record && matchesQuery(record, query)) bursts.push(record);
      }
      if (rows.length < PAGE * 2) return { bursts, next: null };
    }
  }

  /** Removes ended bursts past the age or beyond the count, oldest first. */
  private async prune(): Promise<void> {
    const ended = this.keys.burstsEnded();
    const cutoff = this.now() - this.retention.maxAgeMs;
    const [older, total] = await redisCall('bursts.prune', () =>
      Promise.all([this.client.zcount(ended, '-inf', `(${cutoff}`), this.client.zcard(ended)]),
    );
    const drop = Math.min(PRUNE_BATCH, Math.max(older, total - this.retention.maxEnded));
    if (drop <= 0) return;
    const ids = await redisCall('bursts.prune', () => this.client.zrange(ended, 0, drop - 1));
    if (ids.length === 0) return;
    await redisCall('bursts.prune', () =>
      this.client
        .multi()
        .hdel(this.keys.bursts(), ...ids)
        .zrem(this.keys.burstsByCreated(), ...ids)
        .zrem(ended, ...ids)
        .exec(),
    );
  }

  private async read(ids: readonly string[]): Promise<BurstRecord[]> {
    if (ids.length === 0) return [];
    const texts = await redisCall('bursts.list', () => this.client.hmget(this.keys.bursts(), ...ids));
    const records: BurstRecord[] = [];
    texts.forEach((raw, index) => {
      // An id whose record is gone (pruned meanwhile, deleted by hand) is skipped, not an error.
      if (raw !== null) records.push(parseStored(BurstRecord, raw, this.keys.bursts(), ids[index] ?? '?'));
    });
    return records;
  }
}

/** `[member, score, member, score, …]` as positions. */
function pairs(rows: readonly string[]): BurstPosition[] {
  const positions: BurstPosition[] = [];
  for (let i = 0; i + 1 < rows.length; i += 2) positions.push({ id: rows[i]!, createdMs: Number(rows[i + 1]) });
  return positions;
}

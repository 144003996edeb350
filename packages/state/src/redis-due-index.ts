import type { Redis } from 'ioredis';
import type { DueIndex } from './due-index.js';
import { redisCall } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** Takes the members due at ARGV[1] (at most ARGV[2]) and removes them, in one step. */
const TAKE_DUE_SCRIPT = `
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
`;

/**
 * DueIndex in one Redis sorted set (member = service, score = epoch ms when due), shared by
 * every controller: a webhook taken by any of them marks the service for the leader's next tick.
 * `ZADD LT` never postpones an entry; the take is a script, so a mark made after it stays.
 */
export class RedisDueIndex implements DueIndex {
  private readonly key: string;

  constructor(
    private readonly client: Redis,
    keys: RedisKeys,
    name = 'controller',
  ) {
    this.key = keys.due(name);
  }

  async schedule(service: string, at: number): Promise<void> {
    await redisCall('due.schedule', () => this.client.zadd(this.key, 'LT', at, service));
  }

  async takeDue(now: number, limit: number): Promise<string[]> {
    const due = await redisCall('due.take', () => this.client.eval(TAKE_DUE_SCRIPT, 1, this.key, now, limit));
    return Array.isArray(due) ? due.map(String) : [];
  }

  async size(): Promise<number> {
    return await redisCall('due.size', () => this.client.zcard(this.key));
  }
}

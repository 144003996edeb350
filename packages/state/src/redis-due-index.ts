import type { Redis } from 'ioredis';
import type { DueIndex } from './due-index.js';
import { FENCE_GUARD, type FencingToken, fenceArgs, fencedCall } from './fencing.js';
import { redisCall } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/**
 * Takes the members of KEYS[2] due at ARGV[2] (at most ARGV[3]) and removes them, in one step;
 * fenced (KEYS[1], ARGV[1]): a former leader's take would hide them from the current one.
 */
const TAKE_DUE_SCRIPT = `${FENCE_GUARD}
local due = redis.call('ZRANGE', KEYS[2], '-inf', ARGV[2], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
if #due > 0 then redis.call('ZREM', KEYS[2], unpack(due)) end
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

  async takeDue(now: number, limit: number, fence?: FencingToken): Promise<string[]> {
    const { key, token } = fenceArgs(fence, this.key);
    const due = await fencedCall('due.take', () =>
      this.client.eval(TAKE_DUE_SCRIPT, 2, key, this.key, token, now, limit),
    );
    return Array.isArray(due) ? due.map(String) : [];
  }

  async size(): Promise<number> {
    return await redisCall('due.size', () => this.client.zcard(this.key));
  }
}

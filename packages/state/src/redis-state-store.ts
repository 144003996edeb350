import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { CorruptStateError } from './errors.js';
import { FENCE_GUARD, type FencingToken, fenceArgs, fencedCall } from './fencing.js';
import { redisCall } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { StateSnapshot, StateStore } from './state-store.js';
import { parseStored, toStored } from './stored-json.js';

/** 1 when the marker was there; else sets it and answers 0. */
const MARKER_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
redis.call('SET', KEYS[1], ARGV[1])
return 0
`;

/** HSET KEYS[2] ARGV[2] ARGV[3], while the writer still holds the lease. */
const PUT_SCRIPT = `${FENCE_GUARD}
return redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
`;

/** StateStore in one Redis hash per state kind: field = service, value = state JSON. */
export class RedisStateStore<S> implements StateStore<S> {
  private readonly key: string;
  private readonly marker: string;
  private markerSeen = false;

  constructor(
    private readonly client: Redis,
    keys: RedisKeys,
    private readonly schema: z.ZodType<S>,
    name = 'controller',
  ) {
    this.key = keys.state(name);
    this.marker = `${this.key}:marker`;
  }

  async dataLost(): Promise<boolean> {
    const present = await redisCall('state.marker', () =>
      this.client.eval(MARKER_SCRIPT, 1, this.marker, new Date().toISOString()),
    );
    const lost = this.markerSeen && Number(present) === 0;
    this.markerSeen = true;
    return lost;
  }

  async get(service: string): Promise<S | undefined> {
    const raw = await redisCall('state.get', () => this.client.hget(this.key, service));
    return raw === null ? undefined : parseStored(this.schema, raw, this.key, service);
  }

  async put(service: string, state: S, fence?: FencingToken): Promise<void> {
    const text = toStored(state, `state of ${service}`);
    const { key, token } = fenceArgs(fence, this.marker);
    await fencedCall('state.put', () => this.client.eval(PUT_SCRIPT, 2, key, this.key, token, service, text));
  }

  async delete(service: string): Promise<void> {
    await redisCall('state.delete', () => this.client.hdel(this.key, service));
  }

  async all(): Promise<StateSnapshot<S>> {
    const raw = await redisCall('state.all', () => this.client.hgetall(this.key));
    const states = new Map<string, S>();
    const corrupt: CorruptStateError[] = [];
    for (const [service, text] of Object.entries(raw)) {
      try {
        states.set(service, parseStored(this.schema, text, this.key, service));
      } catch (error) {
        if (!(error instanceof CorruptStateError)) throw error;
        corrupt.push(error);
      }
    }
    return { states, corrupt };
  }
}

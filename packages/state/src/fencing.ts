import { redisCall } from './redis-connection.js';

/**
 * What a leader's write carries to show it still holds the lease: the token its lease stored
 * in Redis when it was acquired (RedisLease). A write is applied only while that key still
 * holds this token, checked by Redis in the same script as the write, so a leader that was
 * paused past its lease (GC, a stalled connection) cannot overwrite what the next one decided.
 */
export interface FencingToken {
  /** The Redis key with the current holder's token; absent for a lease no store checks (embedded). */
  readonly key?: string;
  /** Unique per acquisition: `owner#n`. */
  readonly value: string;
}

/**
 * A write refused because the lease moved on since the writer's pass began: the writer no longer
 * leads. The pass that tried it stops; nothing of it was written.
 */
export class FencedWriteError extends Error {
  override readonly name = 'FencedWriteError';

  constructor(readonly operation: string) {
    super(`${operation} refused: the lease this write was fenced with has moved to another holder`);
  }
}

/**
 * The first lines of every fenced script: KEYS[1] is the fence key, ARGV[1] the writer's token
 * ('' for an unfenced write, e.g. a webhook's audit entry, which any process may make). The
 * script's own keys and arguments start at KEYS[2] and ARGV[2].
 */
export const FENCE_GUARD = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED the lease moved to another holder')
end
`;

/** KEYS[1] and ARGV[1] of a fenced script; an unfenced write names `fallbackKey` and no token. */
export function fenceArgs(fence: FencingToken | undefined, fallbackKey: string): { key: string; token: string } {
  return fence?.key === undefined ? { key: fallbackKey, token: '' } : { key: fence.key, token: fence.value };
}

/** redisCall for a fenced script: Redis's FENCED reply becomes FencedWriteError naming the operation. */
export async function fencedCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await redisCall(operation, call);
  } catch (error) {
    if (error instanceof Error && error.name === 'ReplyError' && error.message.startsWith('FENCED'))
      throw new FencedWriteError(operation);
    throw error;
  }
}

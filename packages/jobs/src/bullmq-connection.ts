import type { RedisOptions } from 'bullmq';

/** Where the queues live; the same Redis as the state stores, usually. */
export interface BullMqConnection {
  /** `redis://host:port/db` */
  url: string;
  /** Upper bound of the reconnect backoff. Default 1 s. */
  maxReconnectDelayMs?: number;
  /** The Redis password (from the environment; never in `url`). */
  password?: string | undefined;
  /** CA bundle for a `rediss://` server whose certificate is not in the system's trust store. */
  ca?: Buffer | undefined;
}

/** TLS for `rediss://` (with the CA when given) and the password. */
function access(connection: BullMqConnection): Pick<RedisOptions, 'tls' | 'password'> {
  const tls = /^rediss:\/\//i.test(connection.url)
    ? { tls: { ...(connection.ca ? { ca: connection.ca } : {}), minVersion: 'TLSv1.2' as const } }
    : {};
  return { ...tls, ...(connection.password ? { password: connection.password } : {}) };
}

function reconnect(connection: BullMqConnection): RedisOptions['retryStrategy'] {
  const cap = connection.maxReconnectDelayMs ?? 1_000;
  return (times: number) => Math.min(50 * 2 ** Math.min(times, 10), cap);
}

/**
 * Producer (Queue) connection: FAIL FAST. With the offline queue off and no per-request retries,
 * `enqueue` while Redis is away rejects at once (BullMQ's "failing fast when Redis is down"
 * pattern): the controller's next pass asks again with the same key, and the API can answer 503
 * instead of hanging. A queued add would also be replayed later by a process that may have lost
 * its lease in between.
 */
export function producerOptions(connection: BullMqConnection): RedisOptions & { url: string } {
  return {
    url: connection.url,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: reconnect(connection),
    ...access(connection),
  };
}

/**
 * Worker and QueueEvents connections: WAIT. BullMQ requires `maxRetriesPerRequest: null` for
 * their blocking commands, and a worker should simply resume when Redis returns.
 */
export function consumerOptions(connection: BullMqConnection): RedisOptions & { url: string } {
  return {
    url: connection.url,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectTimeout: 2_000,
    retryStrategy: reconnect(connection),
    ...access(connection),
  };
}

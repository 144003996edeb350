import { Redis, type RedisOptions } from 'ioredis';
import { StateUnavailableError } from './errors.js';
import type { PingProbeOptions, RedisHealth } from './redis-health.js';

export interface StateRedisOptions {
  /** CLIENT SETNAME and the health entry: `controller-state`, `router-policies`. */
  name?: string;
  /** A command that gets no answer within this fails (a stuck, not dead, server). Default 5 s. */
  commandTimeoutMs?: number;
  /** Upper bound of the reconnect backoff. Default 1 s: recovery is quick once Redis is back. */
  maxReconnectDelayMs?: number;
  /** Follows this client's connection events, and PINGs it (a frozen server sends no event). */
  health?: RedisHealth;
  /** TLS trust and the password, for a `rediss://` server or one with `requirepass`. */
  access?: RedisAccess;
  /** The PING probe's cadence and bound (RedisHealth.probe). */
  ping?: PingProbeOptions;
}

/**
 * How to reach Redis besides its URL: the CA that signed a `rediss://` server's certificate (else
 * the system's trust store) and the password (read from the environment, never in the URL, the
 * config file or a log line).
 */
export interface RedisAccess {
  readonly password?: string | undefined;
  readonly ca?: Buffer | undefined;
}

/** ioredis's `tls` and `password` for `url` and `access`; a `rediss://` URL always means TLS. */
export function redisAccessOptions(url: string, access: RedisAccess = {}): Pick<RedisOptions, 'tls' | 'password'> {
  const tls = /^rediss:\/\//i.test(url)
    ? { tls: { ...(access.ca ? { ca: access.ca } : {}), minVersion: 'TLSv1.2' as const } }
    : {};
  return { ...tls, ...(access.password ? { password: access.password } : {}) };
}

/**
 * ioredis options for Spillway's state, chosen to FAIL FAST while Redis is away:
 * - `enableOfflineQueue: false`: a command issued while disconnected rejects at once instead of
 *   waiting for a reconnect. Reads then fail with a clear StateUnavailableError, and so do writes:
 *   a queued write would be replayed after the reconnect, when this process may no longer hold the
 *   lease and another controller has moved on, which is exactly the stale write a lease prevents.
 *   The controller is level-triggered, so a failed write is simply redone on its next pass.
 * - `maxRetriesPerRequest: 0`: commands already sent when the connection drops reject on that
 *   drop instead of after N reconnect attempts, and `autoResendUnfulfilledCommands: false` makes
 *   sure none is re-sent (an LPUSH or XADD that may already have been applied must not run twice).
 * - `commandTimeout`: a server that accepts the socket but never answers still fails the call.
 * - `retryStrategy`: reconnect forever with capped backoff; health reports `down` meanwhile.
 */
export function stateRedisOptions(options: StateRedisOptions = {}): RedisOptions {
  const maxDelay = options.maxReconnectDelayMs ?? 1_000;
  return {
    ...(options.name === undefined ? {} : { connectionName: options.name }),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    connectTimeout: 2_000,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    lazyConnect: false,
  };
}

/** A client for the state stores; it connects in the background and reconnects forever. */
export function createRedisClient(url: string, options: StateRedisOptions = {}): Redis {
  const client = new Redis(url, { ...stateRedisOptions(options), ...redisAccessOptions(url, options.access) });
  // ioredis emits 'error' on every failed reconnect; without a listener Node would throw it.
  client.on('error', () => {});
  options.health?.attach(client, options.name ?? 'redis');
  options.health?.probe(client, options.name ?? 'redis', options.ping);
  return client;
}

/**
 * Resolves when `client` is ready; rejects when it has ended or after `timeoutMs`, saying the last
 * connection error (a TLS certificate it does not trust, a wrong password) when there was one.
 */
export async function whenReady(client: Redis, timeoutMs = 15_000): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'end') throw new StateUnavailableError('connect', { cause: new Error('connection ended') });
  let lastError: string | undefined;
  const onError = (error: Error) => {
    lastError = error.message;
  };
  client.on('error', onError);
  await new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      client.off('error', onError);
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new StateUnavailableError('connect', { cause: new Error('connection ended') }));
    };
    const timer = setTimeout(() => {
      cleanup();
      const why = lastError === undefined ? '' : ` (last error: ${lastError})`;
      reject(new StateUnavailableError('connect', { cause: new Error(`not ready within ${timeoutMs} ms${why}`) }));
    }, timeoutMs);
    client.on('ready', onReady);
    client.on('end', onEnd);
  });
}

/**
 * Runs one Redis operation; connection failures become StateUnavailableError naming the
 * operation. Errors Redis itself answered (WRONGTYPE, script errors) pass through: they are bugs
 * or corruption, not an outage, and must not be mistaken for one.
 */
export async function redisCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && error.name === 'ReplyError') throw error;
    throw new StateUnavailableError(operation, { cause: error });
  }
}

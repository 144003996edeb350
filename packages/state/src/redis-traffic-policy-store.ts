import { TrafficPolicy, type TrafficPolicyReader, type TrafficPolicyWriter } from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import type { Redis } from 'ioredis';
import { redisCall, whenReady } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { parseStored, toStored } from './stored-json.js';

export interface RedisTrafficPolicyStoreOptions {
  logger?: Logger;
  /** How long `start()` waits for Redis before giving up. Default 15 s. */
  startTimeoutMs?: number;
}

/**
 * Traffic policies in a Redis hash, shared between processes: the controller sets, routers read.
 * Reads come from a local cache (the router asks on every EDS computation and must not wait on
 * Redis); a pub/sub message naming the service keeps every cache in step, and every (re)connect
 * of either connection reloads the whole hash, because messages published while a subscriber was
 * away are gone. While Redis is away the cache keeps serving the last known policies.
 */
export class RedisTrafficPolicyStore implements TrafficPolicyReader, TrafficPolicyWriter {
  private readonly cache = new Map<string, TrafficPolicy>();
  private readonly listeners = new Set<(service: string) => void>();
  private readonly subscriber: Redis;
  private readonly logger: Logger;
  private stopped = false;
  private readonly onClientReady = () => void this.resync('client reconnected');

  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
    private readonly options: RedisTrafficPolicyStoreOptions = {},
  ) {
    // Pub/sub needs a connection of its own: a subscribed connection can run no other command.
    this.subscriber = client.duplicate({ connectionName: 'spillway-policy-subscriber' });
    this.subscriber.on('error', () => {});
    this.logger = options.logger ?? silentLogger();
  }

  /** Subscribes, loads every policy, and from then on follows changes and reconnects. */
  async start(): Promise<void> {
    this.subscriber.on('message', (_channel: string, service: string) => void this.refresh(service));
    this.subscriber.on('ready', () => void this.resync('subscriber reconnected'));
    this.client.on('ready', this.onClientReady);
    const timeout = this.options.startTimeoutMs ?? 15_000;
    await Promise.all([whenReady(this.client, timeout), whenReady(this.subscriber, timeout)]);
    await this.subscriber.subscribe(this.keys.policiesChannel());
    await this.reload();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.client.off('ready', this.onClientReady);
    this.subscriber.disconnect();
  }

  get(service: string): TrafficPolicy | undefined {
    return this.cache.get(service);
  }

  all(): readonly TrafficPolicy[] {
    return [...this.cache.values()];
  }

  subscribe(listener: (service: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async set(policy: TrafficPolicy): Promise<void> {
    const valid = TrafficPolicy.parse(policy);
    const tx = this.client.multi().hset(this.keys.policies(), valid.service, toStored(valid, 'traffic policy'));
    tx.publish(this.keys.policiesChannel(), valid.service);
    await redisCall('policies.set', () => tx.exec());
    // The writer sees its own write at once, as with the in-memory store; the echo is a no-op.
    this.apply(valid.service, valid);
  }

  async clear(service: string): Promise<void> {
    const tx = this.client.multi().hdel(this.keys.policies(), service);
    tx.publish(this.keys.policiesChannel(), service);
    await redisCall('policies.clear', () => tx.exec());
    this.apply(service, undefined);
  }

  /** Re-reads one service after a change message. */
  private async refresh(service: string): Promise<void> {
    try {
      const raw = await redisCall('policies.refresh', () => this.client.hget(this.keys.policies(), service));
      this.apply(service, raw === null ? undefined : this.parse(service, raw));
    } catch (error) {
      // The next reconnect reloads everything; until then the cache keeps the last good value.
      this.logger.warn({ err: error, service }, 'traffic policy refresh failed');
    }
  }

  private async resync(why: string): Promise<void> {
    if (this.stopped) return;
    try {
      // Re-subscribing is a no-op when ioredis already did it, and orders the SUBSCRIBE first.
      await this.subscriber.subscribe(this.keys.policiesChannel());
      await this.reload();
      this.logger.info({ why, policies: this.cache.size }, 'traffic policies reloaded');
    } catch (error) {
      // The other connection's ready event triggers another attempt.
      this.logger.warn({ err: error, why }, 'traffic policy reload failed');
    }
  }

  private async reload(): Promise<void> {
    const raw = await redisCall('policies.reload', () => this.client.hgetall(this.keys.policies()));
    for (const [service, text] of Object.entries(raw)) {
      const policy = this.parse(service, text);
      if (policy !== undefined) this.apply(service, policy);
    }
    for (const service of [...this.cache.keys()]) if (!Object.hasOwn(raw, service)) this.apply(service);
  }

  private parse(service: string, raw: string): TrafficPolicy | undefined {
    try {
      return parseStored(TrafficPolicy, raw, this.keys.policies(), service);
    } catch (error) {
      this.logger.error({ err: error, service }, 'ignoring corrupt traffic policy');
      return this.cache.get(service);
    }
  }

  private apply(service: string, policy?: TrafficPolicy): void {
    const before = this.cache.get(service);
    if (policy === undefined) {
      if (!this.cache.delete(service)) return;
    } else {
      if (before !== undefined && JSON.stringify(before) === JSON.stringify(policy)) return;
      this.cache.set(service, policy);
    }
    for (const listener of this.listeners) listener(service);
  }
}

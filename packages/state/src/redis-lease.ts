import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Logger, silentLogger } from '@spillway/observability';
import type { Redis } from 'ioredis';
import type { FencingToken } from './fencing.js';
import type { Lease } from './lease.js';
import { ACQUIRE_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT } from './lease-scripts.js';
import type { RedisKeys } from './redis-keys.js';

export interface RedisLeaseOptions {
  /** Which lease: `controller`. */
  name?: string;
  /** Unique per process; the default is host, pid and a random suffix. */
  owner?: string;
  /** How long a lease lives without renewal. Default 10 s. */
  ttlMs?: number;
  /** How often the holder renews (and a candidate tries to take it). Default ttl/3; keep it at most ttl/2. */
  renewMs?: number;
  logger?: Logger;
}

/**
 * A lease in Redis: `SET NX PX` to acquire, a compare-and-pexpire script every renewMs (ttl/3) to renew, a
 * compare-and-del to release. The holder measures its deadline from when it SENT its last
 * successful renewal (the key cannot expire before ttl after that), less a tenth of a ttl for clock
 * drift, and stops leading at that deadline whether or not Redis answers: while Redis is away the
 * leader steps down before the key could have expired, so no second leader can overlap.
 */
export class RedisLease implements Lease {
  readonly owner: string;
  private readonly key: string;
  /** Where the latest acquisition's fencing token is kept. */
  private readonly fenceKey: string;
  /** This process's token while it leads: `owner#n`, a new n for every acquisition. */
  private token: string;
  private acquisitions = 0;
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly logger: Logger;
  private readonly listeners = new Set<(leader: boolean) => void>();
  private leader = false;
  /** performance.now() after which this process may no longer act as leader. */
  private deadline = 0;
  private running = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private demoteTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly client: Redis,
    keys: RedisKeys,
    options: RedisLeaseOptions = {},
  ) {
    this.key = keys.lease(options.name ?? 'controller');
    this.fenceKey = keys.leaseFence(options.name ?? 'controller');
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.token = `${this.owner}#0`;
    this.ttlMs = options.ttlMs ?? 10_000;
    this.renewMs = options.renewMs ?? this.ttlMs / 3;
    this.logger = options.logger ?? silentLogger();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.tick();
  }

  isLeader(): boolean {
    return this.leader && performance.now() < this.deadline;
  }

  fence(): FencingToken | undefined {
    return this.isLeader() ? { key: this.fenceKey, value: this.token } : undefined;
  }

  onChange(listener: (leader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.tickTimer);
    await this.inFlight;
    const held = this.leader;
    this.demote('stopped');
    if (!held) return;
    try {
      await this.client.eval(RELEASE_SCRIPT, 1, this.key, this.owner);
    } catch (error) {
      // The key expires on its own within a ttl; a failed release only delays the next leader.
      this.logger.warn({ err: error, key: this.key }, 'lease release failed');
    }
  }

  private tick(): Promise<void> {
    this.inFlight = (async () => {
      try {
        if (this.leader) await this.renew();
        else await this.acquire();
      } catch (error) {
        // Redis away: nothing to do but try again; the demote timer guards the deadline.
        this.logger.debug({ err: error, key: this.key }, 'lease round failed');
      }
      if (this.running) this.tickTimer = setTimeout(() => void this.tick(), this.renewMs);
    })();
    return this.inFlight;
  }

  private async acquire(): Promise<void> {
    const sentAt = performance.now();
    const token = `${this.owner}#${++this.acquisitions}`;
    const keys = [this.key, this.fenceKey];
    const result = await this.client.eval(ACQUIRE_SCRIPT, 2, ...keys, this.owner, this.ttlMs, this.ttlMs, token);
    if (result !== 1 || !this.running) return;
    this.token = token;
    this.promote(sentAt);
  }

  private async renew(): Promise<void> {
    const sentAt = performance.now();
    const result = await this.client.eval(RENEW_SCRIPT, 2, this.key, this.fenceKey, this.owner, this.ttlMs, this.token);
    if (result === 1) this.extend(sentAt);
    else this.demote('held by another owner');
  }

  private promote(sentAt: number): void {
    this.extend(sentAt);
    this.leader = true;
    this.logger.info({ key: this.key, owner: this.owner }, 'lease acquired');
    this.notify(true);
  }

  private extend(sentAt: number): void {
    this.deadline = sentAt + this.ttlMs - this.ttlMs / 10;
    clearTimeout(this.demoteTimer);
    const wait = Math.max(0, this.deadline - performance.now());
    this.demoteTimer = setTimeout(() => this.demote('renewal overdue'), wait);
  }

  private demote(reason: string): void {
    clearTimeout(this.demoteTimer);
    if (!this.leader) return;
    this.leader = false;
    this.deadline = 0;
    this.logger.warn({ key: this.key, owner: this.owner, reason }, 'lease lost');
    this.notify(false);
  }

  private notify(leader: boolean): void {
    for (const listener of this.listeners) listener(leader);
  }
}

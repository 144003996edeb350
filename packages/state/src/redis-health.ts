import type { EventEmitter } from 'node:events';
import type { ReadinessCheck } from '@spillway/observability';

/** Whether Spillway can talk to Redis right now. */
export type RedisConnectionState = 'up' | 'down';

/** What the API shows: `degraded` while this says `down`. */
export interface RedisHealthSnapshot {
  readonly state: RedisConnectionState;
  /** ISO time of the last change of `state`. */
  readonly since: string;
  readonly lastError: string | undefined;
  /** Each attached connection's own state: which one is down. */
  readonly connections: Readonly<Record<string, RedisConnectionState>>;
}

/** The part of an ioredis client (or anything like it) the health tracker listens to. */
export interface ConnectionEvents extends Pick<EventEmitter, 'on' | 'off'> {
  /** ioredis: `wait`, `connecting`, `connect`, `ready`, `close`, `reconnecting`, `end`. */
  readonly status: string;
}

/**
 * Redis connection health, fed by client events rather than by probing: `up` only while every
 * attached connection is ready. Also a ReadinessCheck, so `/readyz` can report it.
 */
export class RedisHealth implements ReadinessCheck {
  readonly name = 'redis';
  private readonly connections = new Map<string, RedisConnectionState>();
  private readonly listeners = new Set<(snapshot: RedisHealthSnapshot) => void>();
  private current: RedisConnectionState = 'down';
  private changedAt = new Date();
  private lastErrorMessage: string | undefined;

  constructor(private readonly now: () => Date = () => new Date()) {
    this.changedAt = now();
  }

  get state(): RedisConnectionState {
    return this.current;
  }

  get since(): Date {
    return this.changedAt;
  }

  get lastError(): string | undefined {
    return this.lastErrorMessage;
  }

  /** Follows one connection's events until the returned function is called. */
  attach(client: ConnectionEvents, connectionName: string): () => void {
    const up = () => this.set(connectionName, 'up');
    const down = () => {
      // A server killed outright closes the socket without any error event: say so.
      if (this.connections.get(connectionName) === 'up') this.lastErrorMessage = `${connectionName}: connection lost`;
      this.set(connectionName, 'down');
    };
    const failed = (error: Error) => {
      this.lastErrorMessage = `${connectionName}: ${error.message}`;
    };
    client.on('ready', up);
    client.on('close', down);
    client.on('end', down);
    client.on('reconnecting', down);
    client.on('error', failed);
    this.set(connectionName, client.status === 'ready' ? 'up' : 'down');
    return () => {
      for (const event of ['ready', 'close', 'end', 'reconnecting']) client.off(event, event === 'ready' ? up : down);
      client.off('error', failed);
      this.connections.delete(connectionName);
      this.recompute();
    };
  }

  onChange(listener: (snapshot: RedisHealthSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): RedisHealthSnapshot {
    return {
      state: this.current,
      since: this.changedAt.toISOString(),
      lastError: this.lastErrorMessage,
      connections: Object.fromEntries(this.connections),
    };
  }

  check(): { ready: boolean; detail?: string } {
    if (this.current === 'up') return { ready: true };
    const down = [...this.connections].filter(([, state]) => state === 'down').map(([name]) => name);
    const detail = `redis down since ${this.changedAt.toISOString()} (${down.join(', ') || 'no connection'})`;
    return { ready: false, detail: this.lastErrorMessage ? `${detail}: ${this.lastErrorMessage}` : detail };
  }

  private set(connectionName: string, state: RedisConnectionState): void {
    this.connections.set(connectionName, state);
    this.recompute();
  }

  private recompute(): void {
    const states = [...this.connections.values()];
    const next: RedisConnectionState = states.length > 0 && states.every((s) => s === 'up') ? 'up' : 'down';
    if (next === this.current) return;
    this.current = next;
    this.changedAt = this.now();
    const snapshot = this.snapshot();
    for (const listener of this.listeners) listener(snapshot);
  }
}

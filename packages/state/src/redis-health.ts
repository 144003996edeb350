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

/** A connection that can be asked whether the server answers. */
export interface Pingable extends ConnectionEvents {
  ping(): Promise<unknown>;
}

export interface PingProbeOptions {
  /** How often to PING. Default 1 s. */
  readonly intervalMs?: number;
  /** A PING unanswered for this long marks the connection down. Default 2 s. */
  readonly timeoutMs?: number;
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

  /**
   * PINGs a ready connection every `intervalMs`: a server that keeps the socket open but does
   * not answer (frozen, SIGSTOP, a stuck host) sends no event, so only an unanswered PING shows
   * it. The connection counts as down from `timeoutMs` after the PING until one is answered.
   * Stops by itself when the connection ends; the returned function stops it too.
   */
  probe(client: Pingable, connectionName: string, options: PingProbeOptions = {}): () => void {
    const intervalMs = options.intervalMs ?? 1_000;
    const timeoutMs = options.timeoutMs ?? 2_000;
    let inFlight = false;
    let silentTimer: NodeJS.Timeout | undefined;
    const tick = () => {
      if (inFlight || client.status !== 'ready') return;
      inFlight = true;
      silentTimer = setTimeout(() => {
        this.lastErrorMessage = `${connectionName}: no answer to PING within ${timeoutMs} ms`;
        this.set(connectionName, 'down');
      }, timeoutMs);
      silentTimer.unref();
      client
        .ping()
        .then(
          () => {
            if (client.status === 'ready') this.set(connectionName, 'up');
          },
          () => undefined,
        )
        .finally(() => {
          clearTimeout(silentTimer);
          inFlight = false;
        });
    };
    const timer = setInterval(tick, intervalMs);
    timer.unref();
    const stop = () => {
      clearInterval(timer);
      clearTimeout(silentTimer);
      client.off('end', stop);
    };
    client.on('end', stop);
    return stop;
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

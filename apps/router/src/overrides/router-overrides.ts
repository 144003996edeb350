import { randomUUID } from 'node:crypto';
import type { ServiceKey } from '@spillway/model';
import { Counter, Gauge, type Logger, type Registry } from '@spillway/observability';
import { overrideScope } from './apply-overrides.js';
import {
  type ActiveOverride,
  describeIssues,
  OverrideGrant,
  type OverrideGrant as OverrideGrantType,
  RouterOverride,
} from './router-override.js';

/** Which services' published view changed: a set of service keys, or every service. */
export type OverrideScope = ReadonlySet<ServiceKey> | 'all';
export type OverridesListener = (services: OverrideScope) => void;

export interface RouterOverridesOptions {
  /** Logs every add, remove and expiry at info. */
  readonly logger?: Logger;
  /** Registers `spillway_router_overrides_active` and `spillway_router_overrides_expired_total`. */
  readonly registry?: Registry;
  /** Stamps `createdAt` / `expiresAt` (default `Date.now`). Expiry itself runs on a timer of `ttlMs`. */
  readonly now?: () => number;
  /** Runs each expiry after `ms`; returns its cancel (default: an `unref()`ed setTimeout). For tests. */
  readonly setTimer?: (callback: () => void, ms: number) => () => void;
}

type Ending = 'removed' | 'expired' | 'owner-removed' | 'stopped';

interface Entry {
  readonly active: ActiveOverride;
  readonly cancelExpiry: () => void;
}

/**
 * The overrides in force on the router (drains and forced cloud shares), each with a deadline.
 * Every override rolls back by itself at its deadline: its timer lives here, not with whoever set
 * it, so a drill that dies or hangs cannot leave the router altered. Timers are `unref()`ed.
 * Overrides are in memory: they do not survive the process (which also ends what they alter).
 * The router reads them through `overriddenCatalog` / `overriddenPolicies`; the owner of this
 * object (not the router) stops it, so overrides survive a router restart in the same process.
 */
export class RouterOverrides {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<OverridesListener>();
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => () => void;
  private readonly activeGauge: Gauge | undefined;
  private readonly expiredCounter: Counter | undefined;
  private changes = 0;
  private stopped = false;

  constructor(options: RouterOverridesOptions = {}) {
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? unrefTimer;
    if (options.registry) {
      const registers = [options.registry];
      this.activeGauge = new Gauge({
        name: 'spillway_router_overrides_active',
        help: 'Router overrides (drains, forced cloud shares) in force',
        registers,
      });
      this.expiredCounter = new Counter({
        name: 'spillway_router_overrides_expired_total',
        help: 'Router overrides rolled back by their deadline',
        registers,
      });
      this.activeGauge.set(0);
    }
  }

  /** Increments on every add, remove and expiry: lets readers cache what they derive. */
  get generation(): number {
    return this.changes;
  }

  /**
   * Puts `override` in force for `ttlMs` (> 0, at most 24 h). Throws an Error naming the field
   * when the override or the options are invalid, or once `stop()` was called.
   */
  add(override: RouterOverride, options: { owner: string; reason: string; ttlMs: number }): ActiveOverride {
    if (this.stopped) throw new Error('router overrides are stopped: no new override can be added');
    const parsedOverride = RouterOverride.safeParse(override);
    if (!parsedOverride.success) throw new Error(describeIssues('invalid router override', parsedOverride.error));
    const parsedGrant = OverrideGrant.safeParse(options);
    if (!parsedGrant.success) throw new Error(describeIssues('invalid router override options', parsedGrant.error));
    const grant: OverrideGrantType = parsedGrant.data;
    const createdAt = this.now();
    const active: ActiveOverride = Object.freeze({
      id: randomUUID(),
      override: Object.freeze(parsedOverride.data),
      owner: grant.owner,
      reason: grant.reason,
      createdAt: new Date(createdAt).toISOString(),
      expiresAt: new Date(createdAt + grant.ttlMs).toISOString(),
    });
    const cancelExpiry = this.setTimer(() => this.end([active.id], 'expired'), grant.ttlMs);
    this.entries.set(active.id, { active, cancelExpiry });
    this.changes++;
    this.activeGauge?.set(this.entries.size);
    this.logger?.info(
      {
        overrideId: active.id,
        override: active.override,
        owner: active.owner,
        reason: active.reason,
        expiresAt: active.expiresAt,
      },
      'router override added',
    );
    this.notify(scopeOf([active]));
    return active;
  }

  /** Rolls back one override at once; false if it is not (or no longer) in force. */
  remove(id: string): boolean {
    return this.end([id], 'removed') === 1;
  }

  /** Rolls back every override `owner` set (a drill's whole footprint); returns how many. */
  removeOwner(owner: string): number {
    const ids = [...this.entries.values()].filter((entry) => entry.active.owner === owner).map((e) => e.active.id);
    return this.end(ids, 'owner-removed');
  }

  /** The overrides in force, in the order they were added. */
  list(): ActiveOverride[] {
    return [...this.entries.values()].map((entry) => entry.active);
  }

  /** Calls `listener` after every change with the services whose published view changed. */
  subscribe(listener: OverridesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Clears every timer and rolls back every override (listeners are told); refuses new ones. */
  stop(): void {
    this.stopped = true;
    this.end([...this.entries.keys()], 'stopped');
  }

  private end(ids: readonly string[], ending: Ending): number {
    const ended: ActiveOverride[] = [];
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      entry.cancelExpiry();
      this.entries.delete(id);
      ended.push(entry.active);
    }
    if (ended.length === 0) return 0;
    this.changes++;
    this.activeGauge?.set(this.entries.size);
    if (ending === 'expired') this.expiredCounter?.inc(ended.length);
    for (const active of ended) {
      this.logger?.info(
        { overrideId: active.id, override: active.override, owner: active.owner, reason: active.reason, ending },
        ending === 'expired' ? 'router override expired' : 'router override removed',
      );
    }
    this.notify(scopeOf(ended));
    return ended.length;
  }

  /** A listener that throws must not stop the others (nor an expiry) from happening. */
  private notify(scope: OverrideScope): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(scope);
      } catch (error) {
        this.logger?.error({ err: error }, 'router overrides listener failed');
      }
    }
  }
}

/** An expiry must not keep the process alive: the process ending ends what overrides alter. */
function unrefTimer(callback: () => void, ms: number): () => void {
  const timer = setTimeout(callback, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

function scopeOf(overrides: readonly ActiveOverride[]): OverrideScope {
  const services = new Set<ServiceKey>();
  for (const active of overrides) {
    const scope = overrideScope(active.override);
    if (scope === 'all') return 'all';
    services.add(scope);
  }
  return services;
}

import type { CatalogReader, MeasuredLoad, TrafficPolicyReader } from '@spillway/model';
import type { Fault } from '@spillway/simulator';
import type { DrillCost } from './burst-cost.js';
import type { DrillAction, DrillMode } from './drill-file.js';
import type { ProbeMeshIdentity } from './probes/xds-probe-channel.js';

/** A router override as the router takes it (see @spillway/router's RouterOverrides). */
export type DrillOverride =
  | { kind: 'drain'; zone?: string; region?: string; cluster?: string; service?: string }
  | { kind: 'force-share'; service: string; share: number };

/** The router's override registry, as far as a drill needs it. */
export interface OverrideSink {
  add(override: DrillOverride, options: { owner: string; reason: string; ttlMs: number }): { id: string };
  remove(id: string): boolean;
  removeOwner(owner: string): number;
}

/** The simulator, as far as a drill needs it. */
export interface FaultInjector {
  inject(fault: Fault): void;
  recover(fault: Fault): void;
}

/** What a running drill is allowed to touch, and where it looks. */
export interface DrillWorldParts {
  /** The router's ADS address the probes dial. */
  readonly xdsAddress: string;
  /** What the router publishes from: its catalog and traffic policies, overrides included. */
  readonly catalog: CatalogReader;
  readonly policies: TrafficPolicyReader;
  readonly overrides: OverrideSink;
  /** Present where the simulated fleet runs: simulated drills need it. */
  readonly fleet?: FaultInjector;
  /** Stops the router, waits `downMs`, starts it again on the same port. */
  readonly restartRouter?: (downMs: number) => Promise<void>;
  /** Present when the simulated fleet runs mesh mTLS: the probes' certificate and trust bundle. */
  readonly probeIdentity?: ProbeMeshIdentity;
  /**
   * What every client of a service reported over LRS (the router's `GET /v1/load`): real
   * clients as well as the probes. Undefined when load reporting is off.
   */
  readonly measuredLoad?: (service: string, windowSeconds: number) => MeasuredLoad | undefined;
  /**
   * What the service's bursts active between the two instants (epoch ms) cost (the controller's
   * burst records, docs/burst-controller.md#cost-guard); null without prices. Undefined: no controller here.
   */
  readonly burstCost?: (service: string, sinceMs: number, untilMs: number) => Promise<DrillCost | null>;
}

/** One applied action's undo. */
export type Undo = () => Promise<void>;

export interface ApplyContext {
  readonly drillId: string;
  readonly service: string;
  /** Router overrides expire by themselves this long from now: the drill's deadline. */
  readonly ttlMs: number;
}

/** The world a drill of one mode acts on. */
export class DrillWorld {
  constructor(
    readonly mode: DrillMode,
    readonly parts: DrillWorldParts,
  ) {
    if (mode === 'simulated' && !parts.fleet) {
      throw new Error(
        'simulated drills need the simulated fleet: run `spillway drill run FILE` without --api, or post it to `spillway up` started without a config',
      );
    }
  }

  /** Applies an action; resolves with what undoes it. */
  async apply(action: DrillAction, context: ApplyContext): Promise<Undo> {
    if (this.mode === 'live') return this.override(liveOverride(action, context.service), action, context);
    const fleet = this.parts.fleet!;
    switch (action.kind) {
      case 'drain':
      case 'force-share':
        return this.override(liveOverride(action, context.service), action, context);
      case 'router-restart': {
        const restart = this.parts.restartRouter;
        if (!restart) throw new Error('this process cannot restart its router');
        await restart(action.downSeconds * 1000);
        return async () => undefined;
      }
      default: {
        const fault = action as Fault;
        fleet.inject(fault);
        return async () => fleet.recover(fault);
      }
    }
  }

  /** Removes every override a drill set (abort, deadline, shutdown). */
  rollBack(drillId: string): number {
    return this.parts.overrides.removeOwner(drillId);
  }

  private async override(override: DrillOverride, action: DrillAction, context: ApplyContext): Promise<Undo> {
    const { id } = this.parts.overrides.add(override, {
      owner: context.drillId,
      reason: `drill ${context.drillId}: ${action.kind}`,
      ttlMs: context.ttlMs,
    });
    return async () => {
      this.parts.overrides.remove(id);
    };
  }
}

/** In live mode a place going down is rehearsed as the router draining it. */
function liveOverride(action: DrillAction, service: string): DrillOverride {
  switch (action.kind) {
    case 'zone-down':
      return { kind: 'drain', service, zone: action.zone };
    case 'site-down':
      return { kind: 'drain', service, cluster: action.site };
    case 'region-down':
      return { kind: 'drain', service, region: action.region };
    case 'drain':
      return {
        kind: 'drain',
        service,
        ...(action.zone ? { zone: action.zone } : {}),
        ...(action.region ? { region: action.region } : {}),
        ...(action.cluster ? { cluster: action.cluster } : {}),
      };
    case 'force-share':
      return { kind: 'force-share', service, share: action.share };
    default:
      throw new Error(`"${action.kind}" can only be simulated: live drills act through router overrides only`);
  }
}

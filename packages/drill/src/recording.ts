import type { Environment, MeasuredLoad } from '@spillway/model';
import type { DrillCost } from './burst-cost.js';
import type { DrillAction } from './drill-file.js';

/** Times are seconds since the timeline's zero (probes ready, first entry may start). */

/** Where an endpoint that answered a probe runs, from the catalog. */
export interface EndpointPlace {
  readonly cluster: string;
  readonly zone: string;
  readonly region: string;
  readonly environment: Environment;
}

/** One probe request. */
export interface DrillSample {
  readonly t: number;
  readonly ok: boolean;
  readonly code: number;
  readonly latencyMs: number;
  /** The endpoint that answered; absent when the request failed before reaching one. */
  readonly endpoint?: EndpointPlace;
}

/** What the router publishes for the target, each time it changes. */
export interface ViewSample {
  readonly t: number;
  /** The cloud share in the traffic policy the router serves (overrides included). */
  readonly share: number;
  /** Sorted `address:port` of the endpoints the router would send traffic to (healthy ones). */
  readonly servable: string;
}

/** When an entry was applied and undone, and what went wrong doing so. */
export interface AppliedEntry {
  readonly index: number;
  readonly appliedAt?: number;
  readonly undoneAt?: number;
  readonly error?: string;
}

/** How a run ended. */
export type DrillEnd = 'completed' | 'aborted' | 'deadline' | 'error';

/** Everything a run observed: the input of evaluateDrill. */
export interface DrillRecording {
  readonly samples: readonly DrillSample[];
  readonly views: readonly ViewSample[];
  readonly applied: readonly AppliedEntry[];
  /** Seconds from zero to the end of the run. */
  readonly endedAt: number;
  readonly end: DrillEnd;
  readonly error?: string;
  /** Sends the probes skipped because a client had too many requests in flight (load shed). */
  readonly skippedSends?: number;
  /** What every client of the target reported over LRS during the run, read when it ended. */
  readonly reportedLoad?: MeasuredLoad;
  /** What the target's bursts during the run cost, read when it ended. */
  readonly cost?: DrillCost;
}

/** A place an action breaks, in catalog terms: probes reaching it have not failed over. */
export interface BrokenPlace {
  readonly zone?: string;
  readonly region?: string;
  readonly cluster?: string;
}

/** The place a disruptive action takes away from the target; undefined for the others. */
export function brokenPlace(action: DrillAction): BrokenPlace | undefined {
  switch (action.kind) {
    case 'zone-down':
      return { zone: action.zone };
    case 'site-down':
      return { cluster: action.site };
    case 'region-down':
    case 'wrong-trust-bundle':
      return { region: action.region };
    case 'drain':
      return {
        ...(action.zone ? { zone: action.zone } : {}),
        ...(action.region ? { region: action.region } : {}),
        ...(action.cluster ? { cluster: action.cluster } : {}),
      };
    default:
      return undefined;
  }
}

export function inPlace(endpoint: EndpointPlace, place: BrokenPlace): boolean {
  return (
    (place.zone === undefined || endpoint.zone === place.zone) &&
    (place.region === undefined || endpoint.region === place.region) &&
    (place.cluster === undefined || endpoint.cluster === place.cluster)
  );
}

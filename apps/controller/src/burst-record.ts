import type { Burst, Prewarm, RequestForecast, RunningCost } from '@spillway/api';
import {
  type ActiveBurst,
  type BurstPhase,
  type BurstState,
  describeForecast,
  type ForecastReading,
  type ObservedCloud,
  warmCapacityFor,
} from '@spillway/burst';
import type { BurstPolicy } from '@spillway/model';

/** What a burst record shows beside the burst itself: the world seen, the policy's prices, the forecast decided with. */
export interface BurstRecordContext {
  readonly world?: { readonly observed: ObservedCloud; readonly intents: BurstState['intents'] };
  readonly policy?: BurstPolicy;
  readonly forecast?: RequestForecast | null;
}

/** What `GET /v1/bursts/{id}` shows of a burst (its documented shape, packages/api `Burst`): where it is and what it waits on. */
export function burstRecord(
  service: string,
  burst: ActiveBurst,
  phase: BurstPhase,
  now: number,
  active: boolean,
  { world, policy, forecast = null }: BurstRecordContext = {},
): Burst {
  return {
    id: burst.id,
    service,
    createdAt: new Date(burst.startedAt).toISOString(),
    updatedAt: new Date(now).toISOString(),
    active,
    phase: active ? phase : 'ended',
    origin: burst.origin,
    share: active ? burst.share : 0,
    targetShare: burst.path.at(-1) ?? 0,
    step: Math.max(
      0,
      burst.path.findIndex((share) => share >= burst.share - 1e-9),
    ),
    path: burst.path,
    reason: burst.manual?.reason ?? burst.shareReason,
    actor: burst.manual?.actor ?? 'controller',
    expiresAt: burst.manual?.expiresAt ? new Date(burst.manual.expiresAt).toISOString() : null,
    waitingOn: active ? burst.waitingOn : null,
    abort: burst.abort ? { ...burst.abort, at: new Date(burst.abort.at).toISOString() } : null,
    cost: costRecord(burst, active, policy),
    forecast,
    prewarm: prewarmRecord(burst),
    ...(world && active ? capacityView(burst, world) : {}),
  };
}

/**
 * A forecast as the API shows it, with the warm capacity its peak calls for under `policy`.
 * `learned`: whether the lead time came from observed scale-outs rather than the policy default.
 */
export function forecastRecord(policy: BurstPolicy, reading: ForecastReading, learned: boolean): RequestForecast {
  return {
    at: new Date(reading.at).toISOString(),
    method: reading.method,
    observedRps: reading.observedRps,
    levelRps: reading.levelRps,
    trendRpsPerSecond: reading.trendRpsPerSecond,
    peakRps: reading.peakRps,
    capacityRps: reading.capacityRps,
    horizonSeconds: reading.horizonSeconds,
    leadTimeSeconds: reading.leadTimeSeconds,
    leadTimeLearned: learned,
    crossingAt: reading.crossingAt === null ? null : new Date(reading.crossingAt).toISOString(),
    warm: warmCapacityFor(policy, reading),
    summary: describeForecast(reading),
  };
}

function prewarmRecord(burst: ActiveBurst): Prewarm | null {
  const prewarm = burst.prewarm;
  if (prewarm == null) return null;
  const iso = (at: number) => new Date(at).toISOString();
  return {
    startedAt: iso(prewarm.startedAt),
    crossingAt: iso(prewarm.crossingAt),
    supportedAt: iso(prewarm.supportedAt),
    shiftedAt: prewarm.shiftedAt === null ? null : iso(prewarm.shiftedAt),
    forecast: prewarm.forecast,
  };
}

/**
 * Capacity asked for against capacity ready, and the share the router's traffic policy holds:
 * what an operator compares with `waitingOn`. Requested values are the controller's last intents
 * (null where the policy has no such target or nothing was asked yet).
 */
function capacityView(
  burst: ActiveBurst,
  world: { readonly observed: ObservedCloud; readonly intents: BurstState['intents'] },
) {
  const { observed, intents } = world;
  return {
    appliedShare: observed.appliedShare,
    capacity: {
      share: burst.capacityShare,
      replicas: { requested: intents.replicas?.value ?? null, ready: observed.replicasReady },
      nodes: { requested: intents.nodes?.value ?? null, ready: observed.nodesReady },
      cloudReadyEndpoints: observed.cloudReadyEndpoints,
    },
  };
}

/** The burst's meter as shown; an ended burst holds nothing any more. */
function costRecord(burst: ActiveBurst, active: boolean, policy: BurstPolicy | undefined): RunningCost | null {
  const meter = burst.cost;
  if (meter == null) return null;
  return {
    total: meter.total,
    hourly: active ? meter.hourly : 0,
    currency: meter.currency,
    perBurstBudget: policy?.cost?.perBurstBudget ?? null,
  };
}

import type { Burst, RunningCost } from '@spillway/api';
import type { ActiveBurst, BurstPhase, BurstState, ObservedCloud } from '@spillway/burst';
import type { BurstPolicy } from '@spillway/model';

/** What `GET /v1/bursts/{id}` shows of a burst (its documented shape, packages/api `Burst`): where it is and what it waits on. */
export function burstRecord(
  service: string,
  burst: ActiveBurst,
  phase: BurstPhase,
  now: number,
  active: boolean,
  world?: { readonly observed: ObservedCloud; readonly intents: BurstState['intents'] },
  policy?: BurstPolicy,
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
    ...(world && active ? capacityView(burst, world) : {}),
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

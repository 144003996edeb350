import type { Burst } from '@spillway/api';
import type { ActiveBurst, BurstPhase } from '@spillway/burst';

/** What `GET /v1/bursts/{id}` shows of a burst (its documented shape, packages/api `Burst`): where it is and what it waits on. */
export function burstRecord(
  service: string,
  burst: ActiveBurst,
  phase: BurstPhase,
  now: number,
  active: boolean,
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
  };
}

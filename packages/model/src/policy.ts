import { z } from 'zod';

/** How close an endpoint is to a client, from nearest to farthest. */
export const ProximityRing = z.enum(['zone', 'region', 'environment', 'other-environment']);
export type ProximityRing = z.infer<typeof ProximityRing>;

export const DEFAULT_PROXIMITY: readonly ProximityRing[] = ['zone', 'region', 'environment', 'other-environment'];

/**
 * What the burst controller wants for one service: the share of requests that should reach
 * cloud endpoints, realised by the locality router.
 */
export const TrafficPolicy = z.object({
  service: z.string(),
  cloudShare: z.number().min(0).max(1),
  /** Why the policy is what it is (burst id, drill id, operator reason). */
  reason: z.string().default(''),
  updatedAt: z.string(),
});
export type TrafficPolicy = z.infer<typeof TrafficPolicy>;

/** Read side of the traffic policies: what the router consumes. */
export interface TrafficPolicyReader {
  get(service: string): TrafficPolicy | undefined;
  all(): readonly TrafficPolicy[];
  /** Calls `listener` with the service whose policy changed; returns an unsubscribe function. */
  subscribe(listener: (service: string) => void): () => void;
}

/** Write side: the burst controller, drills and tests set policies through it. */
export interface TrafficPolicyWriter {
  set(policy: TrafficPolicy): Promise<void>;
  clear(service: string): Promise<void>;
}

import { z } from 'zod';

/**
 * What a drill can break. A fault stays until recovered with an equal fault (same kind and
 * target). Faults compose: a zone inside a site that is down stays down until both recover.
 *
 * - zone-down / site-down / region-down: the endpoints there stop answering (their gRPC servers
 *   close every connection) and their registry reports them unhealthy, as Kubernetes marks the
 *   endpoints of lost nodes not ready. region-down also fails the cloud APIs of that region
 *   (nodegroup and Deployment scaling answer ServiceUnavailable, which is retryable).
 * - latency: the endpoints there answer `extraSeconds` slower, in the model's p99 and for real
 *   on the gRPC servers (for real in real seconds: drills are short).
 * - registry-down: the site's registry stops answering; its source reports failed() on every
 *   retry and no changes, so the catalog keeps its last view until the grace period runs out.
 * - wrong-trust-bundle (fleets with mesh mTLS): the region's workloads restart holding another
 *   CA's bundle and certificates, as after a botched CA rotation there. Their registry still
 *   reports them healthy; only the mesh's identity checks stand between callers and them.
 */
export const Fault = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('zone-down'), zone: z.string().min(1) }),
  z.strictObject({ kind: z.literal('site-down'), site: z.string().min(1) }),
  z.strictObject({ kind: z.literal('region-down'), region: z.string().min(1) }),
  z.strictObject({
    kind: z.literal('latency'),
    site: z.string().min(1).optional(),
    zone: z.string().min(1).optional(),
    extraSeconds: z.number().positive(),
  }),
  z.strictObject({ kind: z.literal('registry-down'), site: z.string().min(1) }),
  z.strictObject({ kind: z.literal('wrong-trust-bundle'), region: z.string().min(1) }),
]);
export type Fault = z.infer<typeof Fault>;

/** Where an endpoint runs, for deciding which faults hit it. */
export interface Place {
  readonly site: string;
  readonly zone: string;
  readonly region: string;
}

/** A stable key: recover() must find the fault inject() added, whatever the key order. */
export function faultKey(fault: Fault): string {
  const entries = Object.entries(fault).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(entries);
}

/** The active faults and what they mean for one place. */
export class FaultSet {
  private readonly active = new Map<string, Fault>();

  /** Adds a fault; false when it was already active. */
  add(fault: Fault): boolean {
    const key = faultKey(fault);
    if (this.active.has(key)) return false;
    this.active.set(key, fault);
    return true;
  }

  /** Removes a fault; false when it was not active. */
  remove(fault: Fault): boolean {
    return this.active.delete(faultKey(fault));
  }

  list(): Fault[] {
    return [...this.active.values()];
  }

  isDown(place: Place): boolean {
    return this.list().some(
      (fault) =>
        (fault.kind === 'zone-down' && fault.zone === place.zone) ||
        (fault.kind === 'site-down' && fault.site === place.site) ||
        (fault.kind === 'region-down' && fault.region === place.region),
    );
  }

  extraLatencySeconds(place: Place): number {
    let extra = 0;
    for (const fault of this.list()) {
      if (fault.kind !== 'latency') continue;
      if (fault.site !== undefined && fault.site !== place.site) continue;
      if (fault.zone !== undefined && fault.zone !== place.zone) continue;
      extra += fault.extraSeconds;
    }
    return extra;
  }

  registryDown(site: string): boolean {
    return this.list().some((fault) => fault.kind === 'registry-down' && fault.site === site);
  }

  wrongTrustBundle(place: Place): boolean {
    return this.list().some((fault) => fault.kind === 'wrong-trust-bundle' && fault.region === place.region);
  }

  regionDown(region: string): boolean {
    return this.list().some((fault) => fault.kind === 'region-down' && fault.region === region);
  }
}

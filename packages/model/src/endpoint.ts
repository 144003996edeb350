import { z } from 'zod';
import { Environment, Locality } from './locality.js';

/**
 * Catalog health. `draining` endpoints finish in-flight work and take no new traffic
 * (Kubernetes `terminating`, Consul maintenance); `unhealthy` ones take none at all.
 */
export const Health = z.enum(['healthy', 'unhealthy', 'draining']);
export type Health = z.infer<typeof Health>;

/** Ordering used when two registries disagree about the same address:port. */
export const HEALTH_RANK: Readonly<Record<Health, number>> = { healthy: 0, draining: 1, unhealthy: 2 };

export const Endpoint = z.object({
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** The registered cluster (source) that reported it. */
  cluster: z.string().min(1),
  environment: Environment,
  locality: Locality,
  health: Health,
  /** Relative weight inside its locality, 1..128 as in Envoy's load_balancing_weight. */
  weight: z.number().int().min(1).max(128).default(1),
  labels: z.record(z.string(), z.string()).default({}),
});
export type Endpoint = z.infer<typeof Endpoint>;

/** Identity of an endpoint inside a service: two registries reporting it are one endpoint. */
export function endpointId(endpoint: Pick<Endpoint, 'address' | 'port'>): string {
  return endpoint.address.includes(':')
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
}

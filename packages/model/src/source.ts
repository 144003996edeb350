import { z } from 'zod';
import { Environment } from './locality.js';

export const SourceKind = z.enum(['static', 'kubernetes', 'consul', 'nomad', 'eks']);
export type SourceKind = z.infer<typeof SourceKind>;

/**
 * A source's liveness as the catalog sees it:
 * - `syncing`: started, no complete view yet;
 * - `live`: its last contact succeeded;
 * - `failing`: its last contact failed, endpoints kept as they were (inside the grace period);
 * - `stale`: failing for longer than the grace period; its endpoints are served unhealthy.
 */
export const SourceState = z.enum(['syncing', 'live', 'failing', 'stale']);
export type SourceState = z.infer<typeof SourceState>;

export const SourceStatus = z.object({
  name: z.string(),
  kind: SourceKind,
  environment: Environment,
  region: z.string(),
  state: SourceState,
  /** ISO time of the last successful contact (list, watch event, poll). */
  lastSyncAt: z.string().nullable(),
  /** ISO time since which the source has been failing; null while it is healthy. */
  failingSince: z.string().nullable(),
  /** ISO time at which the source went past its grace period. */
  staleSince: z.string().nullable(),
  lastError: z.string().nullable(),
  serviceCount: z.number().int(),
  endpointCount: z.number().int(),
});
export type SourceStatus = z.infer<typeof SourceStatus>;

import { z } from 'zod';

/**
 * Traffic as the clients themselves report it (LRS), per locality of one service, over the
 * last `windowSeconds`: `GET /v1/load?service=NAME.NS&windowSeconds=W`.
 * `environment` comes from the catalog; `unknown` is a locality the catalog does not have for
 * the service (its requests count in the total, never as cloud).
 */
export const MeasuredLocalityLoad = z.object({
  region: z.string(),
  zone: z.string(),
  environment: z.enum(['onprem', 'cloud', 'unknown']),
  /** Requests completed in the window (successful + errors), plus those in progress at the last report. */
  requests: z.number().int().min(0),
  errors: z.number().int().min(0),
});
export type MeasuredLocalityLoad = z.infer<typeof MeasuredLocalityLoad>;

export const MeasuredLoad = z.object({
  service: z.string(),
  windowSeconds: z.number().int().min(1),
  localities: z.array(MeasuredLocalityLoad),
  /** Cloud requests / all requests; null when no request was reported in the window. */
  cloudShare: z.number().min(0).max(1).nullable(),
});
export type MeasuredLoad = z.infer<typeof MeasuredLoad>;

/** Where the burst controller reads measured load from: the router in-process, or over HTTP. */
export interface MeasuredLoadReader {
  measuredLoad(service: string, windowSeconds: number): Promise<MeasuredLoad>;
}

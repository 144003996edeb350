import { parseServiceKey } from '@spillway/model';
import { z } from 'zod';

/** `NAME.NS`, the key the catalog and the xDS resources use for a service. */
const ServiceKeyField = z
  .string()
  .refine((key) => parseServiceKey(key) !== undefined, 'expected a service key NAME.NS (e.g. "echo.demo")');

/** A locality or cluster name to match exactly; empty strings ("unknown" in a locality) are refused. */
const MatchField = z.string().min(1, 'must not be empty');

/**
 * Drain every endpoint whose `locality.zone`, `locality.region` and `cluster` equal each field
 * given (at least one of the three): matching healthy endpoints are published `draining`.
 * With `service` only that service is drained, otherwise every service.
 */
export const DrainOverride = z
  .strictObject({
    kind: z.literal('drain'),
    service: ServiceKeyField.optional(),
    zone: MatchField.optional(),
    region: MatchField.optional(),
    cluster: MatchField.optional(),
  })
  .refine((drain) => drain.zone !== undefined || drain.region !== undefined || drain.cluster !== undefined, {
    message: 'a drain needs at least one of zone, region or cluster',
  });
export type DrainOverride = z.infer<typeof DrainOverride>;

/** Publish `share` as the service's cloud share, whatever the burst controller decided. */
export const ForceShareOverride = z.strictObject({
  kind: z.literal('force-share'),
  service: ServiceKeyField,
  share: z.number().min(0).max(1),
});
export type ForceShareOverride = z.infer<typeof ForceShareOverride>;

/** A reversible change to what the router publishes (game-day drills in live mode). */
export const RouterOverride = z.discriminatedUnion('kind', [DrainOverride, ForceShareOverride]);
export type RouterOverride = z.infer<typeof RouterOverride>;

/** An override in force: who set it, why, and when it rolls back by itself. */
export const ActiveOverride = z.object({
  id: z.string(),
  override: RouterOverride,
  owner: z.string(),
  reason: z.string(),
  /** ISO 8601. */
  createdAt: z.string(),
  /** ISO 8601: the override is removed at this instant unless removed before. */
  expiresAt: z.string(),
});
export type ActiveOverride = z.infer<typeof ActiveOverride>;

/** Longest time an override may stay in force: a drill must not leave the estate altered for days. */
export const MAX_OVERRIDE_TTL_MS = 24 * 60 * 60 * 1000;

/** Options of `RouterOverrides.add`. */
export const OverrideGrant = z.strictObject({
  owner: z.string().min(1, 'must not be empty'),
  reason: z.string(),
  ttlMs: z
    .number({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a number of milliseconds') })
    .positive('must be > 0')
    .max(MAX_OVERRIDE_TTL_MS, 'must be at most 24 h (86400000 ms)'),
});
export type OverrideGrant = z.infer<typeof OverrideGrant>;

/** "what: field: message; …", so a refused override says which field is wrong. */
export function describeIssues(what: string, error: z.ZodError): string {
  const issues = error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  return `${what}: ${issues.join('; ')}`;
}

import { z } from 'zod';

export { ActiveOverride, DrainOverride, ForceShareOverride, RouterOverride } from '@spillway/api';

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

import { isDeepStrictEqual } from 'node:util';
import type { BurstPolicy, PolicySetChange } from '@spillway/model';

/** Which services were added, changed (and in which top-level fields) or removed. Pure. */
export function diffPolicies(
  before: ReadonlyMap<string, BurstPolicy>,
  after: ReadonlyMap<string, BurstPolicy>,
): PolicySetChange {
  const added: string[] = [];
  const changed: { service: string; fields: string[] }[] = [];
  const removed: string[] = [];
  for (const [service, policy] of after) {
    const previous = before.get(service);
    if (!previous) added.push(service);
    else {
      const fields = changedFields(previous, policy);
      if (fields.length > 0) changed.push({ service, fields });
    }
  }
  for (const service of before.keys()) if (!after.has(service)) removed.push(service);
  return { added, changed, removed };
}

export function isEmptyChange(change: PolicySetChange): boolean {
  return change.added.length + change.changed.length + change.removed.length === 0;
}

function changedFields(a: BurstPolicy, b: BurstPolicy): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof BurstPolicy>;
  return [...keys].filter((key) => !isDeepStrictEqual(a[key], b[key])).sort();
}

/** One line for a log or an audit entry: `added a.b; changed c.d (maxShare, steps); removed e.f`. */
export function describeChange(change: PolicySetChange): string {
  const parts: string[] = [];
  if (change.added.length) parts.push(`added ${change.added.join(', ')}`);
  if (change.changed.length)
    parts.push(`changed ${change.changed.map((c) => `${c.service} (${c.fields.join(', ')})`).join(', ')}`);
  if (change.removed.length) parts.push(`removed ${change.removed.join(', ')}`);
  return parts.join('; ') || 'no policy changed';
}

import type { BurstPolicy } from '@spillway/model';

/** A valid BurstPolicy custom resource, as the merge needs it. */
export interface PolicyResource {
  readonly namespace: string;
  readonly name: string;
  /** metadata.creationTimestamp (RFC 3339): the older resource wins a service. */
  readonly createdAt: string;
  readonly generation: number;
  readonly policy: BurstPolicy;
}

export type PolicyOrigin = { readonly kind: 'file' } | { readonly kind: 'resource'; readonly key: string };

export interface MergedPolicies {
  /** The policy in force per service, and where it came from. */
  readonly policies: ReadonlyMap<string, { readonly policy: BurstPolicy; readonly origin: PolicyOrigin }>;
  /** Resources not in force, by `namespace/name`, with the reason (for their Conflict condition). */
  readonly conflicts: ReadonlyMap<string, string>;
}

export function resourceKey(resource: Pick<PolicyResource, 'namespace' | 'name'>): string {
  return `${resource.namespace}/${resource.name}`;
}

/**
 * The policies in force, from the config file's `policies:` and the BurstPolicy resources.
 * Precedence (docs/kubernetes.md#custom-resources): the file wins for every service it names
 * (a resource cannot take over what the operator pinned in the file); among resources for one
 * service the oldest (creationTimestamp, then namespace/name) wins, so a newcomer never
 * displaces a policy that is running a burst. Pure.
 */
export function mergePolicies(file: readonly BurstPolicy[], resources: readonly PolicyResource[]): MergedPolicies {
  const policies = new Map<string, { policy: BurstPolicy; origin: PolicyOrigin }>();
  const conflicts = new Map<string, string>();
  for (const policy of file) policies.set(policy.service, { policy, origin: { kind: 'file' } });
  for (const resource of [...resources].sort(olderFirst)) {
    const service = resource.policy.service;
    const holder = policies.get(service);
    if (!holder) {
      policies.set(service, { policy: resource.policy, origin: { kind: 'resource', key: resourceKey(resource) } });
      continue;
    }
    conflicts.set(
      resourceKey(resource),
      holder.origin.kind === 'file'
        ? `${service} has a policy in the config file, which wins`
        : `${service} already has a policy from the older BurstPolicy ${holder.origin.key}, which wins`,
    );
  }
  return { policies, conflicts };
}

function olderFirst(a: PolicyResource, b: PolicyResource): number {
  const byTime = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  if (byTime !== 0 && Number.isFinite(byTime)) return byTime;
  return resourceKey(a).localeCompare(resourceKey(b));
}

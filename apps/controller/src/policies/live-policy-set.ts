import type { BurstPolicy, PolicySet, PolicySetChange } from '@spillway/model';
import { type MergedPolicies, mergePolicies, type PolicyOrigin, type PolicyResource } from './merge-policies.js';
import { diffPolicies, isEmptyChange } from './policy-diff.js';

/**
 * The policies in force, merged from two inputs that change independently: the config file
 * (replaced on a reload) and the BurstPolicy resources (replaced by the watch). Each replace
 * merges again (mergePolicies) and tells subscribers what changed, if anything.
 */
export class LivePolicySet implements PolicySet {
  private file: readonly BurstPolicy[];
  private resources: readonly PolicyResource[] = [];
  private merged: MergedPolicies;
  private readonly listeners = new Set<(change: PolicySetChange) => void>();

  constructor(file: readonly BurstPolicy[]) {
    this.file = file;
    this.merged = mergePolicies(file, []);
  }

  current(): readonly BurstPolicy[] {
    return [...this.merged.policies.values()].map((entry) => entry.policy);
  }

  get(service: string): BurstPolicy | undefined {
    return this.merged.policies.get(service)?.policy;
  }

  /** Where the policy in force for `service` came from. */
  origin(service: string): PolicyOrigin | undefined {
    return this.merged.policies.get(service)?.origin;
  }

  /** How many policies are in force, by where they came from. */
  counts(): { readonly file: number; readonly resources: number } {
    const origins = [...this.merged.policies.values()].map((entry) => entry.origin.kind);
    const file = origins.filter((kind) => kind === 'file').length;
    return { file, resources: origins.length - file };
  }

  /** Why the resource `namespace/name` is not in force, or undefined when it is (or is unknown). */
  conflict(key: string): string | undefined {
    return this.merged.conflicts.get(key);
  }

  subscribe(listener: (change: PolicySetChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The config file's policies (start, reload). Returns what changed. */
  replaceFile(policies: readonly BurstPolicy[]): PolicySetChange {
    this.file = policies;
    return this.remerge();
  }

  /** Every valid BurstPolicy resource known now (the watch's cache). Returns what changed. */
  replaceResources(resources: readonly PolicyResource[]): PolicySetChange {
    this.resources = resources;
    return this.remerge();
  }

  private remerge(): PolicySetChange {
    const before = policiesOf(this.merged);
    this.merged = mergePolicies(this.file, this.resources);
    const change = diffPolicies(before, policiesOf(this.merged));
    if (!isEmptyChange(change)) for (const listener of this.listeners) listener(change);
    return change;
  }
}

function policiesOf(merged: MergedPolicies): Map<string, BurstPolicy> {
  return new Map([...merged.policies].map(([service, entry]) => [service, entry.policy]));
}

import type { BurstPolicy } from './burst-policy.js';

/** What changed between two versions of the live policies, by service (`NAME.NS`). */
export interface PolicySetChange {
  readonly added: readonly string[];
  /** Services whose policy is different now, with the top-level fields that differ. */
  readonly changed: readonly { readonly service: string; readonly fields: readonly string[] }[];
  readonly removed: readonly string[];
}

/**
 * The burst policies in force now. The controller, the alert intake, the SLO watch and the
 * burst API read them through this; where they come from (the config file, BurstPolicy custom
 * resources, a reload) is the implementer's business.
 */
export interface PolicySet {
  /** Every policy in force, one per service. */
  current(): readonly BurstPolicy[];
  get(service: string): BurstPolicy | undefined;
  /** Called after each change that added, changed or removed a policy; returns an unsubscribe. */
  subscribe(listener: (change: PolicySetChange) => void): () => void;
}

/** A set that never changes (tests, tools that read a file once). */
export function fixedPolicySet(policies: readonly BurstPolicy[]): PolicySet {
  const byService = new Map(policies.map((policy) => [policy.service, policy]));
  return {
    current: () => [...byService.values()],
    get: (service) => byService.get(service),
    subscribe: () => () => undefined,
  };
}

import { BurstPolicyStatus, type ResourceCondition } from '@spillway/model';

/** Where a BurstPolicy resource stands, as the controller sees it. */
export type PolicyResourceStanding =
  | { readonly kind: 'invalid'; readonly problems: readonly string[] }
  | { readonly kind: 'conflict'; readonly reason: string }
  | {
      readonly kind: 'in-force';
      readonly service: string;
      /** The service's burst: phase, share published now, and the share it heads for. */
      readonly burst: { readonly phase: string; readonly share: number; readonly targetShare: number };
    };

export interface StatusInput {
  readonly generation: number;
  readonly standing: PolicyResourceStanding;
  /** The status the object carries now (as written before), if it parses. */
  readonly previous: BurstPolicyStatus | undefined;
  /** RFC 3339, for whatever transitions now. */
  readonly now: string;
}

/**
 * The status a BurstPolicy should carry. Conditions `Ready` (in force, or why not: Invalid with
 * the field paths, Conflict) and, for a valid spec, `Conflict`. Transition times are kept from
 * the previous status while nothing changed, so an unchanged standing gives an equal status and
 * nothing is written. Pure.
 */
export function burstPolicyStatus(input: StatusInput): BurstPolicyStatus {
  const { standing, previous, now, generation } = input;
  const condition = (type: string, status: 'True' | 'False', reason: string, message: string): ResourceCondition => {
    const before = previous?.conditions.find((c) => c.type === type);
    const same = before?.status === status;
    return {
      type,
      status,
      reason,
      message,
      lastTransitionTime: same && before ? before.lastTransitionTime : now,
      observedGeneration: generation,
    };
  };
  const phase =
    standing.kind === 'invalid' ? 'Invalid' : standing.kind === 'conflict' ? 'Conflict' : standing.burst.phase;
  const conditions =
    standing.kind === 'invalid'
      ? [condition('Ready', 'False', 'Invalid', truncate(standing.problems.join('; ')))]
      : standing.kind === 'conflict'
        ? [
            condition('Ready', 'False', 'Conflict', standing.reason),
            condition('Conflict', 'True', 'ServiceTaken', standing.reason),
          ]
        : [
            condition('Ready', 'True', 'InForce', `the burst policy for ${standing.service} is in force`),
            condition('Conflict', 'False', 'NoConflict', ''),
          ];
  const burst = standing.kind === 'in-force' ? standing.burst : { share: 0, targetShare: 0 };
  return BurstPolicyStatus.parse({
    phase,
    share: burst.share,
    targetShare: burst.targetShare,
    lastTransitionTime: previous?.phase === phase && previous.lastTransitionTime ? previous.lastTransitionTime : now,
    observedGeneration: generation,
    conditions,
  });
}

/** Condition messages are bounded (metav1.Condition: 32768). */
function truncate(message: string): string {
  return message.length > 32_000 ? `${message.slice(0, 32_000)}…` : message;
}

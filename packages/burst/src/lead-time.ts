import type { BurstPolicy } from '@spillway/model';

/**
 * How long this policy's cloud capacity takes from being requested to being ready, learned from
 * observed scale-outs and kept with the burst state (so in the state store, across leaders).
 */
export interface LeadTimeEstimate {
  /** Smoothed lead time in seconds. */
  seconds: number;
  /** Scale-outs observed. */
  samples: number;
}

/** Weight of the newest scale-out: a new machine type shows within a few bursts. */
const NEWEST_WEIGHT = 0.3;
/** A sample longer than this (s) is an outage, not a lead time. */
const MAX_SAMPLE_SECONDS = 3600;

export function learnLeadTime(previous: LeadTimeEstimate | undefined, observedSeconds: number): LeadTimeEstimate {
  const sample = Math.min(Math.max(observedSeconds, 0), MAX_SAMPLE_SECONDS);
  if (previous === undefined || previous.samples === 0) return { seconds: sample, samples: 1 };
  const seconds = NEWEST_WEIGHT * sample + (1 - NEWEST_WEIGHT) * previous.seconds;
  return { seconds, samples: previous.samples + 1 };
}

/** The lead time to plan with (whole seconds, rounded up): learned once observed, else the policy's default. */
export function leadTimeSeconds(policy: BurstPolicy, learned: LeadTimeEstimate | undefined): number {
  if (learned !== undefined && learned.samples > 0) return Math.max(1, Math.ceil(learned.seconds));
  return policy.predictive?.defaultLeadTimeSeconds ?? 120;
}

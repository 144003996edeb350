import type { BurstPolicy, CapacityBudget } from '@spillway/model';
import { formatShare, plural } from './format.js';

/**
 * Shares are decimals in binary floating point: 0.07 × 100 is 7.000000000000001 and must
 * ask for 7 replicas, not 8; two shares closer than this are the same share.
 */
export const SHARE_EPSILON = 1e-9;

/**
 * The smallest share a manual burst may ask for. Below it a burst would scale the cloud out and
 * hold it at (effectively) no traffic: 5e-324 is "> 0" but rounds to share 0 everywhere.
 */
export const MIN_MANUAL_SHARE = 0.01;

export function sameShare(a: number, b: number): boolean {
  return Math.abs(a - b) <= SHARE_EPSILON;
}

/** The upper bound is applied last: the budget beats a floor configured above it. */
function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

export interface CapacityPlan {
  replicas: number;
  nodes: number;
}

/** Bounded by what the budget runs (maxReplicas and what maxNodes hold), even above a floor. */
export function replicasForShare(budget: CapacityBudget, share: number): number {
  const wanted = Math.ceil(share * budget.replicasAtFullShare - SHARE_EPSILON);
  return clamp(wanted, budget.minReplicas, budgetReplicas(budget));
}

export function nodesForReplicas(budget: CapacityBudget, replicas: number): number {
  return clamp(Math.ceil(replicas / budget.podsPerNode), budget.minNodes, budget.maxNodes);
}

export function capacityForShare(budget: CapacityBudget, share: number): CapacityPlan {
  const replicas = replicasForShare(budget, share);
  return { replicas, nodes: nodesForReplicas(budget, replicas) };
}

/** The capacity kept while idle (warm capacity, usually none). */
export function floorCapacity(budget: CapacityBudget): CapacityPlan {
  return capacityForShare(budget, 0);
}

/** Replicas the budget can run: bounded by maxReplicas and by what maxNodes can hold. */
export function budgetReplicas(budget: CapacityBudget): number {
  return Math.min(budget.maxReplicas, budget.maxNodes * budget.podsPerNode);
}

/** The largest share whose capacity fits the budget. */
export function budgetShare(budget: CapacityBudget): number {
  return Math.min(1, budgetReplicas(budget) / budget.replicasAtFullShare);
}

export interface PlannedPath {
  /** Ascending, distinct, each ≤ maxShare and ≤ the budget's share. */
  path: number[];
  /** Why steps were capped, for the audit log. */
  notes: string[];
}

function ceilingReason(policy: BurstPolicy): string {
  const budget = policy.capacity;
  if (policy.maxShare <= budgetShare(budget)) return `maxShare is ${formatShare(policy.maxShare)}`;
  return (
    `the budget carries ${plural(budgetReplicas(budget), 'replica')} ` +
    `(maxReplicas ${budget.maxReplicas}, maxNodes ${budget.maxNodes} × podsPerNode ${budget.podsPerNode}) ` +
    `of ${budget.replicasAtFullShare} at full share`
  );
}

/** Caps each requested step to what maxShare and the budget allow; steps that collapse merge. */
export function planPath(policy: BurstPolicy, requested: readonly number[]): PlannedPath {
  const ceiling = Math.min(policy.maxShare, budgetShare(policy.capacity));
  const path: number[] = [];
  const notes: string[] = [];
  for (const step of requested) {
    const capped = Math.min(step, ceiling);
    if (capped < step - SHARE_EPSILON) {
      notes.push(`step ${formatShare(step)} capped to ${formatShare(capped)}: ${ceilingReason(policy)}`);
    }
    const last = path.at(-1);
    if (capped > SHARE_EPSILON && (last === undefined || capped > last + SHARE_EPSILON)) path.push(capped);
  }
  return { path, notes };
}

/** Route 53 weights (0..255) that realise a cloud share; they always sum to 255. */
export function dnsWeights(share: number): { cloudWeight: number; onpremWeight: number } {
  const cloudWeight = Math.round(clamp(share, 0, 1) * 255);
  return { cloudWeight, onpremWeight: 255 - cloudWeight };
}

import { createHash } from 'node:crypto';
import { type BurstAction, dnsWeights, type IntentKind } from '@spillway/burst';
import {
  type ActionGuard,
  ActionSupersededError,
  CloudActionError,
  type DeploymentScaler,
  type DnsWeights,
  type NodegroupScaler,
} from '@spillway/cloud';
import { type ActionJob, type JobHandler, type JsonValue, NonRetryableError } from '@spillway/jobs';
import type { BurstPolicy, TrafficPolicyWriter } from '@spillway/model';
import { z } from 'zod';

const Base = { burstId: z.string(), key: z.string(), reason: z.string() };
/** What a job carries: one BurstAction, validated again because it went through Redis. */
const ActionPayload = z.discriminatedUnion('kind', [
  z.object({ ...Base, kind: z.literal('scale-nodegroup'), desiredSize: z.number().int().min(0) }),
  z.object({ ...Base, kind: z.literal('scale-deployment'), replicas: z.number().int().min(0) }),
  z.object({ ...Base, kind: z.literal('set-traffic-share'), share: z.number().min(0).max(1) }),
  z.object({
    ...Base,
    kind: z.literal('set-dns-weights'),
    cloudWeight: z.number().int().min(0).max(255),
    onpremWeight: z.number().int().min(0).max(255),
  }),
]);

export interface ActionTargets {
  readonly policyFor: (service: string) => BurstPolicy | undefined;
  /** What the controller wants now for one kind of intent; null when it wants nothing. */
  readonly currentIntent: (service: string, kind: IntentKind) => Promise<{ burstId: string; value: number } | null>;
  readonly traffic: TrafficPolicyWriter;
  readonly nodegroups?: NodegroupScaler;
  readonly deployments?: DeploymentScaler;
  readonly dns?: DnsWeights;
  readonly now: () => number;
}

type Action = z.infer<typeof ActionPayload>;

/**
 * The jobs running in this process, so a new decision can stop the ones it superseded at once
 * (their wait ends; they write nothing more). Jobs running in other processes find out on their
 * next poll iteration, which asks the stored state.
 */
export class RunningActions {
  private readonly running = new Set<{
    service: string;
    stillWanted: () => Promise<boolean>;
    abort: AbortController;
  }>();

  /** Registers one running action until the returned function is called. */
  track(service: string, stillWanted: () => Promise<boolean>): { signal: AbortSignal; done: () => void } {
    const entry = { service, stillWanted, abort: new AbortController() };
    this.running.add(entry);
    return { signal: entry.abort.signal, done: () => this.running.delete(entry) };
  }

  /** Asks each running job of `service` whether it is still wanted; aborts those that are not. */
  async recheck(service: string): Promise<void> {
    for (const entry of [...this.running]) {
      if (entry.service !== service || entry.abort.signal.aborted) continue;
      if (!(await entry.stillWanted().catch(() => true))) entry.abort.abort(new Error('superseded'));
    }
  }

  /** How many jobs run here now (metrics, tests). */
  get size(): number {
    return this.running.size;
  }
}

export function toJob(service: string, action: BurstAction): ActionJob {
  return { key: action.key, kind: action.kind, service, burstId: action.burstId, payload: { ...action } };
}

/**
 * One handler per action kind. Each sets a desired value (never adds), so running a job twice
 * is harmless; a failure that no retry can fix (bad target, over budget, degraded nodegroup)
 * is non-retryable so the queue stops and the audit says why.
 */
export function actionHandlers(
  targets: ActionTargets,
  running: RunningActions = new RunningActions(),
): Record<BurstAction['kind'], JobHandler> {
  return {
    'set-traffic-share': (job) =>
      run(job, async (action, policy) => {
        if (action.kind !== 'set-traffic-share') return null;
        await targets.traffic.set({
          service: policy.service,
          cloudShare: action.share,
          reason: `${action.burstId}: ${action.reason}`,
          updatedAt: new Date(targets.now()).toISOString(),
        });
        return { share: action.share };
      }),
    'scale-deployment': (job) =>
      run(job, async (action, policy) => {
        if (action.kind !== 'scale-deployment') return null;
        const ref = required(policy.cloud.deployment, 'cloud.deployment', policy);
        const result = await adapter(targets.deployments, 'Deployment scaler').scale(ref, action.replicas);
        return { changed: result.changed, previous: result.previous, replicas: result.replicas };
      }),
    'scale-nodegroup': (job, progress) =>
      run(job, async (action, policy, guard) => {
        if (action.kind !== 'scale-nodegroup') return null;
        const ref = required(policy.cloud.eks, 'cloud.eks', policy);
        const status = await adapter(targets.nodegroups, 'nodegroup scaler').scale(
          ref,
          action.desiredSize,
          (p) => report(progress, { status: p.status, desired: p.desired }),
          // The job key as EKS's idempotency token: a second controller's duplicate is refused by EKS too.
          { maxNodes: policy.capacity.maxNodes, clientRequestToken: requestToken(job.key) },
          guard,
        );
        return { status: status.status, desired: status.desired };
      }),
    'set-dns-weights': (job, progress) =>
      run(job, async (action, policy, guard) => {
        if (action.kind !== 'set-dns-weights') return null;
        const target = required(policy.cloud.route53, 'cloud.route53', policy);
        const weights = { cloudWeight: action.cloudWeight, onpremWeight: action.onpremWeight };
        const result = await adapter(targets.dns, 'Route 53 client').setWeights(
          target,
          weights,
          (p) => report(progress, { ...p }),
          guard,
        );
        return { changed: result.changed, changeId: result.changeId ?? null };
      }),
  };

  async function run(
    job: ActionJob,
    act: (action: Action, policy: BurstPolicy, guard: ActionGuard) => Promise<JsonValue>,
  ): Promise<JsonValue> {
    const parsed = ActionPayload.safeParse(job.payload);
    if (!parsed.success) throw new NonRetryableError(`job ${job.key}: malformed action: ${parsed.error.message}`);
    const policy = targets.policyFor(job.service);
    if (!policy) throw new NonRetryableError(`job ${job.key}: no burst policy for ${job.service}`);
    // A job that waited or was retried past a newer decision must not undo it (a scale-up
    // retried after an abort, the old DNS weights landing after the new ones). Long actions ask
    // again before each write and each poll (the guard), and a newer decision in this process
    // ends their wait at once (RunningActions.recheck).
    const wanted = () => stillWanted(parsed.data, job.service);
    if (!(await wanted())) return { superseded: true };
    const tracked = running.track(job.service, wanted);
    try {
      return await act(parsed.data, policy, { signal: tracked.signal, stillWanted: wanted });
    } catch (error) {
      if (error instanceof ActionSupersededError) return { superseded: true };
      if (error instanceof CloudActionError && !error.retryable) throw new NonRetryableError(error.message);
      throw error;
    } finally {
      tracked.done();
    }
  }

  async function stillWanted(action: Action, service: string): Promise<boolean> {
    const intent = await targets.currentIntent(service, INTENT_OF[action.kind]);
    if (!intent) return true;
    switch (action.kind) {
      case 'set-traffic-share':
        return intent.value === action.share;
      case 'set-dns-weights':
        return dnsWeights(intent.value).cloudWeight === action.cloudWeight;
      case 'scale-deployment':
        return intent.value === action.replicas;
      case 'scale-nodegroup':
        return intent.value === action.desiredSize;
    }
  }
}

/**
 * Progress is a courtesy: a failed update (Redis flushed or away: BullMQ's "Missing key for job")
 * must neither fail the action nor escape as an unhandled rejection, which would end the process.
 */
function report(progress: (value: JsonValue) => Promise<void>, value: JsonValue): void {
  progress(value).catch(() => undefined);
}

const INTENT_OF: Readonly<Record<BurstAction['kind'], IntentKind>> = {
  'set-traffic-share': 'traffic',
  'set-dns-weights': 'traffic',
  'scale-deployment': 'replicas',
  'scale-nodegroup': 'nodes',
};

function required<T>(value: T | undefined, field: string, policy: BurstPolicy): T {
  if (value === undefined) throw new NonRetryableError(`policy for ${policy.service} has no ${field}`);
  return value;
}

function adapter<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new NonRetryableError(`no ${what} is configured in this process`);
  return value;
}

/** EKS allows at most 64 characters: a digest of the key keeps it unique and short. */
function requestToken(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

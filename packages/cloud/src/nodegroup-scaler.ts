import {
  DescribeNodegroupCommand,
  EKSClient,
  type EKSClientConfig,
  type Nodegroup,
  type NodegroupScalingConfig,
  UpdateNodegroupConfigCommand,
} from '@aws-sdk/client-eks';
import { CloudTarget } from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import { z } from 'zod';
import { type ActionGuard, CloudActionError, checkGuard, errorCode, toCloudError } from './errors.js';
import { Deadline, type Pacing } from './pacing.js';

/** The EKS managed nodegroup of a burst policy (`cloud.eks` in the config). */
export const NodegroupRef = CloudTarget.shape.eks.unwrap();
export type NodegroupRef = z.infer<typeof NodegroupRef>;

/** EKS's nodegroup status values (the SDK's NodegroupStatus). */
export type NodegroupState =
  | 'CREATING'
  | 'ACTIVE'
  | 'UPDATING'
  | 'DELETING'
  | 'CREATE_FAILED'
  | 'DELETE_FAILED'
  | 'DEGRADED';

/** What a nodegroup looks like now, for observations and as the result of a scale. */
export interface NodegroupStatus {
  readonly status: NodegroupState | 'UNKNOWN';
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  /**
   * The nodegroup is ACTIVE at `desired` with no health issues. EKS does not report how many
   * nodes joined the cluster; ready *capacity* is what the catalog shows as ready endpoints.
   */
  readonly ready: boolean;
  readonly issues: readonly { readonly code: string; readonly message: string }[];
}

/** Reported while a scale runs: each DescribeNodegroup seen, the update sent, conflicts waited out. */
export interface NodegroupProgress {
  readonly phase: 'observed' | 'update-requested' | 'update-in-progress-elsewhere' | 'ready';
  readonly status: NodegroupState | 'UNKNOWN';
  readonly desired: number;
  readonly target: number;
}

/** The capacity budget that bounds a scale (CapacityBudget.maxNodes). */
export interface NodegroupLimits {
  /**
   * The most nodes the budget allows. A desiredSize above the nodegroup's maxSize raises maxSize
   * to desiredSize only when desiredSize ≤ maxNodes; without it maxSize is never raised, and a
   * desiredSize above maxSize is refused (non-retryable) rather than sent for EKS to reject.
   * maxSize is never lowered; minSize is lowered to desiredSize when scaling below it.
   */
  readonly maxNodes?: number;
  /**
   * EKS's idempotency token for UpdateNodegroupConfig (e.g. the job id): a repeated request with
   * the same token is not applied twice even if the describe-first check raced another writer.
   */
  readonly clientRequestToken?: string;
}

export interface NodegroupScaler {
  /**
   * Sets the nodegroup's desiredSize and waits until it is ACTIVE at that size. Idempotent: it
   * describes first and sends UpdateNodegroupConfig only when desiredSize differs, so a retry
   * of the same call never scales twice. With a `guard`, it asks "still wanted?" on every
   * iteration and before every UpdateNodegroupConfig, and stops with ActionSupersededError.
   */
  scale(
    target: NodegroupRef,
    desiredSize: number,
    progress?: (progress: NodegroupProgress) => void,
    limits?: NodegroupLimits,
    guard?: ActionGuard,
  ): Promise<NodegroupStatus>;
  /** One DescribeNodegroup, as an observation. */
  status(target: NodegroupRef): Promise<NodegroupStatus>;
}

export interface EksNodegroupScalerOptions {
  /** Client settings shared by every region (credentials, endpoint for tests, maxAttempts, retryStrategy). */
  readonly client?: Omit<EKSClientConfig, 'region'>;
  /** Or a client per region, owned by the caller. */
  readonly clientFor?: (region: string) => EKSClient;
  /**
   * Poll cadence and overall deadline of one scale (default: the NodegroupActive waiter's 30 s ×
   * 80 attempts). Conflicts (ResourceInUseException) back off from the same interval.
   */
  readonly pacing?: Partial<Pacing>;
  /** The clock the deadline reads (default Date.now): a test moves it past the deadline when it wants. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

const WAITER_PACING: Pacing = { intervalMs: 30_000, timeoutMs: 80 * 30_000 };
/** States from which a nodegroup will not become ACTIVE by waiting (the waiter's failure acceptors plus DEGRADED). */
const FAILED_STATES = new Set<string>(['CREATE_FAILED', 'DEGRADED', 'DELETING', 'DELETE_FAILED']);
const DesiredSize = z.number().int().min(0);

/**
 * NodegroupScaler over the EKS API: DescribeNodegroup, UpdateNodegroupConfig, then
 * DescribeNodegroup until ACTIVE with the size (the botocore NodegroupActive waiter, with a
 * configurable interval and one overall deadline). Throttling is retried by the SDK client's
 * retry strategy; an update already in progress (409 ResourceInUseException, or UPDATING seen
 * before sending) is waited out and the nodegroup described again before deciding to update.
 */
export class EksNodegroupScaler implements NodegroupScaler {
  private readonly clients = new Map<string, EKSClient>();
  private readonly pacing: Pacing;
  private readonly logger: Logger;

  constructor(private readonly options: EksNodegroupScalerOptions = {}) {
    this.pacing = { ...WAITER_PACING, ...options.pacing };
    this.logger = options.logger ?? silentLogger();
  }

  /** Destroys the clients this scaler created. */
  close(): void {
    if (!this.options.clientFor) for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  async status(target: NodegroupRef): Promise<NodegroupStatus> {
    const ref = NodegroupRef.parse(target);
    try {
      return toStatus(await this.describe(ref));
    } catch (error) {
      throw toCloudError('read-status', label(ref), error, 'DescribeNodegroup');
    }
  }

  async scale(
    target: NodegroupRef,
    desiredSize: number,
    progress: (progress: NodegroupProgress) => void = () => {},
    limits: NodegroupLimits = {},
    guard?: ActionGuard,
  ): Promise<NodegroupStatus> {
    const ref = NodegroupRef.parse(target);
    const name = label(ref);
    const fail = (detail: string, retryable: boolean, code?: string) =>
      new CloudActionError({ action: 'scale-nodegroup', target: name, retryable, detail, ...(code ? { code } : {}) });
    if (!DesiredSize.safeParse(desiredSize).success)
      throw fail(`desiredSize ${desiredSize} is not a whole number ≥ 0`, false);
    if (limits.maxNodes !== undefined && desiredSize > limits.maxNodes) {
      throw fail(`desiredSize ${desiredSize} is above the capacity budget (maxNodes ${limits.maxNodes})`, false);
    }
    const deadline = new Deadline(this.pacing, this.options.now);
    let updates = 0;
    for (;;) {
      // Every iteration: a scale whose size was superseded while it waited must not write it again.
      await checkGuard(guard, 'scale-nodegroup', name);
      let nodegroup: Nodegroup | undefined;
      try {
        nodegroup = await this.describe(ref);
      } catch (error) {
        throw toCloudError('scale-nodegroup', name, error, 'DescribeNodegroup');
      }
      const status = toStatus(nodegroup);
      const report = (phase: NodegroupProgress['phase']) =>
        progress({ phase, status: status.status, desired: status.desired, target: desiredSize });
      report('observed');
      if (FAILED_STATES.has(status.status)) {
        const issues = status.issues.map((issue) => `${issue.code}: ${issue.message}`).join('; ');
        throw fail(`nodegroup is ${status.status}${issues ? ` (${issues})` : ''}`, false, status.status);
      }
      if (status.desired === desiredSize && status.status === 'ACTIVE') {
        report('ready');
        this.logger.info(
          { nodegroup: name, desiredSize, updates },
          updates ? 'nodegroup scaled' : 'nodegroup already at size',
        );
        return status;
      }
      if (deadline.expired) {
        throw fail(
          `timed out after ${this.pacing.timeoutMs} ms waiting for ACTIVE at desiredSize ${desiredSize} (now ${status.status} at ${status.desired})`,
          true,
          'Timeout',
        );
      }
      if (status.desired === desiredSize || status.status !== 'ACTIVE') {
        // Our update (or someone else's) is being applied: wait, then look again.
        if (status.desired !== desiredSize) report('update-in-progress-elsewhere');
        await deadline.poll(guard?.signal);
        continue;
      }
      const scalingConfig = this.scalingConfig(status, desiredSize, limits, fail);
      // The describe took a while: ask again right before the write.
      await checkGuard(guard, 'scale-nodegroup', name);
      try {
        await this.client(ref.region).send(
          new UpdateNodegroupConfigCommand({
            clusterName: ref.cluster,
            nodegroupName: ref.nodegroup,
            scalingConfig,
            ...(limits.clientRequestToken ? { clientRequestToken: limits.clientRequestToken } : {}),
          }),
        );
        updates++;
        deadline.resetBackoff();
        report('update-requested');
        this.logger.info(
          { nodegroup: name, from: status.desired, to: desiredSize, scalingConfig },
          'nodegroup update requested',
        );
      } catch (error) {
        if (errorCode(error) !== 'ResourceInUseException') {
          throw toCloudError('scale-nodegroup', name, error, 'UpdateNodegroupConfig');
        }
        report('update-in-progress-elsewhere');
        this.logger.info({ nodegroup: name }, 'another update is in progress; waiting');
        await deadline.backoff(guard?.signal);
        continue;
      }
      await deadline.poll(guard?.signal);
    }
  }

  /** desiredSize, plus minSize/maxSize only where they must move to keep min ≤ desired ≤ max. */
  private scalingConfig(
    current: NodegroupStatus,
    desiredSize: number,
    limits: NodegroupLimits,
    fail: (detail: string, retryable: boolean) => CloudActionError,
  ): NodegroupScalingConfig {
    const config: NodegroupScalingConfig = { desiredSize };
    if (desiredSize < current.min) config.minSize = desiredSize;
    if (desiredSize > current.max) {
      if (limits.maxNodes === undefined) {
        throw fail(
          `desiredSize ${desiredSize} is above maxSize ${current.max} and no capacity budget allows raising it`,
          false,
        );
      }
      config.maxSize = desiredSize;
    }
    return config;
  }

  private async describe(ref: NodegroupRef): Promise<Nodegroup> {
    const { nodegroup } = await this.client(ref.region).send(
      new DescribeNodegroupCommand({ clusterName: ref.cluster, nodegroupName: ref.nodegroup }),
    );
    if (!nodegroup) throw new Error('DescribeNodegroup returned no nodegroup');
    return nodegroup;
  }

  private client(region: string): EKSClient {
    let client = this.clients.get(region);
    if (!client) {
      client = this.options.clientFor?.(region) ?? new EKSClient({ ...this.options.client, region });
      this.clients.set(region, client);
    }
    return client;
  }
}

function toStatus(nodegroup: Nodegroup): NodegroupStatus {
  const status = (nodegroup.status ?? 'UNKNOWN') as NodegroupStatus['status'];
  const issues = (nodegroup.health?.issues ?? []).map((issue) => ({
    code: issue.code ?? 'Unknown',
    message: issue.message ?? '',
  }));
  const desired = nodegroup.scalingConfig?.desiredSize ?? 0;
  return {
    status,
    desired,
    min: nodegroup.scalingConfig?.minSize ?? 0,
    max: nodegroup.scalingConfig?.maxSize ?? 0,
    ready: status === 'ACTIVE' && issues.length === 0,
    issues,
  };
}

function label(ref: NodegroupRef): string {
  return `${ref.region}/${ref.cluster}/${ref.nodegroup}`;
}

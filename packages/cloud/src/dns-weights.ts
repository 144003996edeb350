import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  Route53Client,
  type Route53ClientConfig,
  type RRType,
} from '@aws-sdk/client-route-53';
import { CloudTarget } from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import { z } from 'zod';
import { type ActionGuard, CloudActionError, checkGuard, errorCode, toCloudError } from './errors.js';
import { Deadline, type Pacing } from './pacing.js';

/** The weighted Route 53 record of a burst policy (`cloud.route53`; `type` defaults to A). */
export const DnsTarget = CloudTarget.shape.route53.unwrap();
export type DnsTarget = z.input<typeof DnsTarget>;

/** Route 53 weights: integers 0–255; all-zero weights split traffic evenly. */
export const DnsWeightValues = z.strictObject({
  cloudWeight: z.number().int().min(0).max(255),
  onpremWeight: z.number().int().min(0).max(255),
});
export type DnsWeightValues = z.infer<typeof DnsWeightValues>;

export interface DnsProgress {
  readonly phase: 'read' | 'submitted' | 'pending' | 'insync';
  /** The change id (`/change/C…`) once submitted. */
  readonly changeId?: string;
}

export interface DnsWeightsResult {
  /** Whether a change was submitted (false: the weights already had these values). */
  readonly changed: boolean;
  readonly previous: DnsWeightValues;
  readonly changeId?: string;
}

export interface DnsWeights {
  /**
   * Sets the weights of the on-prem and cloud weighted sets of one record in one change batch
   * and waits until Route 53 reports the change INSYNC. Reads first and changes nothing when the
   * weights already match; everything else in each set (values, TTL, alias, health check) is
   * kept as it is. With a `guard`, it asks "still wanted?" right before the change and while
   * waiting for INSYNC, and stops with ActionSupersededError.
   */
  setWeights(
    target: DnsTarget,
    weights: DnsWeightValues,
    progress?: (progress: DnsProgress) => void,
    guard?: ActionGuard,
  ): Promise<DnsWeightsResult>;
  /** The weights the record holds now (one read), for the controller's observations. */
  readWeights?(target: DnsTarget): Promise<DnsWeightValues>;
}

export interface Route53DnsWeightsOptions {
  /** Client settings (credentials, endpoint for tests, maxAttempts, retryStrategy); region defaults to us-east-1. */
  readonly client?: Route53ClientConfig;
  /** Or a client owned by the caller. */
  readonly route53?: Route53Client;
  /**
   * GetChange cadence and the overall deadline (default: the ResourceRecordSetsChanged waiter's
   * 30 s × 60 attempts). PriorRequestNotComplete and throttling that outlast the SDK's own
   * retries back off from the same interval until the deadline.
   */
  readonly pacing?: Partial<Pacing>;
  readonly logger?: Logger;
}

const WAITER_PACING: Pacing = { intervalMs: 30_000, timeoutMs: 60 * 30_000 };

type WeightedSet = ResourceRecordSet & { Weight: number };

/**
 * DnsWeights over Route 53: ListResourceRecordSets (from the record's name and type, keeping only
 * that name/type), ChangeResourceRecordSets with two UPSERTs in one batch, then GetChange until
 * INSYNC (the botocore ResourceRecordSetsChanged waiter: INSYNC succeeds, PENDING retries, a
 * NoSuchChange error counts as done).
 */
export class Route53DnsWeights implements DnsWeights {
  private readonly route53: Route53Client;
  private readonly pacing: Pacing;
  private readonly logger: Logger;

  constructor(private readonly options: Route53DnsWeightsOptions = {}) {
    this.route53 = options.route53 ?? new Route53Client({ region: 'us-east-1', ...options.client });
    this.pacing = { ...WAITER_PACING, ...options.pacing };
    this.logger = options.logger ?? silentLogger();
  }

  /** Destroys the client when this object created it. */
  close(): void {
    if (!this.options.route53) this.route53.destroy();
  }

  async setWeights(
    target: DnsTarget,
    weights: DnsWeightValues,
    progress: (progress: DnsProgress) => void = () => {},
    guard?: ActionGuard,
  ): Promise<DnsWeightsResult> {
    const ref = DnsTarget.parse(target);
    const name = `${ref.hostedZoneId}/${ref.recordName} ${ref.type}`;
    const fail = (detail: string, retryable: boolean, code?: string) =>
      new CloudActionError({ action: 'set-dns-weights', target: name, retryable, detail, ...(code ? { code } : {}) });
    const parsedWeights = DnsWeightValues.safeParse(weights);
    if (!parsedWeights.success) {
      throw fail(
        `weights must be whole numbers 0–255 (got cloud ${weights.cloudWeight}, onprem ${weights.onpremWeight})`,
        false,
      );
    }
    const wanted = parsedWeights.data;
    const deadline = new Deadline(this.pacing);
    const { onprem, cloud } = await this.readWeightedSets(ref, deadline);
    progress({ phase: 'read' });
    const previous = { cloudWeight: cloud.Weight, onpremWeight: onprem.Weight };
    if (previous.cloudWeight === wanted.cloudWeight && previous.onpremWeight === wanted.onpremWeight) {
      return { changed: false, previous };
    }

    await checkGuard(guard, 'set-dns-weights', name);
    const submitted = await this.retrying(deadline, name, 'ChangeResourceRecordSets', () =>
      this.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: ref.hostedZoneId,
          ChangeBatch: {
            Comment: `spillway: cloud ${wanted.cloudWeight}, onprem ${wanted.onpremWeight}`,
            Changes: [
              { Action: 'UPSERT', ResourceRecordSet: { ...onprem, Weight: wanted.onpremWeight } },
              { Action: 'UPSERT', ResourceRecordSet: { ...cloud, Weight: wanted.cloudWeight } },
            ],
          },
        }),
      ),
    );
    const changeId = submitted.ChangeInfo?.Id;
    if (!changeId) throw fail('ChangeResourceRecordSets returned no ChangeInfo.Id', true);
    progress({ phase: 'submitted', changeId });
    this.logger.info({ record: name, previous, weights: wanted, changeId }, 'Route 53 weights submitted');

    let status = submitted.ChangeInfo?.Status;
    while (status !== 'INSYNC') {
      if (deadline.expired) {
        throw fail(
          `timed out after ${this.pacing.timeoutMs} ms waiting for change ${changeId} to be INSYNC`,
          true,
          'Timeout',
        );
      }
      progress({ phase: 'pending', changeId });
      await deadline.poll(guard?.signal);
      // Already written: a superseded change stops waiting; the newer one is on its way.
      await checkGuard(guard, 'set-dns-weights', name);
      try {
        status = (
          await this.retrying(deadline, name, 'GetChange', () =>
            this.route53.send(new GetChangeCommand({ Id: changeId })),
          )
        ).ChangeInfo?.Status;
      } catch (error) {
        // The waiter treats NoSuchChange as success: the change is too old to be tracked, so it is applied.
        if (error instanceof CloudActionError && error.code === 'NoSuchChange') break;
        throw error;
      }
    }
    progress({ phase: 'insync', changeId });
    return { changed: true, previous, changeId };
  }

  async readWeights(target: DnsTarget): Promise<DnsWeightValues> {
    const ref = DnsTarget.parse(target);
    const { onprem, cloud } = await this.readWeightedSets(ref, new Deadline(this.pacing));
    return { cloudWeight: cloud.Weight, onpremWeight: onprem.Weight };
  }

  /** The on-prem and cloud weighted sets of the record, or a non-retryable error naming what is missing. */
  private async readWeightedSets(
    ref: z.infer<typeof DnsTarget>,
    deadline: Deadline,
  ): Promise<{ onprem: WeightedSet; cloud: WeightedSet }> {
    const name = `${ref.hostedZoneId}/${ref.recordName} ${ref.type}`;
    const fail = (detail: string, code: string) =>
      new CloudActionError({ action: 'set-dns-weights', target: name, retryable: false, detail, code });
    const sets = await this.retrying(deadline, name, 'ListResourceRecordSets', () =>
      this.readSets(ref.hostedZoneId, ref.recordName, ref.type),
    );
    const weighted = (identifier: string): WeightedSet => {
      const set = sets.find((candidate) => candidate.SetIdentifier === identifier);
      if (!set) {
        const found = sets.map((s) => s.SetIdentifier ?? '(simple)').join(', ') || 'none';
        throw fail(`no weighted set "${identifier}" for this record (sets found: ${found})`, 'NoSuchRecordSet');
      }
      if (set.Weight === undefined) throw fail(`set "${identifier}" is not a weighted set`, 'NotWeighted');
      return { ...set, Weight: set.Weight };
    };
    return { onprem: weighted(ref.onpremSetIdentifier), cloud: weighted(ref.cloudSetIdentifier) };
  }

  /** Every set with exactly this name and type, following pages while they stay on it. */
  private async readSets(hostedZoneId: string, recordName: string, type: RRType): Promise<ResourceRecordSet[]> {
    const wanted = absolute(recordName);
    const sets: ResourceRecordSet[] = [];
    let start: { name: string; identifier?: string } | undefined = { name: recordName };
    while (start) {
      const page: ListResourceRecordSetsCommandOutput = await this.route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: hostedZoneId,
          StartRecordName: start.name,
          StartRecordType: type,
          ...(start.identifier ? { StartRecordIdentifier: start.identifier } : {}),
        }),
      );
      let left = false;
      for (const set of page.ResourceRecordSets ?? []) {
        if (absolute(set.Name ?? '') === wanted && set.Type === type) sets.push(set);
        else left = true;
      }
      const stays = page.NextRecordName && absolute(page.NextRecordName) === wanted && page.NextRecordType === type;
      start =
        page.IsTruncated && !left && stays && page.NextRecordName
          ? {
              name: page.NextRecordName,
              ...(page.NextRecordIdentifier ? { identifier: page.NextRecordIdentifier } : {}),
            }
          : undefined;
    }
    return sets;
  }

  /**
   * Runs one call, retrying PriorRequestNotComplete and throttling (after the SDK's own retries
   * gave up) with backoff until the deadline; anything else becomes a CloudActionError at once.
   */
  private async retrying<T>(deadline: Deadline, name: string, operation: string, call: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const result = await call();
        deadline.resetBackoff();
        return result;
      } catch (error) {
        const code = errorCode(error);
        const transient = code === 'PriorRequestNotComplete' || code === 'Throttling' || code === 'ThrottlingException';
        // Anything else (InvalidChangeBatch, NoSuchHostedZone, …) is final for this call; the
        // error says whether the job layer may try again later.
        if (!transient || deadline.expired) throw toCloudError('set-dns-weights', name, error, operation);
        this.logger.info({ record: name, operation, code }, 'Route 53 asked to slow down; backing off');
        await deadline.backoff();
      }
    }
  }
}

/** Absolute, lower-case name: Route 53 answers `example.com.` for a request about `Example.com`. */
function absolute(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

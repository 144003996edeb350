import {
  CloudActionError,
  type DnsProgress,
  DnsTarget,
  type DnsWeights,
  type DnsWeightsResult,
  DnsWeightValues,
} from '@spillway/cloud';
import type { SimClock } from './clock.js';

/** One simulated weighted record and the state of its last change. */
export interface SimDnsRecord {
  readonly record: string;
  readonly weights: DnsWeightValues;
  readonly changeId: string | null;
  readonly status: 'PENDING' | 'INSYNC';
}

/**
 * DnsWeights over a simulated Route 53: every record exists with both weighted sets (weights
 * start at onprem 1, cloud 0). Like Route53DnsWeights it reads first, changes nothing when the
 * weights match, else submits one change and waits until it is INSYNC (`dnsSyncMs` of
 * simulated time), reporting read → submitted → pending → insync.
 */
export class SimDnsWeights implements DnsWeights {
  private readonly records = new Map<string, { weights: DnsWeightValues; changeId: string | null; syncAt: number }>();
  private changes = 0;

  constructor(
    private readonly clock: SimClock,
    private readonly dnsSyncMs: number,
  ) {}

  async setWeights(
    target: DnsTarget,
    weights: DnsWeightValues,
    progress: (progress: DnsProgress) => void = () => {},
  ): Promise<DnsWeightsResult> {
    const ref = DnsTarget.parse(target);
    const key = `${ref.hostedZoneId}/${ref.recordName} ${ref.type}`;
    const parsed = DnsWeightValues.safeParse(weights);
    if (!parsed.success) {
      throw new CloudActionError({
        action: 'set-dns-weights',
        target: key,
        retryable: false,
        detail: `weights must be whole numbers 0–255 (got cloud ${weights.cloudWeight}, onprem ${weights.onpremWeight})`,
      });
    }
    const record = this.records.get(key) ?? { weights: { cloudWeight: 0, onpremWeight: 1 }, changeId: null, syncAt: 0 };
    progress({ phase: 'read' });
    const previous = record.weights;
    if (previous.cloudWeight === parsed.data.cloudWeight && previous.onpremWeight === parsed.data.onpremWeight) {
      return { changed: false, previous };
    }
    const changeId = `/change/CSIM${String(++this.changes).padStart(6, '0')}`;
    this.records.set(key, { weights: parsed.data, changeId, syncAt: this.clock.now() + this.dnsSyncMs });
    progress({ phase: 'submitted', changeId });
    progress({ phase: 'pending', changeId });
    await this.clock.sleep(this.dnsSyncMs);
    progress({ phase: 'insync', changeId });
    return { changed: true, previous, changeId };
  }

  async readWeights(target: DnsTarget): Promise<DnsWeightValues> {
    const ref = DnsTarget.parse(target);
    const record = this.records.get(`${ref.hostedZoneId}/${ref.recordName} ${ref.type}`);
    return { ...(record?.weights ?? { cloudWeight: 0, onpremWeight: 1 }) };
  }

  /** Every record that was set, with its change's state now. */
  list(): SimDnsRecord[] {
    const now = this.clock.now();
    return [...this.records].map(([record, state]) => ({
      record,
      weights: state.weights,
      changeId: state.changeId,
      status: state.syncAt <= now ? 'INSYNC' : 'PENDING',
    }));
  }
}

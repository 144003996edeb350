import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, envoyProtos } from '@spillway/xds';
import { AdsTestClient } from '@spillway/xds/test-support/ads-test-client';

/** One locality of a received ClusterLoadAssignment. */
export interface ClaLocality {
  readonly region: string;
  readonly zone: string;
  readonly priority: number;
  readonly weight: number;
  /** `address:port HEALTH` per endpoint. */
  readonly endpoints: readonly string[];
}

/** One ClusterLoadAssignment as the client received it. */
export interface ClaSnapshot {
  /** ms since the watch started. */
  readonly atMs: number;
  readonly version: string;
  readonly localities: readonly ClaLocality[];
  /** Cloud localities' weight at priority 0 over all of priority 0's weight (0 when none). */
  readonly cloudShare: number;
  /** The cloud localities' summed weight at priority 0. */
  readonly cloudWeight: number;
}

interface ClaJson {
  endpoints?: {
    locality?: { region?: string; zone?: string };
    priority?: number;
    load_balancing_weight?: { value?: number };
    lb_endpoints?: {
      health_status?: string;
      endpoint: { address: { socket_address: { address: string; port_value: number } } };
    }[];
  }[];
}

/**
 * An xDS client of the router, as an Envoy would be one: a SotW ADS stream that subscribes to one
 * service's ClusterLoadAssignment from a node locality, ACKs every response, and keeps every
 * assignment it received (decoded), so a test can wait for the one it expects and check the
 * sequence afterwards.
 */
export class ClaWatch {
  readonly received: ClaSnapshot[] = [];
  private readonly client: ReturnType<typeof AdsTestClient.sotw>;
  private readonly started = performance.now();
  private closed = false;
  private readonly loop: Promise<void>;

  constructor(
    xdsPort: number,
    private readonly service: string,
    node: { id: string; locality: { region: string; zone: string } },
    /** Which localities are cloud (by region). */
    private readonly cloudRegions: ReadonlySet<string>,
  ) {
    this.client = AdsTestClient.sotw(xdsPort);
    this.client.send({
      node: { id: node.id, locality: { ...node.locality, sub_zone: '' } },
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: [service],
    });
    this.loop = this.receive();
  }

  /** The last assignment received, if any. */
  get latest(): ClaSnapshot | undefined {
    return this.received.at(-1);
  }

  /** The cloud shares received, each change once (the periodic re-send repeats a share). */
  shares(): number[] {
    return this.received
      .map((snapshot) => snapshot.cloudShare)
      .filter((share, index, all) => index === 0 || all[index - 1] !== share);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.close();
    await this.loop;
  }

  private async receive(): Promise<void> {
    while (!this.closed) {
      let response: Awaited<ReturnType<typeof this.client.next>>;
      try {
        // A short wait, so close() is noticed; a quiet stream is normal between changes.
        response = await this.client.next(1_000);
      } catch {
        continue;
      }
      for (const resource of response.resources) {
        const cla = envoyProtos().ClusterLoadAssignment.decode(resource.value).toJSON() as ClaJson;
        this.received.push(this.snapshot(response.version_info, cla));
      }
      this.client.send({
        type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
        resource_names: [this.service],
        version_info: response.version_info,
        response_nonce: response.nonce,
      });
    }
  }

  private snapshot(version: string, cla: ClaJson): ClaSnapshot {
    const localities: ClaLocality[] = (cla.endpoints ?? []).map((group) => ({
      region: group.locality?.region ?? '',
      zone: group.locality?.zone ?? '',
      // proto3 JSON leaves out zero values: priority 0 has no field.
      priority: group.priority ?? 0,
      weight: group.load_balancing_weight?.value ?? 0,
      endpoints: (group.lb_endpoints ?? []).map(
        (lb) =>
          `${lb.endpoint.address.socket_address.address}:${lb.endpoint.address.socket_address.port_value} ${lb.health_status ?? 'UNKNOWN'}`,
      ),
    }));
    const first = localities.filter((locality) => locality.priority === 0);
    const total = first.reduce((sum, locality) => sum + locality.weight, 0);
    const cloudWeight = first
      .filter((locality) => this.cloudRegions.has(locality.region))
      .reduce((sum, locality) => sum + locality.weight, 0);
    return {
      atMs: Math.round(performance.now() - this.started),
      version,
      localities,
      cloudWeight,
      cloudShare: total > 0 ? cloudWeight / total : 0,
    };
  }
}

/**
 * The floor of the locality router benchmark: the least a control plane must do to get the same
 * ClusterLoadAssignments to the same streams. Each resource is computed and encoded once per
 * client locality (the same EDS computation and encoder as the router), every SotW response is
 * the concatenation of pre-encoded `resources` entries after a shared header (protobuf fields
 * may be concatenated), and Delta responses are encoded once per locality and written as they
 * are. No per-stream state beyond "who watches what", no versions to hash, no ACK handling
 * (ACKs are read off the wire and dropped), no serializer: raw bytes to `call.write`.
 * Same gRPC library, same method paths, so the clients cannot tell the two servers apart.
 */
import * as grpc from '@grpc/grpc-js';
import { computeLoadAssignment } from '@spillway/eds';
import type { Locality, Service, ServiceKey } from '@spillway/model';
import {
  ADS_SERVICE_NAME,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  clusterLoadAssignmentResource,
  type EncodedResource,
  envoyProtos,
} from '@spillway/xds';
import { CLIENT_LOCALITIES, type ClientPlan } from './scenario.js';

/** The router's view of one service for one client locality (what `ViewCache` computes). */
export function encodeView(
  key: ServiceKey,
  service: Service,
  locality: Locality,
  cloudShare: number | undefined,
): EncodedResource {
  const policy = cloudShare === undefined ? undefined : { cloudShare };
  return clusterLoadAssignmentResource(key, computeLoadAssignment(service, { locality }, policy));
}

interface FloorStream {
  readonly call: grpc.ServerDuplexStream<Buffer, Buffer>;
  readonly plan: ClientPlan;
}

const identity = (bytes: Buffer) => bytes;

function rawMethod(name: string) {
  return {
    path: `/${ADS_SERVICE_NAME}/${name}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName: name,
  };
}

export class FloorServer {
  private readonly server = new grpc.Server();
  private readonly protos = envoyProtos();
  /** Per client locality: the encoded resource of each service. */
  private readonly resources: Map<ServiceKey, EncodedResource>[] = CLIENT_LOCALITIES.map(() => new Map());
  /** Per client locality: each service's `resources` entry of a SotW DiscoveryResponse (field 2, an Any). */
  private readonly entries: Map<ServiceKey, Buffer>[] = CLIENT_LOCALITIES.map(() => new Map());
  private readonly watchers = new Map<ServiceKey, FloorStream[]>();
  private readonly calls = new Set<grpc.ServerDuplexStream<Buffer, Buffer>>();
  private version = 0;

  constructor(
    private readonly plans: readonly ClientPlan[],
    private readonly services: ReadonlyMap<ServiceKey, Service>,
  ) {
    this.server.addService(
      {
        StreamAggregatedResources: rawMethod('StreamAggregatedResources'),
        DeltaAggregatedResources: rawMethod('DeltaAggregatedResources'),
      },
      {
        StreamAggregatedResources: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => this.serve(call, 'sotw'),
        DeltaAggregatedResources: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => this.serve(call, 'delta'),
      },
    );
  }

  /** Encodes every service once per client locality; returns how many resources it encoded. */
  prepare(): number {
    let count = 0;
    for (const [key, service] of this.services) {
      CLIENT_LOCALITIES.forEach((locality, index) => {
        this.store(index, encodeView(key, service, locality, undefined));
        count++;
      });
    }
    return count;
  }

  async listen(): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
  }

  /** One service changed (endpoints or policy): encode it once per locality, write to its watchers. */
  change(key: ServiceKey, service: Service, cloudShare: number | undefined): void {
    const version = String(++this.version);
    const delta: Buffer[] = CLIENT_LOCALITIES.map((locality, index) => {
      const resource = encodeView(key, service, locality, cloudShare);
      this.store(index, resource);
      return this.deltaResponse([resource], version);
    });
    const header = this.sotwHeader(version);
    // SotW EDS is incremental too: a change carries only the changed assignment (as the router's).
    for (const { call, plan } of this.watchers.get(key) ?? []) {
      call.write(
        plan.protocol === 'delta'
          ? delta[plan.localityIndex]!
          : Buffer.concat([header, this.entries[plan.localityIndex]!.get(key)!]),
      );
    }
  }

  async stop(): Promise<void> {
    for (const call of this.calls) call.end();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2_000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private store(localityIndex: number, resource: EncodedResource): void {
    this.resources[localityIndex]!.set(resource.name, resource);
    const entry = this.protos.DiscoveryResponse.encode(
      this.protos.DiscoveryResponse.fromObject({ resources: [{ type_url: resource.typeUrl, value: resource.value }] }),
    ).finish();
    this.entries[localityIndex]!.set(resource.name, Buffer.from(entry));
  }

  private sotwHeader(version: string): Buffer {
    const { DiscoveryResponse } = this.protos;
    return Buffer.from(
      DiscoveryResponse.encode(
        DiscoveryResponse.fromObject({
          version_info: version,
          type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
          nonce: version,
        }),
      ).finish(),
    );
  }

  private sotwResponse(header: Buffer, plan: ClientPlan): Buffer {
    const entries = this.entries[plan.localityIndex]!;
    return Buffer.concat([header, ...plan.watched.map((key) => entries.get(key)!)]);
  }

  private deltaResponse(resources: readonly EncodedResource[], version: string): Buffer {
    const { DeltaDiscoveryResponse } = this.protos;
    return Buffer.from(
      DeltaDiscoveryResponse.encode(
        DeltaDiscoveryResponse.fromObject({
          system_version_info: version,
          resources: resources.map((resource) => ({
            name: resource.name,
            version: resource.version,
            resource: { type_url: resource.typeUrl, value: resource.value },
          })),
          type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
          nonce: version,
        }),
      ).finish(),
    );
  }

  private serve(call: grpc.ServerDuplexStream<Buffer, Buffer>, protocol: 'sotw' | 'delta'): void {
    this.calls.add(call);
    let registered = false;
    call.on('data', (bytes: Buffer) => {
      if (registered) return; // an ACK: nothing to do
      registered = true;
      const type = protocol === 'sotw' ? this.protos.DiscoveryRequest : this.protos.DeltaDiscoveryRequest;
      // protobufjs' decoded message: only `node.id` is read.
      const request = type.decode(bytes) as unknown as { node?: { id?: string } | null };
      const index = Number(request.node?.id?.slice('bench-client-'.length));
      const plan = this.plans[index];
      if (!plan) {
        call.destroy(new Error(`unknown bench client ${request.node?.id}`));
        return;
      }
      const stream = { call, plan };
      for (const key of plan.watched) {
        const list = this.watchers.get(key);
        if (list) list.push(stream);
        else this.watchers.set(key, [stream]);
      }
      const version = String(this.version);
      if (protocol === 'sotw') call.write(this.sotwResponse(this.sotwHeader(version), plan));
      else {
        const held = this.resources[plan.localityIndex]!;
        call.write(
          this.deltaResponse(
            plan.watched.map((key) => held.get(key)!),
            version,
          ),
        );
      }
    });
    const close = () => {
      this.calls.delete(call);
    };
    call.on('error', close);
    call.on('cancelled', close);
    call.on('end', () => {
      close();
      call.end();
    });
  }
}

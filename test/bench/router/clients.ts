/**
 * The clients process of the locality router benchmark: raw @grpc/grpc-js ADS clients (SotW and
 * Delta), each on its own HTTP/2 connection, that subscribe to ClusterLoadAssignments, ACK
 * every response as Envoy does, and tell the server process when every client that watches a
 * changed service holds its new version. Runs in its own process so the server's CPU figure is
 * the server's alone. Started by router.bench.ts through IPC; not meant to be run by hand.
 */
import * as grpc from '@grpc/grpc-js';
import type { NodeMessage } from '@spillway/xds';
import { adsServiceDefinition, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, envoyProtos, hashVersion } from '@spillway/xds';
import { type ClientStats, type Command, preciseNow, type Reply } from './messages.js';
import { type BenchConfig, CLIENT_LOCALITIES, type ClientPlan, clientPlans } from './scenario.js';

/** Requests as written here: protobufjs' fromObject (in the request serializer) fills the rest. */
interface SotwRequestLite {
  readonly node?: Partial<NodeMessage>;
  readonly version_info?: string;
  readonly resource_names: readonly string[];
  readonly type_url: string;
  readonly response_nonce?: string;
}
interface DeltaRequestLite {
  readonly node?: Partial<NodeMessage>;
  readonly type_url: string;
  readonly resource_names_subscribe?: readonly string[];
  readonly response_nonce?: string;
}

interface AnyLite {
  readonly type_url: string;
  readonly value: Uint8Array;
}
interface SotwResponseLite {
  readonly version_info: string;
  readonly resources: readonly AnyLite[];
  readonly type_url: string;
  readonly nonce: string;
}
interface DeltaResponseLite {
  readonly resources: readonly { readonly name: string; readonly version: string }[];
  readonly type_url: string;
  readonly nonce: string;
}

interface Watch {
  readonly seq: number;
  readonly service: string;
  readonly serviceBytes: Buffer;
  readonly versions: readonly string[];
  readonly pending: Set<number>;
  responses: number;
}

const protos = envoyProtos();
const definition = adsServiceDefinition();
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Without it every grpc.Client to one address shares one subchannel, i.e. one TCP connection;
  // proxies each have their own.
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': 64 * 2 ** 20,
};

let bytes = 0;
let responses = 0;
let watch: Watch | null = null;
let anyWatch: { readonly seq: number; readonly pending: Set<number> } | null = null;
let streams: BenchStream[] = [];

function reply(message: Reply): void {
  process.send?.(message);
}

/** Counts payload bytes, then decodes without converting to plain objects (the clients' CPU matters too). */
function decoder<T>(type: 'DiscoveryResponse' | 'DeltaDiscoveryResponse'): (buffer: Buffer) => T {
  const message = protos[type];
  return (buffer) => {
    bytes += buffer.length;
    responses++;
    // protobufjs' decoded message has the proto fields under their proto names (keepCase).
    return message.decode(buffer) as unknown as T;
  };
}
const decodeSotw = decoder<SotwResponseLite>('DiscoveryResponse');
const decodeDelta = decoder<DeltaResponseLite>('DeltaDiscoveryResponse');

/** Does this encoded ClusterLoadAssignment start with `cluster_name` = `name` (field 1)? */
function clusterNameIs(value: Uint8Array, name: Buffer): boolean {
  if (value[0] !== 0x0a) return false;
  let length = 0;
  let shift = 0;
  let offset = 1;
  for (; offset < 6; offset++) {
    const byte = value[offset] ?? 0;
    length |= (byte & 0x7f) << shift;
    shift += 7;
    if ((byte & 0x80) === 0) break;
  }
  offset++;
  if (length !== name.length) return false;
  for (let k = 0; k < length; k++) if (value[offset + k] !== name[k]) return false;
  return true;
}

class BenchStream {
  ready = false;
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<SotwRequestLite | DeltaRequestLite, unknown>;
  private readonly held = new Set<string>();
  private closing = false;

  constructor(
    readonly plan: ClientPlan,
    port: number,
    private readonly onReady: () => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    const method =
      plan.protocol === 'sotw' ? definition.StreamAggregatedResources! : definition.DeltaAggregatedResources!;
    this.call = this.client.makeBidiStreamRequest(
      method.path,
      method.requestSerialize as (value: SotwRequestLite | DeltaRequestLite) => Buffer,
      (plan.protocol === 'sotw' ? decodeSotw : decodeDelta) as (buffer: Buffer) => unknown,
    );
    this.call.on('data', (response: unknown) =>
      plan.protocol === 'sotw'
        ? this.onSotw(response as SotwResponseLite)
        : this.onDelta(response as DeltaResponseLite),
    );
    this.call.on('error', (error: Error) => {
      if (!this.closing) this.onError(error);
    });
    const locality = CLIENT_LOCALITIES[plan.localityIndex]!;
    const node = {
      id: plan.nodeId,
      cluster: 'spillway-bench',
      locality: { region: locality.region, zone: locality.zone, sub_zone: locality.subZone },
      user_agent_name: 'spillway-bench',
    };
    if (plan.protocol === 'sotw') {
      this.call.write({ node, type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names: plan.watched });
    } else {
      this.call.write({ node, type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names_subscribe: plan.watched });
    }
  }

  close(): void {
    this.closing = true;
    this.call.cancel();
    this.client.close();
  }

  private onSotw(response: SotwResponseLite): void {
    const current = watch;
    if (current?.pending.has(this.plan.index)) {
      current.responses++;
      for (const resource of response.resources) {
        if (!clusterNameIs(resource.value, current.serviceBytes)) continue;
        if (hashVersion(resource.value) === current.versions[this.plan.localityIndex]) reached(current, this.plan);
        break;
      }
    }
    anyWatch?.pending.delete(this.plan.index);
    if (anyWatch?.pending.size === 0) {
      reply({ kind: 'reached', seq: anyWatch.seq, at: preciseNow(), responses: 0 });
      anyWatch = null;
    }
    // ACK, as Envoy does once it has applied the response.
    this.call.write({
      version_info: response.version_info,
      resource_names: this.plan.watched,
      type_url: response.type_url,
      response_nonce: response.nonce,
    });
    if (!this.ready && response.resources.length === this.plan.watched.length) {
      this.ready = true;
      this.onReady();
    }
  }

  private onDelta(response: DeltaResponseLite): void {
    const current = watch;
    const watching = current?.pending.has(this.plan.index) ?? false;
    if (current && watching) current.responses++;
    for (const resource of response.resources) {
      this.held.add(resource.name);
      if (current && watching && resource.name === current.service) {
        if (resource.version === current.versions[this.plan.localityIndex]) reached(current, this.plan);
      }
    }
    anyWatch?.pending.delete(this.plan.index);
    if (anyWatch?.pending.size === 0) {
      reply({ kind: 'reached', seq: anyWatch.seq, at: preciseNow(), responses: 0 });
      anyWatch = null;
    }
    this.call.write({ type_url: response.type_url, response_nonce: response.nonce });
    if (!this.ready && this.held.size === this.plan.watched.length) {
      this.ready = true;
      this.onReady();
    }
  }
}

function reached(current: Watch, plan: ClientPlan): void {
  current.pending.delete(plan.index);
  if (current.pending.size === 0) {
    reply({ kind: 'reached', seq: current.seq, at: preciseNow(), responses: current.responses });
    if (watch === current) watch = null;
  }
}

function connect(seq: number, config: BenchConfig, ports: readonly number[]): void {
  const plans = clientPlans(config);
  let waiting = plans.length;
  let errors = 0;
  let done = false;
  const timer = setTimeout(() => {
    if (done) return;
    done = true;
    reply({
      kind: 'failed',
      seq,
      error: `${waiting} of ${plans.length} clients not in sync after ${config.timeoutMs} ms`,
    });
  }, config.timeoutMs);
  const onReady = () => {
    waiting--;
    if (waiting === 0 && !done) {
      done = true;
      clearTimeout(timer);
      reply({ kind: 'ready', seq, at: preciseNow(), connectErrors: errors });
    }
  };
  const onError = (error: Error) => {
    errors++;
    if (errors <= 3) console.error(`bench client: stream error: ${error.message}`);
  };
  streams = plans.map((plan) => new BenchStream(plan, ports[plan.index % ports.length]!, onReady, onError));
}

function stats(): ClientStats {
  const cpu = process.cpuUsage();
  return {
    bytes,
    responses,
    rssBytes: process.memoryUsage().rss,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuMicros: cpu.user + cpu.system,
  };
}

process.on('message', (command: Command) => {
  switch (command.kind) {
    case 'connect':
      connect(command.seq, command.config, command.ports);
      return;
    case 'expect': {
      const targets = streams
        .filter((stream) => stream.plan.watched.includes(command.service))
        .map((stream) => stream.plan.index);
      watch = {
        seq: command.seq,
        service: command.service,
        serviceBytes: Buffer.from(command.service),
        versions: command.versions,
        pending: new Set(targets),
        responses: 0,
      };
      reply({ kind: 'armed', seq: command.seq, targets: targets.length });
      return;
    }
    case 'expect-any':
      anyWatch = { seq: command.seq, pending: new Set(streams.map((stream) => stream.plan.index)) };
      reply({ kind: 'armed', seq: command.seq, targets: streams.length });
      return;
    case 'stats':
      reply({ kind: 'stats', seq: command.seq, stats: stats() });
      return;
    case 'disconnect':
      for (const stream of streams) stream.close();
      streams = [];
      reply({ kind: 'disconnected', seq: command.seq });
      return;
  }
});

// The server process owns this one: when it goes, so do the clients.
process.on('disconnect', () => process.exit(0));

import * as grpc from '@grpc/grpc-js';
import type { CatalogReader, MeshSecurity, ProximityRing, ServiceKey, TrafficPolicyReader } from '@spillway/model';
import type { Logger, Registry } from '@spillway/observability';
import { adsServiceDefinition } from './ads-service-definition.js';
import type { ClientNode } from './client-node.js';
import { ClientRegistry, type XdsClientInfo } from './client-registry.js';
import { DeltaStream } from './delta-stream.js';
import type {
  DeltaDiscoveryRequestMessage,
  DeltaDiscoveryResponseMessage,
  DiscoveryRequestMessage,
  DiscoveryResponseMessage,
} from './discovery-messages.js';
import { ENDPOINT_STALE_AFTER_SECONDS } from './resources/cluster-load-assignment-resource.js';
import { SotwStream } from './sotw-stream.js';
import type { NackRecord, StreamObserver } from './stream-observer.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, typeName } from './type-urls.js';
import { ViewCache } from './view-cache.js';
import { XdsMetrics } from './xds-metrics.js';

export const DEFAULT_XDS_ADDRESS = '127.0.0.1:18000';

export interface XdsServerOptions {
  readonly catalog: CatalogReader;
  readonly policies: TrafficPolicyReader;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly proximity?: (service: ServiceKey) => readonly ProximityRing[] | undefined;
  /** Service-to-service mTLS to publish to clients (Clusters) and xDS-enabled servers (Listeners). */
  readonly security?: MeshSecurity;
  /**
   * How often every ClusterLoadAssignment is re-sent unchanged, so Envoy's
   * `endpoint_stale_after` only fires when the router is really gone. Default: a fifth of it.
   */
  readonly refreshIntervalMs?: number;
}

/**
 * Streams re-sent per event-loop turn by the periodic refresh. A re-send to every stream at once
 * (2,000 streams × 30 assignments ≈ 190 MB) blocked the loop for 1–2 s, delaying every change
 * and ACK behind it; in batches the loop keeps turning.
 */
const REFRESH_BATCH = 50;

type Stream = SotwStream | DeltaStream;
type AnyCall = grpc.ServerDuplexStream<unknown, unknown>;

/**
 * The xDS control plane: ADS (SotW and Delta) on @grpc/grpc-js, fed by a ViewCache.
 * This class only wires: gRPC calls to stream state machines, cache changes to streams,
 * stream events to logs and metrics.
 */
export class XdsServer {
  private readonly server = new grpc.Server();
  private readonly cache: ViewCache;
  private readonly registry = new ClientRegistry<Stream>();
  private readonly calls = new Set<AnyCall>();
  private readonly metrics: XdsMetrics;
  private unsubscribe: (() => void) | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing = false;

  constructor(private readonly options: XdsServerOptions) {
    this.metrics = new XdsMetrics(options.registry);
    this.cache = new ViewCache(options.catalog, options.policies, {
      ...(options.proximity ? { proximity: options.proximity } : {}),
      ...(options.security ? { security: options.security } : {}),
      onEncode: (typeUrl) => this.metrics.encodes.inc({ type: typeName(typeUrl) }),
    });
    this.server.addService(adsServiceDefinition(), {
      StreamAggregatedResources: (call: AnyCall) => this.serveSotw(call),
      DeltaAggregatedResources: (call: AnyCall) => this.serveDelta(call),
    });
  }

  /** Binds `address` (`host:port`, port 0 for any) and starts serving; resolves to the bound port. */
  async listen(address: string = DEFAULT_XDS_ADDRESS): Promise<number> {
    this.cache.start();
    this.unsubscribe = this.cache.onChange((names) => {
      for (const stream of this.registry.streams()) stream.handleChange(names);
    });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const refreshMs = this.options.refreshIntervalMs ?? (ENDPOINT_STALE_AFTER_SECONDS * 1000) / 5;
    this.refreshTimer = setInterval(() => this.refreshAssignments(), refreshMs);
    this.refreshTimer.unref();
    this.options.logger.info({ address, port }, 'xDS server listening');
    return port;
  }

  clients(): XdsClientInfo[] {
    return this.registry.clients();
  }

  /** Resources encoded so far (each shared by every client with the same view). */
  get encodes(): number {
    return this.cache.encodes;
  }

  /** Ends every stream (clients reconnect elsewhere or later), then shuts the server down. */
  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    this.unsubscribe?.();
    this.cache.stop();
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

  /** Re-sends every assignment to every stream, REFRESH_BATCH streams per event-loop turn. */
  private refreshAssignments(): void {
    if (this.refreshing) return; // the previous round is still going: this tick is not needed
    this.refreshing = true;
    const streams = this.registry.streams();
    const batch = (from: number) => {
      if (this.refreshTimer === undefined) {
        this.refreshing = false;
        return;
      }
      for (const stream of streams.slice(from, from + REFRESH_BATCH)) {
        // A stream closed since the round started has nobody to send to.
        if (this.registry.has(stream)) stream.refresh(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL);
      }
      if (from + REFRESH_BATCH < streams.length) setImmediate(batch, from + REFRESH_BATCH);
      else this.refreshing = false;
    };
    batch(0);
  }

  private serveSotw(call: AnyCall): void {
    const stream = new SotwStream(
      this.cache,
      (response: DiscoveryResponseMessage) => call.write(response),
      this.observer('sotw'),
    );
    this.attach(call, stream, 'sotw', (request) => stream.handleRequest(request as DiscoveryRequestMessage));
  }

  private serveDelta(call: AnyCall): void {
    const stream = new DeltaStream(
      this.cache,
      (response: DeltaDiscoveryResponseMessage) => call.write(response),
      this.observer('delta'),
    );
    this.attach(call, stream, 'delta', (request) => stream.handleRequest(request as DeltaDiscoveryRequestMessage));
  }

  private attach(call: AnyCall, stream: Stream, protocol: 'sotw' | 'delta', handle: (request: unknown) => void): void {
    this.calls.add(call);
    this.registry.add(stream);
    this.metrics.streams.inc({ protocol });
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.calls.delete(call);
      this.registry.remove(stream);
      this.metrics.streams.dec({ protocol });
    };
    call.on('data', (request: unknown) => {
      try {
        handle(request);
      } catch (error) {
        this.options.logger.error({ err: error, protocol }, 'xDS request failed');
        call.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    });
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('error', close);
    call.on('cancelled', close);
    call.on('close', close);
  }

  private observer(protocol: 'sotw' | 'delta'): StreamObserver {
    const { logger } = this.options;
    return {
      onResponse: (typeUrl) => this.metrics.responses.inc({ protocol, type: typeName(typeUrl) }),
      onAck: (typeUrl) => this.metrics.acks.inc({ type: typeName(typeUrl) }),
      onNack: (nack: NackRecord, node: ClientNode | null) => {
        this.metrics.nacks.inc({ type: typeName(nack.typeUrl) });
        logger.warn(
          {
            node: node?.id,
            locality: node?.locality,
            type: typeName(nack.typeUrl),
            version: nack.rejectedVersion,
            kept: nack.keptVersion,
            detail: nack.detail,
          },
          'xDS client rejected (NACKed) a response',
        );
      },
    };
  }
}

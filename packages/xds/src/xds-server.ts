import * as grpc from '@grpc/grpc-js';
import {
  type CatalogReader,
  type CatalogSnapshot,
  LOAD_BUCKET_SECONDS,
  type MeasuredLoad,
  type MeshSecurity,
  type ProximityRing,
  type ServiceKey,
  type TrafficPolicyReader,
} from '@spillway/model';
import type { Logger, Registry } from '@spillway/observability';
import { WatchedKeyPair } from '@spillway/tls';
import { adsServiceDefinition } from './ads-service-definition.js';
import { type ClientNode, clientNode } from './client-node.js';
import { ClientRegistry, type XdsClientInfo } from './client-registry.js';
import { DeltaStream } from './delta-stream.js';
import type {
  DeltaDiscoveryRequestMessage,
  DeltaDiscoveryResponseMessage,
  DiscoveryRequestMessage,
  DiscoveryResponseMessage,
  NodeMessage,
} from './discovery-messages.js';
import { FirstCatalogGate } from './first-catalog-gate.js';
import { LoadReportStore } from './load-reporting/load-report-store.js';
import { LoadReportingService, type LrsCall } from './load-reporting/load-reporting-service.js';
import { LrsMetrics } from './load-reporting/lrs-metrics.js';
import { lrsServiceDefinition } from './load-reporting/lrs-service-definition.js';
import { measuredLoad } from './load-reporting/measured-load.js';
import { PacedRefresh } from './paced-refresh.js';
import { PendingWrites } from './pending-writes.js';
import type { ResourceSource } from './resource-source.js';
import { ENDPOINT_STALE_AFTER_SECONDS } from './resources/cluster-load-assignment-resource.js';
import { AuthorizedResources } from './security/authorized-resources.js';
import { peerIdentity } from './security/peer-identity.js';
import { type XdsAuthorizationRule, XdsAuthorizer, type XdsGrant } from './security/xds-authorization.js';
import { mutualTlsServerCredentials } from './security/xds-server-credentials.js';
import { SotwStream } from './sotw-stream.js';
import type { NackRecord, StreamObserver } from './stream-observer.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, typeName } from './type-urls.js';
import { ViewCache } from './view-cache.js';
import { metricTypeName, XdsMetrics } from './xds-metrics.js';

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
  /** Mutual TLS: without it the port speaks plaintext (refused beyond loopback by the commands). */
  readonly tls?: XdsTlsOptions;
  /** Which identities may claim which localities and watch which services; absent: all may. */
  readonly authorization?: readonly XdsAuthorizationRule[];
  /** LRS on the same port, and `lrs_server: { self: {} }` on every Cluster; absent: no load reports. */
  readonly loadReporting?: LoadReportingOptions;
}

/** Config `loadReporting`: how often clients report (the interval sent in LoadStatsResponse). */
export interface LoadReportingOptions {
  readonly intervalSeconds: number;
}

/** The longest `windowSeconds` a load query may ask for, and the store's time bucket. */
export const LOAD_RETENTION_SECONDS = 600;

/** The listener's certificate and key, and the CA that must have signed every client's certificate. */
export interface XdsTlsOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile: string;
  /** How often the files are checked for a change (default 1 s). */
  readonly pollIntervalMs?: number;
}

type Stream = SotwStream | DeltaStream;

/** A stream's client once admitted: its identity, what it may do, the resources it may see. */
interface AdmittedPeer {
  readonly identity: string | null;
  readonly grant: XdsGrant;
  readonly resources: ResourceSource;
  readonly protocol: 'sotw' | 'delta' | 'lrs';
}
type AnyCall = grpc.ServerDuplexStream<unknown, unknown>;

/**
 * The xDS control plane: ADS (SotW and Delta) on @grpc/grpc-js, fed by a ViewCache.
 * This class only wires: gRPC calls to stream state machines (which watch the cache for the
 * changes they concern), stream events to logs and metrics.
 */
export class XdsServer {
  private readonly server = new grpc.Server();
  private readonly cache: ViewCache;
  private readonly registry = new ClientRegistry<Stream>();
  private readonly calls = new Set<AnyCall>();
  private readonly metrics: XdsMetrics;
  private readonly authorizer: XdsAuthorizer;
  private keyPair: WatchedKeyPair | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly writes = new PendingWrites();
  private readonly refresher: PacedRefresh<Stream>;
  private readonly gate: FirstCatalogGate;
  private readonly loadReports: LoadReportStore | undefined;

  constructor(private readonly options: XdsServerOptions) {
    this.metrics = new XdsMetrics(options.registry);
    this.authorizer = new XdsAuthorizer(options.authorization);
    this.gate = new FirstCatalogGate((held) => this.metrics.held.set(held));
    this.cache = new ViewCache(options.catalog, options.policies, {
      ...(options.proximity ? { proximity: options.proximity } : {}),
      ...(options.security ? { security: options.security } : {}),
      onEncode: (typeUrl) => this.metrics.encodes.inc({ type: typeName(typeUrl) }),
      onSnapshot: (snapshot) => this.openGateIfComplete(snapshot),
      onFanOut: (seconds) => this.metrics.fanout.observe(seconds),
      ...(options.loadReporting ? { loadReporting: true } : {}),
    });
    this.refresher = new PacedRefresh(
      () => this.registry.streams(),
      (stream) => this.registry.has(stream),
      (stream) => stream.refresh(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL),
      this.writes,
    );
    this.server.addService(adsServiceDefinition(), {
      StreamAggregatedResources: (call: AnyCall) => this.serveSotw(call),
      DeltaAggregatedResources: (call: AnyCall) => this.serveDelta(call),
    });
    if (options.loadReporting) this.loadReports = this.serveLoadReporting(options.loadReporting);
  }

  /** Adds LoadReportingService to the same gRPC server: same port, same TLS, same authorization. */
  private serveLoadReporting(settings: LoadReportingOptions): LoadReportStore {
    const metrics = new LrsMetrics(this.options.registry);
    const store = new LoadReportStore({
      bucketSeconds: LOAD_BUCKET_SECONDS,
      retentionSeconds: LOAD_RETENTION_SECONDS,
      onEvict: (reason) => metrics.evicted.inc({ reason }),
    });
    const service = new LoadReportingService({
      store,
      intervalSeconds: settings.intervalSeconds,
      metrics,
      logger: this.options.logger.child({ protocol: 'lrs' }),
      hasService: (name) => this.options.catalog.current().services.has(name),
      services: () => [...this.options.catalog.current().services.keys()],
      admit: (call) => this.admit(call, 'lrs'),
      denyLocality: (call, context, reason) => this.deny(call, 'locality', context, reason),
    });
    this.server.addService(lrsServiceDefinition(), { StreamLoadStats: (call: LrsCall) => service.handle(call) });
    return store;
  }

  /**
   * What clients reported for `service` over the last `windowSeconds` (at most
   * LOAD_RETENTION_SECONDS), per locality; undefined when load reporting is off.
   */
  measuredLoad(service: string, windowSeconds: number, now: number = Date.now()): MeasuredLoad | undefined {
    if (!this.loadReports) return undefined;
    const loads = this.loadReports.window(service, windowSeconds, now);
    return measuredLoad(service, windowSeconds, loads, this.options.catalog.current());
  }

  /** Binds `address` (`host:port`, port 0 for any) and starts serving; resolves to the bound port. */
  async listen(address: string = DEFAULT_XDS_ADDRESS): Promise<number> {
    // First: unusable certificate files fail the start before anything else runs.
    const credentials = this.credentials();
    this.cache.start();
    this.openGateIfComplete(this.options.catalog.current());
    if (!this.gate.isOpen) this.options.logger.warn('no catalog yet: xDS requests are held until one arrives');
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
    ).catch((error: unknown) => {
      this.keyPair?.close();
      throw error;
    });
    const refreshMs = this.options.refreshIntervalMs ?? (ENDPOINT_STALE_AFTER_SECONDS * 1000) / 5;
    this.refreshTimer = setInterval(() => this.refreshAssignments(), refreshMs);
    this.refreshTimer.unref();
    this.options.logger.info({ address, port, tls: this.keyPair ? 'mutual' : 'none' }, 'xDS server listening');
    return port;
  }

  /** Plaintext, or mutual TLS from files that are re-read when they change (a broken start throws). */
  private credentials(): grpc.ServerCredentials {
    const tls = this.options.tls;
    if (!tls) return grpc.ServerCredentials.createInsecure();
    this.keyPair = new WatchedKeyPair(
      { certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.clientCaFile },
      {
        name: 'xds',
        logger: this.options.logger,
        metrics: this.options.registry,
        ...(tls.pollIntervalMs ? { pollIntervalMs: tls.pollIntervalMs } : {}),
      },
    );
    return mutualTlsServerCredentials(this.keyPair);
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
    this.refresher.stop();
    this.cache.stop();
    this.metrics.close();
    this.keyPair?.close();
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

  /**
   * A catalog is complete once it has a version: a store publishes its first after a source
   * reported, a followed catalog (RemoteCatalog) after its first sync or a loaded snapshot.
   */
  private openGateIfComplete(snapshot: CatalogSnapshot): void {
    if (this.gate.isOpen || snapshot.version === 0) return;
    this.options.logger.info(
      { version: snapshot.version, services: snapshot.services.size },
      'catalog ready: answering xDS',
    );
    this.gate.open();
  }

  /** Re-sends every assignment to every stream, paced (PacedRefresh); a round still going makes this tick a no-op. */
  private refreshAssignments(): void {
    this.refresher.start();
  }

  private serveSotw(call: AnyCall): void {
    const peer = this.admit(call, 'sotw');
    if (!peer) return;
    const writes = this.writes.track<DiscoveryResponseMessage>(call);
    const stream = new SotwStream(
      peer.resources,
      (response: DiscoveryResponseMessage) => writes.write(response),
      this.observer('sotw', peer.identity),
    );
    this.attach(call, stream, peer, (request) => stream.handleRequest(request as DiscoveryRequestMessage));
  }

  private serveDelta(call: AnyCall): void {
    const peer = this.admit(call, 'delta');
    if (!peer) return;
    const writes = this.writes.track<DeltaDiscoveryResponseMessage>(call);
    const stream = new DeltaStream(
      peer.resources,
      (response: DeltaDiscoveryResponseMessage) => writes.write(response),
      this.observer('delta', peer.identity),
    );
    this.attach(call, stream, peer, (request) => stream.handleRequest(request as DeltaDiscoveryRequestMessage));
  }

  /**
   * Who the client is (its certificate's identity) and what it may see. Refuses the stream
   * (PERMISSION_DENIED) when authorization rules exist and none matches the identity.
   */
  private admit(call: AnyCall, protocol: 'sotw' | 'delta' | 'lrs'): AdmittedPeer | undefined {
    const identity = peerIdentity(call.getAuthContext().sslPeerCertificate);
    const grant = this.authorizer.grantFor(identity);
    if (!grant) {
      this.deny(
        call,
        'identity',
        { identity, protocol },
        `identity ${identity ?? '(none)'} matches no xDS authorization rule`,
      );
      return undefined;
    }
    const resources: ResourceSource = grant.restrictsServices
      ? new AuthorizedResources(this.cache, grant, (service) => {
          this.metrics.denials.inc({ kind: 'service' });
          this.options.logger.warn({ identity, protocol, service }, 'xDS client may not watch this service: not sent');
        })
      : this.cache;
    return { identity, grant, resources, protocol };
  }

  /** Ends a stream with PERMISSION_DENIED, logged and counted. */
  private deny(call: AnyCall, kind: 'identity' | 'locality', context: object, reason: string): void {
    this.metrics.denials.inc({ kind });
    this.options.logger.warn({ ...context, peer: call.getPeer() }, `xDS stream refused: ${reason}`);
    call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: reason });
  }

  private attach(call: AnyCall, stream: Stream, peer: AdmittedPeer, handle: (request: unknown) => void): void {
    const { protocol, identity } = peer;
    this.calls.add(call);
    this.registry.add(stream, { identity });
    this.metrics.streams.inc({ protocol });
    // Plaintext streams (loopback, the demo, drills) are many and say nothing about who connects.
    const level = identity === null ? 'debug' : 'info';
    this.options.logger[level]({ identity, protocol, peer: call.getPeer() }, 'xDS stream opened');
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.calls.delete(call);
      this.writes.forget(call);
      this.registry.remove(stream);
      stream.close();
      this.gate.forget(stream);
      this.metrics.streams.dec({ protocol });
    };
    const handleOrFail = (request: unknown) => {
      try {
        handle(request);
      } catch (error) {
        this.options.logger.error({ err: error, protocol }, 'xDS request failed');
        call.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    };
    let localityChecked = false;
    call.on('data', (request: unknown) => {
      if (closed) return;
      // The node (and the locality it claims) comes with the first request that carries one.
      const node = (request as { node?: NodeMessage | null }).node;
      if (!localityChecked && node) {
        localityChecked = true;
        const { locality } = clientNode(node);
        if (!peer.grant.mayClaim(locality)) {
          close();
          const claimed = [locality.region, locality.zone, locality.subZone].filter(Boolean).join('/');
          this.deny(
            call,
            'locality',
            { identity, protocol, node: node.id, locality },
            `identity ${identity} may not claim locality ${claimed}`,
          );
          return;
        }
      }
      if (this.gate.admit(stream, request, handleOrFail)) return;
      close();
      const details = 'the router has no catalog yet and holds no more requests from this stream; retry later';
      call.emit('error', { code: grpc.status.UNAVAILABLE, details });
    });
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('error', close);
    call.on('cancelled', close);
    call.on('close', close);
  }

  private observer(protocol: 'sotw' | 'delta', identity: string | null): StreamObserver {
    const { logger } = this.options;
    return {
      onResponse: (typeUrl) => this.metrics.response(protocol, typeUrl).inc(),
      onAck: (typeUrl) => this.metrics.ack(typeUrl).inc(),
      onNack: (nack: NackRecord, node: ClientNode | null) => {
        this.metrics.nacks.inc({ type: metricTypeName(nack.typeUrl) });
        logger.warn(
          {
            node: node?.id,
            identity,
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

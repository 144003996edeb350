import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@spillway/observability';
import { clientNode } from '../client-node.js';
import type { NodeMessage } from '../discovery-messages.js';
import type { XdsGrant } from '../security/xds-authorization.js';
import type { LoadReportStore } from './load-report-store.js';
import { parseLoadStatsRequest, type ReportedClusterLoad } from './load-stats-request.js';
import type { LrsMetrics } from './lrs-metrics.js';

/** The client feature by which grpc-js-xds, C-core and Envoy accept `send_all_clusters`. */
const SEND_ALL_CLUSTERS_FEATURE = 'envoy.lrs.supports_send_all_clusters';

/** Open LRS streams at most: each holds in-progress gauges, so an outsider may not open without end. */
export const MAX_LRS_STREAMS = 10_000;

export type LrsCall = grpc.ServerDuplexStream<unknown, unknown>;

export interface LoadReportingDeps {
  readonly store: LoadReportStore;
  readonly intervalSeconds: number;
  readonly metrics: LrsMetrics;
  readonly logger: Logger;
  /** Whether the catalog has the service: reports for any other cluster are dropped. */
  readonly hasService: (service: string) => boolean;
  /** The catalog's services, named to a client that cannot be told "send all clusters". */
  readonly services: () => readonly string[];
  /** The caller's identity and grant (as for ADS), or undefined after refusing the stream. */
  readonly admit: (call: LrsCall) => { identity: string | null; grant: XdsGrant } | undefined;
  /** Ends the stream with PERMISSION_DENIED for a locality the identity may not claim. */
  readonly denyLocality: (call: LrsCall, context: object, reason: string) => void;
  readonly now?: () => number;
}

/**
 * envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats: the first request names the
 * node; the answer tells it how often to report and which clusters (all, when it supports
 * that). Each report is validated whole; accepted counts go to the store under this stream.
 */
export class LoadReportingService {
  private nextStream = 0;
  private open = 0;

  constructor(private readonly deps: LoadReportingDeps) {}

  handle(call: LrsCall): void {
    if (this.open >= MAX_LRS_STREAMS) {
      call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: 'too many LRS streams; retry later' });
      return;
    }
    const peer = this.deps.admit(call);
    if (!peer) return;
    const reporter = `lrs-${++this.nextStream}`;
    this.open++;
    this.deps.metrics.streams.inc();
    let nodeId: string | undefined;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.open--;
      this.deps.metrics.streams.dec();
      this.deps.store.forget(reporter);
    };
    call.on('data', (message: unknown) => {
      if (closed) return;
      const parsed = parseLoadStatsRequest(message);
      if (nodeId === undefined) {
        // The node counts even when the stats beside it are refused: it decides the answer.
        const node = (message as { node?: NodeMessage | null }).node ?? undefined;
        if (!this.start(call, peer, node)) {
          close();
          return;
        }
        nodeId = node?.id ?? '';
      }
      if (!parsed.ok) {
        this.deps.metrics.reports.inc({ result: 'rejected' });
        this.deps.logger.warn(
          { node: nodeId, identity: peer.identity, errors: parsed.errors.slice(0, 5), count: parsed.errors.length },
          'load report rejected: not counted',
        );
        return;
      }
      this.deps.metrics.reports.inc({ result: 'accepted' });
      this.record(reporter, peer.grant, parsed.clusters);
    });
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('error', close);
    call.on('cancelled', close);
    call.on('close', close);
  }

  /** Checks the node's locality claim and sends the one response that sets the interval. */
  private start(
    call: LrsCall,
    peer: { identity: string | null; grant: XdsGrant },
    node: NodeMessage | undefined,
  ): boolean {
    const client = clientNode(node);
    if (!peer.grant.mayClaim(client.locality)) {
      const claimed = [client.locality.region, client.locality.zone, client.locality.subZone].filter(Boolean).join('/');
      this.deps.denyLocality(
        call,
        { identity: peer.identity, node: client.id, locality: client.locality, protocol: 'lrs' },
        `identity ${peer.identity} may not claim locality ${claimed}`,
      );
      return false;
    }
    const sendAll = node?.client_features?.includes(SEND_ALL_CLUSTERS_FEATURE) ?? false;
    call.write({
      send_all_clusters: sendAll,
      clusters: sendAll ? [] : this.deps.services().filter((service) => peer.grant.mayWatch(service)),
      load_reporting_interval: { seconds: this.deps.intervalSeconds, nanos: 0 },
    });
    this.deps.logger.debug({ node: client.id, identity: peer.identity, sendAll }, 'LRS stream started');
    return true;
  }

  private record(reporter: string, grant: XdsGrant, clusters: readonly ReportedClusterLoad[]): void {
    if (clusters.length === 0) return;
    const at = (this.deps.now ?? Date.now)();
    for (const stats of clusters) {
      if (!this.deps.hasService(stats.cluster)) {
        this.deps.metrics.dropped.inc({ reason: 'unknown-service' });
        continue;
      }
      if (!grant.mayWatch(stats.cluster)) {
        this.deps.metrics.dropped.inc({ reason: 'not-authorized' });
        continue;
      }
      this.deps.store.record(reporter, stats.cluster, stats.localities, at);
      for (const locality of stats.localities) this.deps.metrics.requests.inc(locality.successful + locality.errors);
    }
    this.deps.metrics.series.set(this.deps.store.size);
  }
}

import {
  BatchedCounter,
  Counter,
  type CounterCell,
  Gauge,
  Histogram,
  metricOnce,
  type Registry,
} from '@spillway/observability';
import { isServedTypeUrl, typeName } from './type-urls.js';

type Protocol = 'sotw' | 'delta';

/** The router's xDS metrics, on the service's own registry (reused when the router restarts). */
export class XdsMetrics {
  readonly streams: Gauge<'protocol'>;
  readonly responses: Counter<'protocol' | 'type'>;
  readonly acks: Counter<'type'>;
  readonly nacks: Counter<'type'>;
  readonly encodes: Counter<'type'>;
  readonly denials: Counter<'kind'>;
  readonly held: Gauge;
  readonly fanout: Histogram;
  /** Responses and ACKs are counted on every one: batched (a cell per label set, found once). */
  private readonly batchedResponses: BatchedCounter<'protocol' | 'type'>;
  private readonly batchedAcks: BatchedCounter<'type'>;
  /** By protocol, then type URL (looked up on every response: no key string is built). */
  private readonly responseCells: Readonly<Record<Protocol, Map<string, CounterCell>>> = {
    sotw: new Map(),
    delta: new Map(),
  };
  private readonly ackCells = new Map<string, CounterCell>();

  constructor(registry: Registry) {
    this.streams = metricOnce(registry, Gauge, {
      name: 'spillway_xds_streams',
      help: 'Open ADS streams',
      labelNames: ['protocol'],
    });
    this.responses = metricOnce(registry, Counter, {
      name: 'spillway_xds_responses_total',
      help: 'xDS responses sent',
      labelNames: ['protocol', 'type'],
    });
    this.acks = metricOnce(registry, Counter, {
      name: 'spillway_xds_acks_total',
      help: 'xDS responses ACKed by clients',
      labelNames: ['type'],
    });
    this.nacks = metricOnce(registry, Counter, {
      name: 'spillway_xds_nacks_total',
      help: 'xDS responses NACKed (rejected) by clients',
      labelNames: ['type'],
    });
    this.encodes = metricOnce(registry, Counter, {
      name: 'spillway_xds_resource_encodes_total',
      help: 'Resources encoded by the view cache (each is then shared by every client with the same view)',
      labelNames: ['type'],
    });
    this.denials = metricOnce(registry, Counter, {
      name: 'spillway_xds_authorization_denials_total',
      help: 'xDS authorization denials: streams refused (identity, locality) and services withheld (service)',
      labelNames: ['kind'],
    });
    this.held = metricOnce(registry, Gauge, {
      name: 'spillway_xds_requests_held',
      help: 'xDS requests held, unanswered, until the router has its first complete catalog',
    });
    this.fanout = metricOnce(registry, Histogram, {
      name: 'spillway_xds_fanout_seconds',
      help: 'Time to hand one catalog or policy change to every stream that watches it (views computed, responses queued)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
    this.batchedResponses = new BatchedCounter(this.responses);
    this.batchedAcks = new BatchedCounter(this.acks);
  }

  /** The response counter of one protocol and type URL (any type URL a client names but one Spillway does not serve counts as `other`). */
  response(protocol: Protocol, typeUrl: string): CounterCell {
    const cells = this.responseCells[protocol];
    let cell = cells.get(typeUrl);
    if (!cell) {
      cell = this.batchedResponses.cell({ protocol, type: metricTypeName(typeUrl) });
      if (isServedTypeUrl(typeUrl)) cells.set(typeUrl, cell);
    }
    return cell;
  }

  ack(typeUrl: string): CounterCell {
    let cell = this.ackCells.get(typeUrl);
    if (!cell) {
      cell = this.batchedAcks.cell({ type: metricTypeName(typeUrl) });
      if (isServedTypeUrl(typeUrl)) this.ackCells.set(typeUrl, cell);
    }
    return cell;
  }

  /** The server stopped: what it counted is flushed, and it no longer feeds the shared series. */
  close(): void {
    this.batchedResponses.close();
    this.batchedAcks.close();
  }
}

/** The `type` label: bounded, whatever type URLs clients send. */
export function metricTypeName(typeUrl: string): string {
  return isServedTypeUrl(typeUrl) ? typeName(typeUrl) : 'other';
}

import { Counter, Gauge, metricOnce, type Registry } from '@spillway/observability';

/** The router's xDS metrics, on the service's own registry (reused when the router restarts). */
export class XdsMetrics {
  readonly streams: Gauge<'protocol'>;
  readonly responses: Counter<'protocol' | 'type'>;
  readonly acks: Counter<'type'>;
  readonly nacks: Counter<'type'>;
  readonly encodes: Counter<'type'>;
  readonly denials: Counter<'kind'>;
  readonly held: Gauge;

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
  }
}

import { Counter, Gauge, type Registry } from '@spillway/observability';

/** The router's xDS metrics, registered on the service's own registry. */
export class XdsMetrics {
  readonly streams: Gauge<'protocol'>;
  readonly responses: Counter<'protocol' | 'type'>;
  readonly acks: Counter<'type'>;
  readonly nacks: Counter<'type'>;
  readonly encodes: Counter<'type'>;

  constructor(registry: Registry) {
    this.streams = new Gauge({
      name: 'spillway_xds_streams',
      help: 'Open ADS streams',
      labelNames: ['protocol'],
      registers: [registry],
    });
    this.responses = new Counter({
      name: 'spillway_xds_responses_total',
      help: 'xDS responses sent',
      labelNames: ['protocol', 'type'],
      registers: [registry],
    });
    this.acks = new Counter({
      name: 'spillway_xds_acks_total',
      help: 'xDS responses ACKed by clients',
      labelNames: ['type'],
      registers: [registry],
    });
    this.nacks = new Counter({
      name: 'spillway_xds_nacks_total',
      help: 'xDS responses NACKed (rejected) by clients',
      labelNames: ['type'],
      registers: [registry],
    });
    this.encodes = new Counter({
      name: 'spillway_xds_resource_encodes_total',
      help: 'Resources encoded by the view cache (each is then shared by every client with the same view)',
      labelNames: ['type'],
      registers: [registry],
    });
  }
}

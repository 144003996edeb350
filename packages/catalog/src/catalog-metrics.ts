import type { SourceState } from '@spillway/model';
import { Counter, Gauge, type Registry } from '@spillway/observability';

const STATES: readonly SourceState[] = ['syncing', 'live', 'failing', 'stale'];

/** The catalog's Prometheus metrics; one set per store, registered on the given registry. */
export class CatalogMetrics {
  private readonly version: Gauge;
  private readonly services: Gauge;
  private readonly endpoints: Gauge;
  private readonly sourceState: Gauge<'source' | 'state'>;
  private readonly sourceErrors: Counter<'source'>;
  private readonly sourceUpdates: Counter<'source'>;
  private readonly sourceLastSync: Gauge<'source'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.version = new Gauge({ name: 'spillway_catalog_version', help: 'Current catalog version', registers });
    this.services = new Gauge({ name: 'spillway_catalog_services', help: 'Services in the catalog', registers });
    this.endpoints = new Gauge({ name: 'spillway_catalog_endpoints', help: 'Endpoints in the catalog', registers });
    this.sourceState = new Gauge({
      name: 'spillway_source_state',
      help: '1 for the state each source is in (syncing, live, failing, stale)',
      labelNames: ['source', 'state'],
      registers,
    });
    this.sourceErrors = new Counter({
      name: 'spillway_source_errors_total',
      help: 'Failed contacts with a registry source',
      labelNames: ['source'],
      registers,
    });
    this.sourceUpdates = new Counter({
      name: 'spillway_source_updates_total',
      help: 'Updates received from a registry source',
      labelNames: ['source'],
      registers,
    });
    this.sourceLastSync = new Gauge({
      name: 'spillway_source_last_sync_timestamp_seconds',
      help: 'Unix time of the last successful contact with a registry source',
      labelNames: ['source'],
      registers,
    });
  }

  catalog(version: number, services: number, endpoints: number): void {
    this.version.set(version);
    this.services.set(services);
    this.endpoints.set(endpoints);
  }

  state(source: string, state: SourceState): void {
    for (const candidate of STATES) this.sourceState.set({ source, state: candidate }, candidate === state ? 1 : 0);
  }

  error(source: string): void {
    this.sourceErrors.inc({ source });
  }

  update(source: string): void {
    this.sourceUpdates.inc({ source });
  }

  synced(source: string, at: number): void {
    this.sourceLastSync.set({ source }, at / 1000);
  }
}

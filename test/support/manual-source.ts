import type { Endpoint, Environment, RegistrySource, ServiceKey, SourceSink } from '@spillway/model';

/** A source the test drives by hand: it reports exactly what the test tells it to. */
export class ManualSource implements RegistrySource {
  readonly kind = 'static' as const;
  private sinkRef: SourceSink | undefined;

  constructor(
    readonly name: string,
    readonly environment: Environment = 'onprem',
    readonly region = 'lab',
  ) {}

  async start(sink: SourceSink): Promise<void> {
    this.sinkRef = sink;
  }

  async stop(): Promise<void> {
    this.sinkRef = undefined;
  }

  get sink(): SourceSink {
    if (!this.sinkRef) throw new Error(`source ${this.name} is not started`);
    return this.sinkRef;
  }

  /** One endpoint of this source, with defaults for what a test does not care about. */
  endpoint(address: string, overrides: Partial<Endpoint> = {}): Endpoint {
    return {
      address,
      port: 8080,
      cluster: this.name,
      environment: this.environment,
      locality: { region: this.region, zone: 'a', subZone: '' },
      health: 'healthy',
      weight: 1,
      labels: {},
      ...overrides,
    };
  }

  report(services: Record<ServiceKey, Endpoint[]>): void {
    this.sink.replaceAll(new Map(Object.entries(services)));
  }
}

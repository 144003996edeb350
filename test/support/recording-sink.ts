import type { Endpoint, ServiceKey } from '@spillway/model';
import type { ServiceEndpoints, SourceSink } from '@spillway/sources';

/**
 * A SourceSink that keeps the source's current view exactly as the catalog would receive it,
 * plus a log of what was reported: source tests assert on `view`, `failures` and `replaceAllCount`.
 */
export class RecordingSink implements SourceSink {
  readonly view = new Map<ServiceKey, readonly Endpoint[]>();
  readonly failures: Error[] = [];
  replaceAllCount = 0;
  aliveCount = 0;
  updates = 0;

  replaceAll(services: ServiceEndpoints): void {
    this.replaceAllCount++;
    this.updates++;
    this.view.clear();
    for (const [key, endpoints] of services) if (endpoints.length > 0) this.view.set(key, endpoints);
  }

  replaceServices(services: ServiceEndpoints): void {
    this.updates++;
    for (const [key, endpoints] of services) {
      if (endpoints.length === 0) this.view.delete(key);
      else this.view.set(key, endpoints);
    }
  }

  alive(): void {
    this.aliveCount++;
  }

  failed(error: Error): void {
    this.failures.push(error);
  }

  /** `address:port health` of a service's endpoints, sorted: easy to assert on. */
  summary(key: ServiceKey): string[] {
    return (this.view.get(key) ?? []).map((e) => `${e.address}:${e.port} ${e.health}`).sort();
  }
}

import { TrafficPolicy, type TrafficPolicyReader, type TrafficPolicyWriter } from '@spillway/model';

/** Traffic policies held in this process: embedded mode, single-process deployments, tests. */
export class InMemoryTrafficPolicyStore implements TrafficPolicyReader, TrafficPolicyWriter {
  private readonly policies = new Map<string, TrafficPolicy>();
  private readonly listeners = new Set<(service: string) => void>();

  get(service: string): TrafficPolicy | undefined {
    return this.policies.get(service);
  }

  all(): readonly TrafficPolicy[] {
    return [...this.policies.values()];
  }

  subscribe(listener: (service: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async set(policy: TrafficPolicy): Promise<void> {
    const valid = TrafficPolicy.parse(policy);
    this.policies.set(valid.service, valid);
    this.notify(valid.service);
  }

  async clear(service: string): Promise<void> {
    if (this.policies.delete(service)) this.notify(service);
  }

  private notify(service: string): void {
    for (const listener of this.listeners) listener(service);
  }
}

import type { Endpoint, Health, ServiceKey } from '@spillway/model';
import fc from 'fast-check';

export const SOURCES = ['k8s-a', 'k8s-b', 'consul', 'nomad', 'eks'] as const;
const KEYS: readonly ServiceKey[] = ['echo.demo', 'cart.shop', 'pay.shop', 'search.web'];
const HEALTH: readonly Health[] = ['healthy', 'unhealthy', 'draining'];

/** Small address/port spaces so that registries often report the same endpoint. */
export function endpointArb(source: string): fc.Arbitrary<Endpoint> {
  return fc.record({
    address: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::1'),
    port: fc.constantFrom(80, 8080),
    cluster: fc.constant(source),
    environment: fc.constantFrom('onprem' as const, 'cloud' as const),
    locality: fc.record({
      region: fc.constantFrom('r1', 'r2'),
      zone: fc.constantFrom('a', 'b'),
      subZone: fc.constant(''),
    }),
    health: fc.constantFrom(...HEALTH),
    weight: fc.integer({ min: 1, max: 3 }),
    labels: fc.constant({}),
  });
}

/** One source's view: some services, each with a few endpoints. */
export function viewArb(source: string): fc.Arbitrary<Map<ServiceKey, Endpoint[]>> {
  return fc
    .array(fc.tuple(fc.constantFrom(...KEYS), fc.array(endpointArb(source), { maxLength: 4 })), { maxLength: 4 })
    .map((entries) => new Map(entries));
}

export type Operation =
  | { kind: 'replaceAll'; source: string; services: Map<ServiceKey, Endpoint[]> }
  | { kind: 'replaceServices'; source: string; services: Map<ServiceKey, Endpoint[]> }
  | { kind: 'failed'; source: string }
  | { kind: 'alive'; source: string }
  | { kind: 'advance'; ms: number };

export const operationArb: fc.Arbitrary<Operation> = fc.oneof(
  fc
    .constantFrom(...SOURCES)
    .chain((source) => viewArb(source).map((services) => ({ kind: 'replaceAll' as const, source, services }))),
  fc
    .constantFrom(...SOURCES)
    .chain((source) => viewArb(source).map((services) => ({ kind: 'replaceServices' as const, source, services }))),
  fc.constantFrom(...SOURCES).map((source) => ({ kind: 'failed' as const, source })),
  fc.constantFrom(...SOURCES).map((source) => ({ kind: 'alive' as const, source })),
  fc.integer({ min: 0, max: 40_000 }).map((ms) => ({ kind: 'advance' as const, ms })),
);

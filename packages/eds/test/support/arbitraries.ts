import type { Endpoint, Environment, Locality, Service } from '@spillway/model';
import fc from 'fast-check';

/** Two on-prem sites and one cloud region; a region's environment never varies. */
export const ONPREM_REGIONS = ['dc1', 'dc2'] as const;
export const CLOUD_REGIONS = ['us-east-1'] as const;
const ZONES = ['a', 'b', 'c'] as const;

export function environmentOfRegion(region: string): Environment {
  return (CLOUD_REGIONS as readonly string[]).includes(region) ? 'cloud' : 'onprem';
}

const region = fc.constantFrom(...ONPREM_REGIONS, ...CLOUD_REGIONS);

export const locality: fc.Arbitrary<Locality> = fc.record({
  region,
  zone: fc.constantFrom(...ZONES),
  subZone: fc.constant(''),
});

/** Few addresses and ports so that two registries often report the same address:port. */
export const endpoint: fc.Arbitrary<Endpoint> = fc
  .record({
    host: fc.integer({ min: 1, max: 12 }),
    port: fc.constantFrom(8080, 8081),
    cluster: fc.constantFrom('k8s-dc1', 'consul-dc2', 'eks'),
    locality,
    health: fc.constantFrom('healthy', 'healthy', 'unhealthy', 'draining'),
    weight: fc.integer({ min: 1, max: 128 }),
  })
  .map(({ host, port, cluster, locality, health, weight }) => ({
    address: `10.0.0.${host}`,
    port,
    cluster,
    environment: environmentOfRegion(locality.region),
    locality,
    health: health as Endpoint['health'],
    weight,
    labels: {},
  }));

export const service: fc.Arbitrary<Service> = fc
  .array(endpoint, { maxLength: 24 })
  .map((endpoints) => ({ name: 'echo', namespace: 'demo', endpoints }));

export const client = fc.record({
  locality: fc.oneof(locality, fc.constant({ region: '', zone: '', subZone: '' })),
  environment: fc.option(fc.constantFrom<Environment>('onprem', 'cloud'), { nil: undefined }),
});

export const cloudShare = fc.oneof(fc.constant(1), fc.double({ min: 0.001, max: 1, noNaN: true }));

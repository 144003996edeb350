import type { Endpoint, Service } from '@spillway/model';
import { describe, expect, it } from 'vitest';
import { computeLoadAssignment } from '../src/index.js';

function endpoint(address: string, region: string, zone: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    address,
    port: 8080,
    cluster: region.startsWith('us-') ? 'eks' : 'k8s',
    environment: region.startsWith('us-') ? 'cloud' : 'onprem',
    locality: { region, zone, subZone: '' },
    health: 'healthy',
    weight: 1,
    labels: {},
    ...overrides,
  };
}

const service: Service = {
  name: 'echo',
  namespace: 'demo',
  endpoints: [
    endpoint('10.0.0.1', 'dc1', 'a'),
    endpoint('10.0.0.2', 'dc1', 'a'),
    endpoint('10.0.0.3', 'dc1', 'b'),
    endpoint('10.0.0.4', 'dc2', 'a'),
    endpoint('10.1.0.1', 'us-east-1', 'us-east-1a'),
    endpoint('10.1.0.2', 'us-east-1', 'us-east-1b'),
    endpoint('10.1.0.3', 'us-east-1', 'us-east-1b', { health: 'unhealthy' }),
  ],
};
const zoneA = { locality: { region: 'dc1', zone: 'a', subZone: '' } };

const zones = (assignment: ReturnType<typeof computeLoadAssignment>) =>
  assignment.priorities.map((priority) => priority.localities.map((l) => `${l.locality.region}/${l.locality.zone}`));

describe('computeLoadAssignment', () => {
  it('orders priorities zone, region, environment, other environment', () => {
    const assignment = computeLoadAssignment(service, zoneA, undefined);
    expect(assignment.clientEnvironment).toBe('onprem');
    expect(zones(assignment)).toEqual([
      ['dc1/a'],
      ['dc1/b'],
      ['dc2/a'],
      ['us-east-1/us-east-1a', 'us-east-1/us-east-1b'],
    ]);
    expect(assignment.priorities[3]!.localities[1]!.endpoints.map((e) => e.health)).toEqual(['HEALTHY', 'UNHEALTHY']);
  });

  it('puts cloud in priority 0 with the nearest on-prem ring during a burst (worked example: 0.3)', () => {
    const assignment = computeLoadAssignment(service, zoneA, { cloudShare: 0.3 });
    expect(zones(assignment)).toEqual([
      ['dc1/a', 'us-east-1/us-east-1a', 'us-east-1/us-east-1b'],
      ['dc1/b'],
      ['dc2/a'],
    ]);
    // on-prem 7000 (one locality), cloud 3000 split by healthy capacity 1:1.
    expect(assignment.priorities[0]!.localities.map((l) => l.weight)).toEqual([7000, 1500, 1500]);
    // The unhealthy cloud endpoint is not listed at all, so every locality is 100% healthy.
    expect(assignment.priorities[0]!.localities[2]!.endpoints.map((e) => e.address)).toEqual(['10.1.0.2']);
  });

  it('skips a dead nearest ring when choosing the on-prem partner of a burst', () => {
    const dead = {
      ...service,
      endpoints: service.endpoints.map((e) =>
        e.locality.zone === 'a' && e.locality.region === 'dc1' ? { ...e, health: 'unhealthy' as const } : e,
      ),
    };
    const assignment = computeLoadAssignment(dead, zoneA, { cloudShare: 0.5 });
    expect(zones(assignment)[0]).toEqual(['dc1/b', 'us-east-1/us-east-1a', 'us-east-1/us-east-1b']);
  });

  it('sends everything to cloud at share 1 and keeps on-prem as failover', () => {
    const assignment = computeLoadAssignment(service, zoneA, { cloudShare: 1 });
    expect(zones(assignment)).toEqual([
      ['us-east-1/us-east-1a', 'us-east-1/us-east-1b'],
      ['dc1/a'],
      ['dc1/b'],
      ['dc2/a'],
    ]);
  });

  it('does not burst when no cloud endpoint is healthy', () => {
    const noCloud = {
      ...service,
      endpoints: service.endpoints.map((e) => (e.environment === 'cloud' ? { ...e, health: 'draining' as const } : e)),
    };
    const assignment = computeLoadAssignment(noCloud, zoneA, { cloudShare: 0.3 });
    expect(assignment.cloudShare).toBe(0);
    expect(zones(assignment)[0]).toEqual(['dc1/a']);
  });

  it('infers a cloud client from its region and honours a custom proximity order', () => {
    const cloudClient = { locality: { region: 'us-east-1', zone: 'us-east-1a', subZone: '' } };
    expect(computeLoadAssignment(service, cloudClient, undefined).clientEnvironment).toBe('cloud');
    const regionFirst = computeLoadAssignment(service, zoneA, undefined, {
      proximity: ['region', 'environment', 'other-environment'],
    });
    expect(zones(regionFirst)[0]).toEqual(['dc1/a', 'dc1/b']);
  });
});

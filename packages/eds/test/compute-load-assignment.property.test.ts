import { type Endpoint, endpointId, HEALTH_RANK, type Service } from '@spillway/model';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeLoadAssignment, deduplicateEndpoints, type LoadAssignment } from '../src/index.js';
import { client, cloudShare, environmentOfRegion, service } from './support/arbitraries.js';
import { envoyCloudShare, grpcCloudShare } from './support/realised-cloud-share.js';

const RUNS = { numRuns: 400 };

function listed(assignment: LoadAssignment) {
  return assignment.priorities.flatMap((priority, index) =>
    priority.localities.flatMap((locality) =>
      locality.endpoints.map((endpoint) => ({ ...endpoint, priority: index, environment: locality.environment })),
    ),
  );
}

/** The environment the catalog gave each address:port, after the same de-duplication rule. */
function environmentLookup(svc: Service) {
  const byId = new Map(deduplicateEndpoints(svc.endpoints).map((endpoint) => [endpointId(endpoint), endpoint]));
  return (address: string, port: number) => byId.get(endpointId({ address, port }))!.environment;
}

function healthyWinners(svc: Service): Endpoint[] {
  const best = new Map<string, Endpoint>();
  for (const endpoint of svc.endpoints) {
    const current = best.get(endpointId(endpoint));
    if (!current || HEALTH_RANK[endpoint.health] < HEALTH_RANK[current.health])
      best.set(endpointId(endpoint), endpoint);
  }
  return [...best.values()].filter((endpoint) => endpoint.health === 'healthy');
}

/** Whether a healthy endpoint of `environment` survives de-duplication. */
const hasHealthy = (svc: Service, environment: string) =>
  deduplicateEndpoints(svc.endpoints).some(
    (endpoint) => endpoint.environment === environment && endpoint.health === 'healthy',
  );

describe('computeLoadAssignment (properties)', () => {
  it('has contiguous non-empty priorities from 0 and no locality twice at one priority', () => {
    fc.assert(
      fc.property(service, client, fc.option(cloudShare, { nil: undefined }), (svc, who, share) => {
        const assignment = computeLoadAssignment(svc, who, share === undefined ? undefined : { cloudShare: share });
        for (const priority of assignment.priorities) {
          expect(priority.localities.length).toBeGreaterThan(0);
          const keys = priority.localities.map((l) => `${l.locality.region}/${l.locality.zone}/${l.locality.subZone}`);
          expect(new Set(keys).size).toBe(keys.length);
        }
      }),
      RUNS,
    );
  });

  it('lists every healthy endpoint exactly once and no address:port twice', () => {
    fc.assert(
      fc.property(service, client, fc.option(cloudShare, { nil: undefined }), (svc, who, share) => {
        const assignment = computeLoadAssignment(svc, who, share === undefined ? undefined : { cloudShare: share });
        const ids = listed(assignment).map((endpoint) => endpointId(endpoint));
        expect(new Set(ids).size).toBe(ids.length);
        for (const healthy of healthyWinners(svc)) {
          const matches = listed(assignment).filter((endpoint) => endpointId(endpoint) === endpointId(healthy));
          expect(matches).toHaveLength(1);
          expect(matches[0]!.health).toBe('HEALTHY');
        }
        for (const priority of assignment.priorities) {
          for (const locality of priority.localities) {
            expect(Number.isInteger(locality.weight) && locality.weight >= 1).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });

  it('realises the cloud share within 0.5 points for both Envoy and gRPC', () => {
    fc.assert(
      fc.property(service, client, cloudShare, (svc, who, share) => {
        fc.pre(hasHealthy(svc, 'cloud') && hasHealthy(svc, 'onprem'));
        const assignment = computeLoadAssignment(svc, who, { cloudShare: share });
        const environmentOf = environmentLookup(svc);
        expect(Math.abs(envoyCloudShare(assignment, environmentOf) - share)).toBeLessThanOrEqual(0.005);
        expect(Math.abs(grpcCloudShare(assignment, environmentOf) - share)).toBeLessThanOrEqual(0.005);
      }),
      RUNS,
    );
  });

  it('never puts a cloud endpoint that is not healthy in a burst, and sends nothing to cloud when none is healthy', () => {
    fc.assert(
      fc.property(service, client, cloudShare, (svc, who, share) => {
        const assignment = computeLoadAssignment(svc, who, { cloudShare: share });
        if (!hasHealthy(svc, 'cloud')) {
          expect(assignment.cloudShare).toBe(0);
          return;
        }
        const cloudListed = listed(assignment).filter((endpoint) => endpoint.environment === 'cloud');
        expect(cloudListed.every((endpoint) => endpoint.health === 'HEALTHY' && endpoint.priority === 0)).toBe(true);
      }),
      RUNS,
    );
  });

  it('keeps cloud in the farthest ring for an on-prem client without a burst', () => {
    fc.assert(
      fc.property(service, client, fc.constantFrom(undefined, { cloudShare: 0 }), (svc, who, policy) => {
        fc.pre(environmentOfRegion(who.locality.region) === 'onprem');
        const assignment = computeLoadAssignment(svc, { ...who, environment: 'onprem' }, policy);
        const entries = listed(assignment);
        const lastOnprem = Math.max(-1, ...entries.filter((e) => e.environment === 'onprem').map((e) => e.priority));
        for (const entry of entries.filter((e) => e.environment === 'cloud')) {
          expect(entry.priority).toBeGreaterThan(lastOnprem);
        }
        const environmentOf = environmentLookup(svc);
        if (hasHealthy(svc, 'onprem')) expect(grpcCloudShare(assignment, environmentOf)).toBe(0);
      }),
      RUNS,
    );
  });

  it('is deterministic whatever the order of the endpoints', () => {
    fc.assert(
      fc.property(service, client, fc.option(cloudShare, { nil: undefined }), fc.integer(), (svc, who, share, seed) => {
        const policy = share === undefined ? undefined : { cloudShare: share };
        const shuffled = { ...svc, endpoints: shuffle(svc.endpoints, seed) };
        expect(computeLoadAssignment(shuffled, who, policy)).toEqual(computeLoadAssignment(svc, who, policy));
      }),
      RUNS,
    );
  });
});

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed >>> 0 || 1;
  for (let i = result.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    const j = state % (i + 1);
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

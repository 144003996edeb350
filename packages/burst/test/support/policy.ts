import { BurstPolicy } from '@spillway/model';

export const SERVICE = 'checkout.shop';

export const FULL_CLOUD = {
  eks: { region: 'us-east-1', cluster: 'burst', nodegroup: 'checkout' },
  deployment: { cluster: 'eks-burst', namespace: 'shop', name: 'checkout' },
  route53: {
    hostedZoneId: 'Z123',
    recordName: 'checkout.example.com',
    onpremSetIdentifier: 'onprem',
    cloudSetIdentifier: 'cloud',
  },
};

/** The story policy: steps 0.1 → 0.25 → 0.5, 40 replicas at full share, 10 pods a node. */
export function storyPolicy(overrides: Record<string, unknown> = {}): BurstPolicy {
  return BurstPolicy.parse({
    service: SERVICE,
    triggers: { alerts: [{ alertname: 'SpillwayCheckoutBurn' }] },
    cloud: FULL_CLOUD,
    steps: [0.1, 0.25, 0.5],
    maxShare: 0.5,
    stepIntervalSeconds: 60,
    minDwellSeconds: 60,
    cooldownSeconds: 300,
    capacity: { replicasAtFullShare: 40, podsPerNode: 10, maxReplicas: 20, maxNodes: 2 },
    ...overrides,
  });
}

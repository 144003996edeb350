import { Scenario } from './scenario.js';

const CHECKOUT = 'checkout.shop';
const CART = 'cart.shop';

/** The recording-rule queries of a service, as the default policy and drills write them. */
export function sloQueries(service: string) {
  const selector = `{service="${service}"}`;
  return {
    p99: `service:http_request_duration_seconds:p99_rate5m${selector}`,
    errors5m: `service:http_requests_errors:ratio_rate5m${selector}`,
    errors1h: `service:http_requests_errors:ratio_rate1h${selector}`,
  };
}

/**
 * The world of `npm start`: on-prem Kubernetes `dc1` (two zones), a Nomad site `dc2`, and an
 * EKS region `us-east-1`. `checkout.shop` runs 3 pods per dc1 zone (6 × 80 rps of capacity) and
 * has a cloud Deployment at 0 replicas; at 1 simulated minute its load ramps from 200 to 600
 * rps and holds for 8 minutes, which saturates on-prem (ρ = 1.25) until a burst moves a share
 * to the cloud. Two steady services keep the catalog realistic.
 *
 * Numbers behind the default policy: at share 0.5 on-prem carries 300 rps (ρ = 0.625,
 * p99 ≈ 0.13 s) and 6 cloud pods carry 300 rps (ρ = 0.625), both under the 0.25 s threshold's
 * recovery line (0.2 s); at share 0.25, on-prem ρ = 0.94 (p99 ≈ 0.8 s) still breaches.
 *
 * `cart.shop` shows predictive pre-warming: from 12 simulated minutes its load climbs slowly,
 * 150 → 600 rps over 30 minutes, holds 10 and comes back down. Its 6 on-prem pods (dc1 and dc2,
 * 480 rps) stay within the SLO (p99 0.25 s: ρ 0.8, 384 rps) up to about 360 rps, the policy's
 * `capacityRps`. The forecast (Holt's trend over the rate history) sees the crossing coming
 * within the lead time (8 minutes) and warms cloud capacity for share 0.5 while the share stays 0;
 * traffic moves onto it when the load reaches 360 rps, before the SLO breaches.
 */
export function defaultScenario(): Scenario {
  const queries = sloQueries(CHECKOUT);
  return Scenario.parse({
    name: 'default',
    sites: [
      {
        name: 'dc1',
        kind: 'kubernetes',
        environment: 'onprem',
        region: 'dc1',
        zones: ['dc1-a', 'dc1-b'],
        services: [
          { service: CHECKOUT, endpointsPerZone: 3 },
          { service: 'cart.shop', endpointsPerZone: 2 },
        ],
      },
      {
        name: 'dc2',
        kind: 'nomad',
        environment: 'onprem',
        region: 'dc2',
        zones: ['dc2-a'],
        services: [
          { service: 'cart.shop', endpointsPerZone: 2 },
          { service: 'search.catalog', endpointsPerZone: 2 },
        ],
      },
      {
        name: 'us-east-1',
        kind: 'eks',
        environment: 'cloud',
        region: 'us-east-1',
        zones: ['us-east-1a', 'us-east-1b'],
        services: [{ service: 'search.catalog', endpointsPerZone: 1 }],
        nodegroups: [
          { cluster: 'burst', name: 'checkout-burst', podsPerNode: 4, initialNodes: 0 },
          { cluster: 'burst', name: 'cart-burst', podsPerNode: 4, initialNodes: 0 },
        ],
        deployments: [
          { namespace: 'shop', name: 'checkout', service: CHECKOUT, nodegroup: 'checkout-burst', initialReplicas: 0 },
          { namespace: 'shop', name: 'cart', service: CART, nodegroup: 'cart-burst', initialReplicas: 0 },
        ],
      },
    ],
    load: [
      {
        service: CHECKOUT,
        baselineRps: 200,
        surges: [{ atSeconds: 60, rampSeconds: 30, holdSeconds: 480, peakRps: 600 }],
        capacityRpsPerEndpoint: 80,
      },
      {
        service: CART,
        baselineRps: 150,
        surges: [{ atSeconds: 720, rampSeconds: 1800, holdSeconds: 600, peakRps: 600 }],
        capacityRpsPerEndpoint: 80,
      },
      { service: 'search.catalog', baselineRps: 90, capacityRpsPerEndpoint: 60 },
    ],
    cloud: { nodeReadySeconds: 90, podReadySeconds: 20, dnsSyncSeconds: 30 },
    policies: [
      {
        service: CHECKOUT,
        slo: {
          latency: { query: queries.p99, thresholdSeconds: 0.25 },
          errorBudget: {
            objective: 0.999,
            windows: [
              { name: '5m', query: queries.errors5m, burnRate: 14.4 },
              { name: '1h', query: queries.errors1h, burnRate: 14.4 },
            ],
          },
          recoverBelow: 0.8,
          evaluationIntervalSeconds: 15,
        },
        cloud: {
          eks: { region: 'us-east-1', cluster: 'burst', nodegroup: 'checkout-burst' },
          deployment: { cluster: 'us-east-1', namespace: 'shop', name: 'checkout' },
          route53: {
            hostedZoneId: 'ZSIMULATED',
            recordName: 'checkout.shop.example.com',
            onpremSetIdentifier: 'onprem',
            cloudSetIdentifier: 'cloud',
          },
        },
        steps: [0.1, 0.25, 0.5],
        stepIntervalSeconds: 60,
        maxShare: 0.5,
        capacity: { replicasAtFullShare: 12, podsPerNode: 4, maxReplicas: 12, maxNodes: 3 },
        cooldownSeconds: 120,
        minDwellSeconds: 60,
        // Priced, with no budget: the demo shows what its bursts cost, and decides as without prices.
        cost: { nodeHourly: 0.42, currency: 'USD', dailyResetTimeZone: 'UTC' },
      },
      cartPolicy(),
    ],
  });
}

/**
 * cart.shop's predictive policy, in simulated seconds (toRealTime divides them by the speed, so
 * at 60× the history is 5 real minutes at 1 s, the horizon 30 s, the lead time 8 s).
 */
function cartPolicy() {
  return {
    service: CART,
    slo: {
      latency: { query: sloQueries(CART).p99, thresholdSeconds: 0.25 },
      recoverBelow: 0.8,
      evaluationIntervalSeconds: 15,
    },
    predictive: {
      enabled: true,
      rateQuery: `service:http_requests:rate1m{service="${CART}"}`,
      capacityRps: 360,
      horizonSeconds: 1800,
      historySeconds: 18_000,
      stepSeconds: 60,
      defaultLeadTimeSeconds: 480,
      releaseAfterSeconds: 900,
    },
    cloud: {
      eks: { region: 'us-east-1', cluster: 'burst', nodegroup: 'cart-burst' },
      deployment: { cluster: 'us-east-1', namespace: 'shop', name: 'cart' },
    },
    steps: [0.25, 0.5],
    stepIntervalSeconds: 60,
    maxShare: 0.5,
    capacity: { replicasAtFullShare: 12, podsPerNode: 4, maxReplicas: 12, maxNodes: 3 },
    cooldownSeconds: 120,
    minDwellSeconds: 60,
  };
}

/**
 * The locality router benchmark's world, generated deterministically so the server process,
 * the clients process and the floor all agree on it without shipping it over IPC: services and
 * their endpoints, the clients' localities, protocols and subscriptions, and the sequence of
 * changes.
 */
import type { Endpoint, Locality, Service, ServiceKey } from '@spillway/model';

export interface BenchConfig {
  /** ADS streams, one per client, each on its own HTTP/2 connection (as proxies have). */
  readonly streams: number;
  readonly services: number;
  readonly endpointsPerService: number;
  /** Each client watches between `minWatch` and `maxWatch` ClusterLoadAssignments. */
  readonly minWatch: number;
  readonly maxWatch: number;
  /** Share of the clients that use Delta ADS instead of SotW. */
  readonly deltaShare: number;
  readonly endpointChanges: number;
  readonly policyChanges: number;
  /**
   * Changes of each kind made before the measured ones and left out of their figures: the first
   * change after the initial sync runs code the sync never did (the change path), compiled on
   * the spot. A router serving a fleet is past that within seconds of starting.
   */
  readonly warmupChanges: number;
  /** Upper bound on any one wait (connect, one fan-out); the run fails past it. */
  readonly timeoutMs: number;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const int = (name: string, fallback: number, min: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}`);
    return value;
  };
  const deltaShare = Number(env['BENCH_DELTA_SHARE'] ?? 0.1);
  if (!(deltaShare >= 0 && deltaShare <= 1)) throw new Error('BENCH_DELTA_SHARE must be in [0, 1]');
  const services = int('BENCH_SERVICES', 1_000, 1);
  const minWatch = Math.min(int('BENCH_MIN_WATCH', 10, 1), services);
  const maxWatch = Math.min(Math.max(int('BENCH_MAX_WATCH', 50, 1), minWatch), services);
  return {
    streams: int('BENCH_STREAMS', 2_000, 1),
    services,
    endpointsPerService: int('BENCH_ENDPOINTS_PER_SERVICE', 100, 10),
    minWatch,
    maxWatch,
    deltaShare,
    endpointChanges: int('BENCH_CHANGES', 50, 1),
    policyChanges: int('BENCH_POLICY_CHANGES', 20, 1),
    warmupChanges: int('BENCH_WARMUP_CHANGES', 5, 0),
    timeoutMs: int('BENCH_TIMEOUT_MS', 60_000, 1_000),
  };
}

/** Where endpoints run: five on-prem zones in two sites, two cloud zones. */
const ONPREM_ZONES: readonly Locality[] = [
  { region: 'dc1', zone: 'dc1-a', subZone: '' },
  { region: 'dc1', zone: 'dc1-b', subZone: '' },
  { region: 'dc1', zone: 'dc1-c', subZone: '' },
  { region: 'dc2', zone: 'dc2-a', subZone: '' },
  { region: 'dc2', zone: 'dc2-b', subZone: '' },
];
const CLOUD_ZONES: readonly Locality[] = [
  { region: 'us-east-1', zone: 'us-east-1a', subZone: '' },
  { region: 'us-east-1', zone: 'us-east-1b', subZone: '' },
];
/** 80% of a service's endpoints are on-prem, 20% in the cloud. */
const ONPREM_FRACTION = 0.8;

/** Where clients run: the five on-prem zones and one cloud zone, so six distinct views per service. */
export const CLIENT_LOCALITIES: readonly Locality[] = [...ONPREM_ZONES, CLOUD_ZONES[0]!];

export function serviceKeyOf(index: number): ServiceKey {
  return `svc-${index}.ns-${index % 20}`;
}

export function onpremEndpointCount(config: BenchConfig): number {
  return Math.round(config.endpointsPerService * ONPREM_FRACTION);
}

/** Service `index` with every endpoint healthy; addresses are distinct across the catalog. */
export function generateService(config: BenchConfig, index: number): Service {
  const onprem = onpremEndpointCount(config);
  const endpoints: Endpoint[] = [];
  for (let j = 0; j < config.endpointsPerService; j++) {
    const n = index * config.endpointsPerService + j;
    const cloud = j >= onprem;
    const locality = cloud ? CLOUD_ZONES[j % CLOUD_ZONES.length]! : ONPREM_ZONES[j % ONPREM_ZONES.length]!;
    endpoints.push({
      address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      port: 8080,
      cluster: cloud ? 'eks-use1' : `k8s-${locality.region}`,
      environment: cloud ? 'cloud' : 'onprem',
      locality,
      health: 'healthy',
      weight: 1,
      labels: {},
    });
  }
  return { name: `svc-${index}`, namespace: `ns-${index % 20}`, endpoints };
}

export function generateServices(config: BenchConfig): Map<ServiceKey, Service> {
  const services = new Map<ServiceKey, Service>();
  for (let i = 0; i < config.services; i++) services.set(serviceKeyOf(i), generateService(config, i));
  return services;
}

export interface ClientPlan {
  readonly index: number;
  readonly nodeId: string;
  /** Index into CLIENT_LOCALITIES. */
  readonly localityIndex: number;
  readonly protocol: 'sotw' | 'delta';
  /** Sorted service keys (ClusterLoadAssignment names) the client watches. */
  readonly watched: readonly ServiceKey[];
}

export function clientPlans(config: BenchConfig): ClientPlan[] {
  const plans: ClientPlan[] = [];
  for (let i = 0; i < config.streams; i++) {
    const random = mulberry32(i + 1);
    const count = config.minWatch + Math.floor(random() * (config.maxWatch - config.minWatch + 1));
    const picked = new Set<number>();
    // Bounded: `count` <= services, and each draw adds a new index with probability >= 1/services.
    for (let draws = 0; picked.size < count && draws < 100 * config.services; draws++) {
      picked.add(Math.floor(random() * config.services));
    }
    const delta = Math.floor((i + 1) * config.deltaShare) > Math.floor(i * config.deltaShare);
    plans.push({
      index: i,
      nodeId: `bench-client-${i}`,
      localityIndex: i % CLIENT_LOCALITIES.length,
      protocol: delta ? 'delta' : 'sotw',
      watched: [...picked].map(serviceKeyOf).sort(),
    });
  }
  return plans;
}

/** Clients per watched service. */
export function subscribersByService(plans: readonly ClientPlan[]): Map<ServiceKey, number[]> {
  const subscribers = new Map<ServiceKey, number[]>();
  for (const plan of plans) {
    for (const key of plan.watched) {
      const list = subscribers.get(key);
      if (list) list.push(plan.index);
      else subscribers.set(key, [plan.index]);
    }
  }
  return subscribers;
}

/** The service touched by change `n` of a phase: spread over the catalog, always watched by someone. */
export function changedService(
  config: BenchConfig,
  subscribers: ReadonlyMap<ServiceKey, readonly number[]>,
  n: number,
  stride: number,
): ServiceKey {
  for (let k = 0; k < config.services; k++) {
    const key = serviceKeyOf((n * stride + k) % config.services);
    if ((subscribers.get(key)?.length ?? 0) > 0) return key;
  }
  throw new Error('no service is watched by any client');
}

/** Endpoint change `n`: flip the health of one on-prem endpoint (a pod going unready / ready). */
export function flipEndpointHealth(config: BenchConfig, service: Service, n: number): Service {
  const target = n % onpremEndpointCount(config);
  return {
    ...service,
    endpoints: service.endpoints.map((endpoint, j) =>
      j === target ? { ...endpoint, health: endpoint.health === 'healthy' ? 'unhealthy' : 'healthy' } : endpoint,
    ),
  };
}

/** Policy change `n`: a cloud share between 0.1 and 0.9, different from `current`. */
export function nextCloudShare(n: number, current: number): number {
  const share = ((n % 9) + 1) / 10;
  return Math.abs(share - current) < 1e-9 ? share - 0.05 : share;
}

/** Small deterministic PRNG (mulberry32): the same plans in every process. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

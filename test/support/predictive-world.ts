import {
  type BurstAction,
  type BurstSignals,
  type BurstState,
  decide,
  type ForecastReading,
  initialBurstState,
  leadTimeSeconds,
  type RateSample,
  readForecast,
} from '@spillway/burst';
import { BurstPolicy, type PredictiveSettings } from '@spillway/model';
import {
  errorRatioAtUtilisation,
  MetricsHistory,
  observe,
  offeredRps,
  Scenario,
  type ScenarioInput,
  type ServiceLoad,
  type ServingEndpoint,
  SimNodegroup,
} from '@spillway/simulator';

/**
 * One service under the burst core in simulated time, for `npm run bench:predictive` and the
 * pre-warm e2e test. The demand, latency and errors come from the simulator's load model
 * (`offeredRps`, `observe`), cloud timing from its scenario defaults (a node is ready
 * `nodeReadySeconds` after it is asked for, a pod `podReadySeconds` after it is scheduled on a
 * ready node, as SimNodegroup/SimDeployment do); the SLO signal is the 1-minute p99 read from the
 * simulator's MetricsHistory, as the real policy's latency query would; every decision is the
 * real `decide()`, with its actions applied at once (the job layer's latency is not the subject).
 * Time only advances by ticks, so a day runs in well under a second.
 */

export const SERVICE = 'checkout.shop';
/** On-prem: 10 endpoints of 100 rps each (ρ = 1 at 1000 rps). */
export const ONPREM_ENDPOINTS = 10;
export const ENDPOINT_RPS = 100;
/** The SLO: 99.9 % of requests answered, and answered within 0.5 s. */
export const OBJECTIVE = 0.999;
export const LATENCY_THRESHOLD_SECONDS = 0.5;

const TICK_MS = 5_000;
const DECIDE_EVERY_MS = 15_000;

export interface PredictiveScenario {
  name: string;
  durationSeconds: number;
  load: Omit<
    ServiceLoad,
    'service' | 'capacityRpsPerEndpoint' | 'p99BaseSeconds' | 'p99CapSeconds' | 'baseErrorRatio' | 'noisePeriodSeconds'
  > &
    Partial<ServiceLoad>;
  /** Forecast resolution: 15 s for short scenarios, 60 s for days. */
  stepSeconds: number;
  historySeconds: number;
}

/** The bench's policy: steps 0.1 → 0.25 → 0.5; 20 replicas carry share 1, 5 pods a node. */
export function benchPolicy(
  predictive: boolean,
  scenario: Pick<PredictiveScenario, 'stepSeconds' | 'historySeconds'>,
): BurstPolicy {
  return BurstPolicy.parse({
    service: SERVICE,
    slo: {
      latency: {
        query: `service:http_request_duration_seconds:p99_rate1m{service="${SERVICE}"}`,
        thresholdSeconds: LATENCY_THRESHOLD_SECONDS,
      },
    },
    cloud: {
      eks: { region: 'us-east-1', cluster: 'burst', nodegroup: 'checkout' },
      deployment: { cluster: 'eks-burst', namespace: 'shop', name: 'checkout' },
    },
    steps: [0.1, 0.25, 0.5],
    maxShare: 0.5,
    stepIntervalSeconds: 60,
    minDwellSeconds: 60,
    cooldownSeconds: 300,
    capacity: { replicasAtFullShare: 20, podsPerNode: 5, maxReplicas: 10, maxNodes: 2 },
    predictive: {
      enabled: predictive,
      rateQuery: `service:http_requests:rate1m{service="${SERVICE}"}`,
      // ρ = 0.9 on-prem is where the p99 reaches the SLO's 0.5 s (0.05 s / (1 − ρ)).
      capacityRps: 900,
      horizonSeconds: 600,
      historySeconds: scenario.historySeconds,
      stepSeconds: scenario.stepSeconds,
      defaultLeadTimeSeconds: 120,
      releaseAfterSeconds: 300,
    },
  });
}

/** Pods of the cloud Deployment: scheduled while ready nodes have room, ready after podReadySeconds. */
class CloudPods {
  desired = 0;
  private pods: { readyAt: number | null }[] = [];

  constructor(
    private readonly nodegroup: SimNodegroup,
    private readonly podReadyMs: number,
  ) {}

  reconcile(now: number): void {
    while (this.pods.length < this.desired) this.pods.push({ readyAt: null });
    // Surplus goes unscheduled first, then the newest (a ReplicaSet's order).
    this.pods.sort((a, b) => (a.readyAt === null ? 1 : 0) - (b.readyAt === null ? 1 : 0));
    this.pods = this.pods.slice(0, this.desired);
    let room = this.nodegroup.readyNodes(now) * this.nodegroup.podsPerNode;
    for (const pod of this.pods) {
      if (room <= 0) {
        pod.readyAt = null; // lost its node: back to pending
        continue;
      }
      room--;
      pod.readyAt ??= now + this.podReadyMs;
    }
  }

  ready(now: number): number {
    return this.pods.filter((pod) => pod.readyAt !== null && pod.readyAt <= now).length;
  }
}

export interface ForecastSource {
  /** The rate history up to `now` (a range query), in time order. */
  history(now: number, settings: PredictiveSettings): Promise<RateSample[]> | RateSample[];
}

export interface TickRecord {
  at: number;
  offeredRps: number;
  share: number;
  phase: BurstState['phase'];
  replicasReady: number;
  nodesReady: number;
  signals: BurstSignals;
  onpremUtilisation: number;
  actions: BurstAction[];
  forecast: ForecastReading | null;
}

export interface ScenarioResult {
  /** Bad requests (errors + answers slower than the threshold) over the budget (1 − objective) × requests, %. */
  burnedPercent: number;
  /** Ready nodes × minutes while the burst was warm and carried no traffic. */
  prewarmNodeMinutes: number;
  ticks: TickRecord[];
  audit: string[];
  finalState: BurstState;
}

/** The fraction of answers slower than `threshold` at utilisation ρ: M/M/1, matching the model's p99. */
function slowFraction(load: ServiceLoad, rho: number): number {
  if (rho >= 1) return 1;
  return Math.exp((Math.log(0.01) * LATENCY_THRESHOLD_SECONDS * (1 - rho)) / load.p99BaseSeconds);
}

/** Requests per second that failed or were too slow, on one side of the split. */
function badRps(load: ServiceLoad, rps: number, endpoints: number): number {
  if (rps === 0) return 0;
  if (endpoints === 0) return rps;
  const rho = rps / endpoints / load.capacityRpsPerEndpoint;
  const errors = errorRatioAtUtilisation(load, rho);
  return rps * errors + rps * (1 - errors) * slowFraction(load, rho);
}

/** The SLO as the policy's latency query sees it: the 1-minute p99 against its threshold and recovery line. */
function sloSignal(history: MetricsHistory, now: number, policy: BurstPolicy): BurstSignals {
  const p99 = history.window(now, 60_000)?.p99Seconds ?? Number.NaN;
  const threshold = LATENCY_THRESHOLD_SECONDS;
  const recoverBelow = policy.slo?.recoverBelow ?? 0.8;
  const slo = Number.isNaN(p99)
    ? 'unknown'
    : p99 > threshold
      ? 'breached'
      : p99 < threshold * recoverBelow
        ? 'recovered'
        : 'ok';
  return { alertFiring: false, slo, detail: `p99 ${p99.toFixed(3)} s (threshold ${threshold} s)` };
}

/** The in-process range query: the 1-minute request rate at each step, as `service:http_requests:rate1m` would answer. */
export class RecordedRates implements ForecastSource {
  private readonly points: RateSample[] = [];
  private readonly retentionMs: number;

  constructor(historySeconds: number) {
    this.retentionMs = historySeconds * 1000;
  }

  record(at: number, value: number): void {
    this.points.push({ at, value });
    while ((this.points[0]?.at ?? at) < at - this.retentionMs) this.points.shift();
  }

  history(now: number): RateSample[] {
    return this.points.filter((point) => point.at <= now);
  }
}

export interface RunOptions {
  /** Where the forecast's history comes from; absent: the in-process recorded rates. */
  forecastSource?: ForecastSource;
  /** Called after every tick (the e2e test reads the metrics history through it). */
  onSample?: (history: MetricsHistory, now: number) => void;
  origin?: number;
  /** How long the metrics history keeps samples (ms); default 10 min. A range query reads only what it keeps. */
  metricsRetentionMs?: number;
  /** Stops the run early once this holds. */
  until?: (tick: TickRecord) => boolean;
}

export async function runScenario(
  scenario: PredictiveScenario,
  predictive: boolean,
  options: RunOptions = {},
): Promise<ScenarioResult> {
  const world = Scenario.parse({
    name: scenario.name,
    sites: [
      {
        name: 'dc1',
        kind: 'kubernetes',
        environment: 'onprem',
        region: 'dc1',
        zones: ['dc1-a'],
        services: [{ service: SERVICE, endpointsPerZone: ONPREM_ENDPOINTS }],
      },
    ],
    load: [{ service: SERVICE, capacityRpsPerEndpoint: ENDPOINT_RPS, baseErrorRatio: 0, ...scenario.load }],
  } satisfies ScenarioInput);
  const load = world.load[0] as ServiceLoad;
  const policy = benchPolicy(predictive, scenario);
  const settings = policy.predictive as PredictiveSettings;
  const origin = options.origin ?? Date.UTC(2026, 11, 1, 0, 0, 0);
  const nodegroup = new SimNodegroup({ region: 'us-east-1', cluster: 'burst', nodegroup: 'checkout' }, 5, 0, origin);
  const pods = new CloudPods(nodegroup, world.cloud.podReadySeconds * 1000);
  const metrics = new MetricsHistory(options.metricsRetentionMs ?? 10 * 60_000);
  const rates = new RecordedRates(settings.historySeconds);
  const source = options.forecastSource ?? rates;
  const stepMs = settings.stepSeconds * 1000;
  const onprem: ServingEndpoint[] = Array.from({ length: ONPREM_ENDPOINTS }, () => ({
    environment: 'onprem',
    extraLatencySeconds: 0,
  }));

  let state = initialBurstState();
  let routerShare = 0;
  let forecast: ForecastReading | null = null;
  let requests = 0;
  let bad = 0;
  let prewarmNodeMinutes = 0;
  let stepRequests = 0;
  let stepTicks = 0;
  const ticks: TickRecord[] = [];
  const audit: string[] = [];

  for (let elapsed = TICK_MS; elapsed <= scenario.durationSeconds * 1000; elapsed += TICK_MS) {
    const now = origin + elapsed;
    nodegroup.reconcile(now, world.cloud.nodeReadySeconds * 1000);
    pods.reconcile(now);
    const replicasReady = pods.ready(now);
    const nodesReady = nodegroup.readyNodes(now);
    const rps = offeredRps(load, elapsed / 1000);
    const cloud: ServingEndpoint[] = Array.from({ length: replicasReady }, () => ({
      environment: 'cloud',
      extraLatencySeconds: 0,
    }));
    const seen = observe(load, rps, routerShare, [...onprem, ...cloud]);
    metrics.append({
      at: now,
      requestsPerSecond: rps,
      errorsPerSecond: seen.errorsPerSecond,
      p99Seconds: seen.p99Seconds,
    });
    options.onSample?.(metrics, now);
    requests += rps * (TICK_MS / 1000);
    bad +=
      (badRps(load, seen.onpremRps, ONPREM_ENDPOINTS) + badRps(load, seen.cloudRps, replicasReady)) * (TICK_MS / 1000);
    stepRequests += rps;
    stepTicks += 1;
    if (elapsed % stepMs === 0) {
      rates.record(now, stepRequests / stepTicks);
      stepRequests = 0;
      stepTicks = 0;
    }
    const burst = state.burst;
    if (burst?.prewarm != null && burst.prewarm.shiftedAt === null && burst.share === 0) {
      prewarmNodeMinutes += (nodesReady * TICK_MS) / 60_000;
    }

    let actions: BurstAction[] = [];
    const signals = sloSignal(metrics, now, policy);
    if (elapsed % DECIDE_EVERY_MS === 0) {
      if (predictive && elapsed % stepMs === 0) {
        const lead = leadTimeSeconds(policy, state.leadTime);
        forecast = readForecast(await source.history(now, settings), settings, lead);
      }
      const decision = decide({
        policy,
        state,
        now,
        signals,
        observed: {
          cloudReadyEndpoints: replicasReady,
          cloudHealthy: true,
          replicasReady,
          nodesReady,
          appliedShare: routerShare,
        },
        forecast,
      });
      state = decision.state;
      actions = decision.actions;
      for (const entry of decision.audit)
        audit.push(`${new Date(entry.at).toISOString()} ${entry.phase} ${entry.decision}: ${entry.reason}`);
      for (const action of actions) {
        if (action.kind === 'set-traffic-share') routerShare = action.share;
        if (action.kind === 'scale-deployment') pods.desired = action.replicas;
        if (action.kind === 'scale-nodegroup') nodegroup.desired = action.desiredSize;
      }
    }
    const tick: TickRecord = {
      at: now,
      offeredRps: rps,
      share: routerShare,
      phase: state.phase,
      replicasReady,
      nodesReady,
      signals,
      onpremUtilisation: seen.onpremRps / ONPREM_ENDPOINTS / ENDPOINT_RPS,
      actions,
      forecast,
    };
    ticks.push(tick);
    if (options.until?.(tick)) break;
  }
  const budget = (1 - OBJECTIVE) * requests;
  return {
    burnedPercent: budget === 0 ? 0 : (100 * bad) / budget,
    prewarmNodeMinutes,
    ticks,
    audit,
    finalState: state,
  };
}

const HOUR = 3600;
const DAY = 86_400;

/** The bench's scenarios: on-prem saturates (ρ = 0.9) at 900 rps; the cloud takes ≈ 110 s to be ready. */
export const PREDICTIVE_SCENARIOS: readonly PredictiveScenario[] = [
  {
    name: 'ramp',
    durationSeconds: 2 * HOUR,
    load: {
      baselineRps: 500,
      noiseRatio: 0.03,
      surges: [{ atSeconds: 1800, rampSeconds: 1200, holdSeconds: 1800, peakRps: 1400 }],
    },
    stepSeconds: 15,
    historySeconds: HOUR,
  },
  {
    name: 'spike',
    durationSeconds: 2 * HOUR,
    load: {
      baselineRps: 500,
      noiseRatio: 0.03,
      surges: [{ atSeconds: 1800, rampSeconds: 30, holdSeconds: 1200, peakRps: 1400 }],
    },
    stepSeconds: 15,
    historySeconds: HOUR,
  },
  {
    name: 'flat',
    durationSeconds: 4 * HOUR,
    load: { baselineRps: 600, noiseRatio: 0.1, surges: [] },
    stepSeconds: 15,
    historySeconds: HOUR,
  },
  {
    name: 'daily',
    durationSeconds: 3 * DAY,
    load: {
      baselineRps: 500,
      noiseRatio: 0.03,
      // Every day from 09:00: an hour's rise to 1300 rps, two hours there, an hour back down.
      surges: [0, 1, 2].map((day) => ({
        atSeconds: day * DAY + 9 * HOUR,
        rampSeconds: HOUR,
        holdSeconds: 2 * HOUR,
        peakRps: 1300,
      })),
    },
    stepSeconds: 60,
    historySeconds: DAY,
  },
];

import { z } from 'zod';

const Share = z.number().min(0).max(1);
const Seconds = z.number().positive();

/**
 * The SLO that triggers a burst. Each query is PromQL evaluated as an instant query; the
 * result's first sample is compared with its threshold. A multi-window burn rate is expressed
 * as several windows that must all exceed their burn-rate threshold (Google SRE workbook).
 */
export const SloPolicy = z.strictObject({
  /** Latency: e.g. histogram_quantile(0.99, sum by (le) (rate(..._bucket[5m]))) in seconds. */
  latency: z.strictObject({ query: z.string().min(1), thresholdSeconds: z.number().positive() }).optional(),
  /** Error-ratio burn rate: every window's query must exceed `burnRate × (1 − objective)`. */
  errorBudget: z
    .strictObject({
      objective: z.number().gt(0).lt(1),
      windows: z
        .array(z.strictObject({ name: z.string().min(1), query: z.string().min(1), burnRate: z.number().positive() }))
        .min(1),
    })
    .optional(),
  /** Hysteresis: the SLO counts as recovered only below this fraction of every threshold. */
  recoverBelow: z.number().gt(0).lt(1).default(0.8),
  evaluationIntervalSeconds: Seconds.default(15),
});
export type SloPolicy = z.infer<typeof SloPolicy>;

/** An Alertmanager alert that triggers this policy: its alertname plus label equalities. */
export const AlertTrigger = z.strictObject({
  alertname: z.string().min(1),
  labels: z.record(z.string(), z.string()).default({}),
});
export type AlertTrigger = z.infer<typeof AlertTrigger>;

/** Where the cloud capacity for this service lives and how traffic reaches it outside xDS. */
export const CloudTarget = z.strictObject({
  eks: z
    .strictObject({ region: z.string().min(1), cluster: z.string().min(1), nodegroup: z.string().min(1) })
    .optional(),
  deployment: z
    .strictObject({
      /** A configured cluster (kind kubernetes or eks) whose API scales the Deployment. */
      cluster: z.string().min(1),
      namespace: z.string().min(1),
      name: z.string().min(1),
    })
    .optional(),
  route53: z
    .strictObject({
      hostedZoneId: z.string().min(1),
      recordName: z.string().min(1),
      type: z.enum(['A', 'AAAA', 'CNAME']).default('A'),
      onpremSetIdentifier: z.string().min(1),
      cloudSetIdentifier: z.string().min(1),
    })
    .optional(),
});
export type CloudTarget = z.infer<typeof CloudTarget>;

/** How much cloud capacity a share needs, and the most that may ever be asked for. */
export const CapacityBudget = z.strictObject({
  /** Deployment replicas that carry a cloud share of 1.0; a share s asks for ceil(s × this). */
  replicasAtFullShare: z.number().int().positive(),
  /** Pods that fit on one nodegroup node; nodes = ceil(replicas / this). */
  podsPerNode: z.number().int().positive().default(10),
  maxReplicas: z.number().int().positive(),
  maxNodes: z.number().int().positive(),
  /** Floor kept while idle (warm capacity); usually 0. */
  minReplicas: z.number().int().min(0).default(0),
  minNodes: z.number().int().min(0).default(0),
});
export type CapacityBudget = z.infer<typeof CapacityBudget>;

/**
 * How the controller compares the share clients report (LRS, `GET /v1/load`) with the share the
 * router publishes. Absent: the defaults, and steps are never held for it.
 */
export const MeasuredShareSettings = z.strictObject({
  /** Divergence is |measured − published| above this. */
  tolerance: z.number().gt(0).lt(1).default(0.05),
  /** The window of reports measured; also how long after a share change before judging. */
  windowSeconds: z.number().int().min(5).max(600).default(60),
  /** Fewer reported requests than this in the window: no verdict (too little traffic to say). */
  minRequests: z.number().int().min(1).default(100),
  /** Hold the next step up until the measured share follows the published one. */
  holdSteps: z.boolean().default(false),
});
export type MeasuredShareSettings = z.infer<typeof MeasuredShareSettings>;

/** Prometheus answers at most this many points per series in a range query (its own limit). */
export const MAX_RANGE_POINTS = 11_000;

/**
 * Predictive pre-warming: forecast the service's request rate from its history (Prometheus range
 * queries) and scale cloud capacity ahead of a crossing of the on-prem capacity, without moving
 * traffic. Absent or `enabled: false`: purely reactive.
 */
export const PredictiveSettings = z
  .strictObject({
    /** Opt-in: forecasts are made and acted on only when true. */
    enabled: z.boolean().default(false),
    /** PromQL for the service's request rate in requests/s (one series), read as a range query. */
    rateQuery: z.string().min(1),
    /** Requests/s the on-prem side serves within its SLO: a forecast above this needs the cloud. */
    capacityRps: z.number().positive(),
    /** How far ahead the forecast looks (s); a crossing beyond both this and the lead time is not acted on. */
    horizonSeconds: z.number().int().min(30).max(86_400).default(600),
    /** History read per forecast (s). A day or more adds the daily seasonal term. */
    historySeconds: z
      .number()
      .int()
      .min(300)
      .max(8 * 86_400)
      .default(3600),
    /** Resolution of the range query (s): history / step points, at most MAX_RANGE_POINTS. */
    stepSeconds: z.number().int().min(1).max(3600).default(15),
    /** Lead time assumed until scale-outs have been observed (capacity requested → ready), s. */
    defaultLeadTimeSeconds: z.number().int().min(1).max(3600).default(120),
    /** Warm capacity the forecast stops supporting is released after this long (s). */
    releaseAfterSeconds: z.number().int().min(10).max(86_400).default(300),
    /** Holt's smoothing factors: level (α), trend (β) and the daily seasonal term (γ), each in (0, 1). */
    smoothing: z
      .strictObject({
        level: z.number().gt(0).lt(1).default(0.5),
        trend: z.number().gt(0).lt(1).default(0.3),
        season: z.number().gt(0).lt(1).default(0.2),
      })
      .default({ level: 0.5, trend: 0.3, season: 0.2 }),
  })
  .superRefine((settings, ctx) => {
    const points = Math.ceil(settings.historySeconds / settings.stepSeconds) + 1;
    if (points > MAX_RANGE_POINTS) {
      ctx.addIssue({
        code: 'custom',
        path: ['historySeconds'],
        message: `historySeconds / stepSeconds asks for ${points} points; Prometheus answers at most ${MAX_RANGE_POINTS}`,
      });
    }
  });
export type PredictiveSettings = z.infer<typeof PredictiveSettings>;

/**
 * Flap damping of automatic bursts: a re-breach soon after a step down doubles that burst's
 * cooldown, up to a bound (docs/burst-controller.md#flap-damping). Absent: these defaults.
 */
export const DampingSettings = z.strictObject({
  /** A re-breach within this many policy cooldowns of a step down counts against the step down. */
  windowCooldowns: z.number().positive().max(100).default(2),
  /** The damped cooldown never exceeds this many policy cooldowns, so a burst still ends; 1 turns damping off. */
  maxFactor: z.number().min(1).max(1024).default(8),
});
export type DampingSettings = z.infer<typeof DampingSettings>;

/** The damping a policy without `damping` gets (the bounds Spillway shipped with). */
export const DEFAULT_DAMPING: DampingSettings = { windowCooldowns: 2, maxFactor: 8 };

/** True for a time zone name Intl knows (IANA: `Europe/Berlin`, `UTC`); offsets such as `+01:00` are not names. */
function isIanaTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * What a burst's cloud capacity costs and how much a burst (and a day of bursts) may spend. A
 * step whose capacity, held over its dwell, would break a budget is refused (docs "Cost guard").
 */
export const CostSettings = z.strictObject({
  /** Price of one nodegroup node per hour. */
  nodeHourly: z.number().min(0),
  /** Price of one Deployment replica per hour (for replicas billed on their own, e.g. Fargate). */
  replicaHourly: z.number().min(0).default(0),
  /** ISO 4217 code the prices are in; a label on metrics and reports. */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as USD')
    .default('USD'),
  /** The most one burst may spend, from its start to its end. */
  perBurstBudget: z.number().positive().optional(),
  /** The most this service's bursts may spend per day (midnight to midnight in dailyResetTimeZone). */
  dailyBudget: z.number().positive().optional(),
  /** IANA time zone whose midnight starts a new day for dailyBudget, e.g. Europe/Berlin or UTC. */
  dailyResetTimeZone: z.string().refine(isIanaTimeZone, 'expected an IANA time zone name such as Europe/Berlin or UTC'),
  /**
   * What a burst does once it has spent a budget in full: `hold` keeps the capacity it holds (only
   * steps up are refused); `drain` ends it as an abort does, traffic back on-prem first (onto the
   * sites it was relieving), then capacity released.
   */
  onBudgetExhausted: z.enum(['hold', 'drain']).default('hold'),
});
export type CostSettings = z.infer<typeof CostSettings>;

/** One service's bursting policy, as written in the config file under `policies:`. */
export const BurstPolicy = z
  .strictObject({
    /** `NAME.NS`. */
    service: z.string().regex(/^[a-z0-9-_]+\.[a-z0-9-_]+$/, 'expected NAME.NS'),
    slo: SloPolicy.optional(),
    triggers: z.strictObject({ alerts: z.array(AlertTrigger).default([]) }).default({ alerts: [] }),
    cloud: CloudTarget.default({}),
    /** Cloud shares to step through, ascending, each ≤ maxShare. */
    steps: z.array(Share.positive()).min(1).default([0.1, 0.25, 0.5]),
    stepIntervalSeconds: Seconds.default(60),
    maxShare: Share.default(0.5),
    capacity: CapacityBudget,
    /** After the signal clears, wait this long before stepping traffic back. */
    cooldownSeconds: Seconds.default(300),
    /** The least time spent at a step before moving again, in either direction. */
    minDwellSeconds: Seconds.default(60),
    /** Flap damping of automatic bursts (absent: DEFAULT_DAMPING); see DampingSettings. */
    damping: DampingSettings.optional(),
    measuredShare: MeasuredShareSettings.optional(),
    /** Predictive pre-warming (opt-in); see PredictiveSettings. */
    predictive: PredictiveSettings.optional(),
    /** Prices and budgets (opt-in); see CostSettings. */
    cost: CostSettings.optional(),
  })
  .superRefine((policy, ctx) => {
    policy.steps.forEach((step, index) => {
      if (step > policy.maxShare) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', index],
          message: `step ${step} is above maxShare ${policy.maxShare}`,
        });
      }
      const previous = policy.steps[index - 1];
      if (previous !== undefined && step <= previous) {
        ctx.addIssue({ code: 'custom', path: ['steps', index], message: 'steps must be strictly ascending' });
      }
    });
  });
export type BurstPolicy = z.infer<typeof BurstPolicy>;

import type { BurstPolicy } from '@spillway/model';
import type { ForecastReading } from './forecast.js';
import type { LeadTimeEstimate } from './lead-time.js';
import type { MeasuredShareReading } from './measured-share.js';

/**
 * Where a service's burst stands. `warming` is "cloud capacity scaled ahead of a forecast
 * crossing, traffic not moved" (predictive pre-warming). `shifting` is "below the top step, stepping up while the
 * signal persists"; `holding` is "at the top step (the target, capped by maxShare and budget)".
 */
export const BURST_PHASES = [
  'idle',
  'warming',
  'scaling-out',
  'shifting',
  'holding',
  'draining',
  'scaling-in',
  'aborted',
] as const;
export type BurstPhase = (typeof BURST_PHASES)[number];

/**
 * The SLO as the signal layer evaluated it: `ok` is below the threshold but above the
 * hysteresis line (`recoverBelow × threshold`), `recovered` is below that line, `unknown` is
 * "no answer" (Prometheus down, NaN, empty result).
 */
export type SloSignal = 'breached' | 'ok' | 'recovered' | 'unknown';

export interface BurstSignals {
  alertFiring: boolean;
  slo: SloSignal;
  /** Plain words for the audit log, e.g. "alert SpillwayCheckoutBurn firing". */
  detail?: string;
}

/** What the world is now, read from the catalog and the cloud APIs; never what was asked for. */
export interface ObservedCloud {
  /** Cloud endpoints of the service that the catalog shows ready. */
  cloudReadyEndpoints: number;
  cloudHealthy: boolean;
  /** Ready replicas of the cloud Deployment. */
  replicasReady: number;
  /** Ready nodes in the EKS nodegroup. */
  nodesReady: number;
  /**
   * True while this process has not read the cloud's capacity yet (a new leader before its first
   * read): `replicasReady` and `nodesReady` are 0 then and say nothing. Absent: they are a reading.
   */
  capacityUnread?: boolean;
  /** The cloud share the router's traffic policy holds now. */
  appliedShare: number;
  /** The cloud share clients reported over LRS (`GET /v1/load`); absent: not read. */
  measuredShare?: MeasuredShareReading;
}

export interface ManualBurstRequest {
  id: string;
  share: number;
  steps?: readonly number[];
  reason: string;
  actor: string;
  /** Epoch ms; absent: runs until aborted. */
  expiresAt?: number;
}

export interface AbortRequest {
  reason: string;
  actor: string;
  /** When given, the abort applies only to this burst (the API's `/v1/bursts/{id}/abort`). */
  burstId?: string;
}

/** One-shot operator commands; each is consumed by the decision it is passed to. */
export interface BurstCommands {
  start?: ManualBurstRequest;
  abort?: AbortRequest;
}

export interface DecideInput {
  policy: BurstPolicy;
  state: BurstState;
  /** Epoch ms. The core never reads a clock. */
  now: number;
  signals: BurstSignals;
  observed: ObservedCloud;
  commands?: BurstCommands;
  /** The request-rate forecast for policies with `predictive.enabled`; absent or null: none. */
  forecast?: ForecastReading | null;
}

export interface ManualRecord {
  reason: string;
  actor: string;
  expiresAt: number | null;
}

export interface AbortRecord {
  reason: string;
  actor: string;
  at: number;
}

/** A running burst. Every field is JSON (no undefined, no Infinity) so it round-trips. */
export interface ActiveBurst {
  id: string;
  /** Who governs stepping up: the signals, or an operator's request. */
  origin: 'signal' | 'manual';
  startedAt: number;
  /** The shares to step through, ascending, already capped by maxShare and the budget. */
  path: number[];
  /** The committed cloud share: what the router should hold. */
  share: number;
  /** Why `share` is what it is; carried by every re-emitted traffic action. */
  shareReason: string;
  /** The highest share whose capacity was requested; capacity never shrinks mid-burst. */
  capacityShare: number;
  /** When the signal went quiet (automatic bursts); null while it is not. */
  quietSince: number | null;
  manual: ManualRecord | null;
  abort: AbortRecord | null;
  /** What the burst is waiting on, in plain words (for `GET /v1/bursts/{id}`). */
  waitingOn: string | null;
  /** Set when the burst began as a pre-warm (capacity ahead of a forecast); absent otherwise. */
  prewarm?: PrewarmRecord | null;
  /** The running cost, for policies with `cost`; absent otherwise. */
  cost?: BurstCost | null;
  /** Flap damping of an automatic burst (see flap-damping.ts); absent or null: none. */
  damping?: FlapDamping | null;
}

/** An automatic burst's last step down and the cooldown its re-breaches have earned it. */
export interface FlapDamping {
  /** The cooldown in force for this burst: the policy's, doubled per re-breach, bounded. */
  cooldownSeconds: number;
  /** Epoch ms of the last step down not yet followed by a re-breach; null: none pending. */
  steppedDownAt: number | null;
  /** The share that step down went to. */
  steppedDownTo: number;
}

/** A burst's cost meter: what it has spent so far and the rate of the capacity it holds now. */
export interface BurstCost {
  /** Spent from the burst's start to `accruedAt`, in `currency`. */
  total: number;
  /** The price per hour of the capacity observed at `accruedAt`; charged until the next decision. */
  hourly: number;
  /** Epoch ms the meter last ran to. */
  accruedAt: number;
  currency: string;
}

/** A service's spending on one calendar day (in the policy's dailyResetTimeZone), across its bursts. */
export interface DailySpending {
  /** `YYYY-MM-DD` in `timeZone`. */
  day: string;
  timeZone: string;
  spent: number;
}

/** A step refused because it would break a budget: audited once, until the refusal changes or clears. */
export interface BudgetHold {
  budget: 'perBurstBudget' | 'dailyBudget';
  share: number;
  burstId: string | null;
}

/** Why a burst's capacity was warmed ahead of need, and until when the forecast supported it. */
export interface PrewarmRecord {
  startedAt: number;
  /** When the forecast said load crosses on-prem capacity (refreshed while it keeps saying so). */
  crossingAt: number;
  /** The last decision at which the forecast (or the load itself) supported the warm capacity. */
  supportedAt: number;
  /** The forecast that drove the pre-warm, in words. */
  forecast: string;
  /** When traffic first moved onto the warm capacity; null while only warm. */
  shiftedAt: number | null;
}

export type IntentKind = 'traffic' | 'replicas' | 'nodes';

/**
 * How the world is compared with an intent: traffic must equal it; capacity while bursting is
 * a lower bound (more is harmless); capacity while releasing is an upper bound (the floor).
 */
export type IntentMode = 'exact' | 'at-least' | 'at-most';

/**
 * The last desired value issued for one kind of action. Its `seq` names the action's key, so
 * re-emitting a pending action keeps its key (the job layer dedupes) while a repair after drift
 * gets a new one (the job layer runs it again).
 */
export interface Intent {
  burstId: string;
  value: number;
  mode: IntentMode;
  seq: number;
  /** The world was once observed at this value. */
  satisfied: boolean;
  /** Epoch ms the value was first asked for (capacity lead times are learned from it). */
  issuedAt?: number;
}

export interface BurstState {
  phase: BurstPhase;
  burst: ActiveBurst | null;
  /** Last change of the committed share, across bursts: minDwell applies from it. */
  lastShareChangeAt: number | null;
  /** After an abort, automatic bursts wait until the signal has been quiet (a new episode). */
  autoSuppressed: boolean;
  seq: number;
  intents: Record<IntentKind, Intent | null>;
  /**
   * Ids of the last operator commands applied (newest last), written with the decision they led
   * to: a command still in the inbox after a crash is recognised and not applied twice. The
   * decision core never reads it; the controller keeps it.
   */
  appliedCommands?: readonly string[];
  /**
   * The last policy of a service whose policy was removed while its burst was active: the burst
   * is drained under it, and a new leader finds it here. The decision core never reads it.
   */
  retiredPolicy?: BurstPolicy;
  /** This policy's capacity lead time, learned from observed scale-outs (requested → ready). */
  leadTime?: LeadTimeEstimate;
  /** After warm capacity was released unused, no new pre-warm before this epoch ms. */
  prewarmHeldUntil?: number;
  /** Today's spending (policies with `cost`): kept with the state, so a new leader goes on from it. */
  dailySpending?: DailySpending;
  /** The step a budget holds back now; absent: none. */
  budgetHold?: BudgetHold;
}

interface ActionBase {
  burstId: string;
  /** Stable per (burst, intent sequence, kind): the job id. */
  key: string;
  reason: string;
}

export type BurstAction =
  | (ActionBase & { kind: 'scale-nodegroup'; desiredSize: number })
  | (ActionBase & { kind: 'scale-deployment'; replicas: number })
  | (ActionBase & { kind: 'set-traffic-share'; share: number })
  | (ActionBase & { kind: 'set-dns-weights'; cloudWeight: number; onpremWeight: number });

export type AuditDecision =
  | 'start'
  | 'prewarm'
  | 'phase'
  | 'step'
  | 'hold'
  | 'signal'
  | 'capacity'
  | 'safety'
  | 'abort'
  | 'refusal'
  | 'damping'
  | 'end';

export interface AuditEntry {
  at: number;
  service: string;
  burstId: string | null;
  decision: AuditDecision;
  /** The phase after this decision. */
  phase: BurstPhase;
  /** The phase before it. */
  from: BurstPhase;
  /** Present when the phase changed. */
  to?: BurstPhase;
  /** The committed cloud share after this decision. */
  share: number;
  reason: string;
}

export interface BurstDecision {
  state: BurstState;
  /** Traffic actions first, then capacity: a job runner that keeps order never shrinks first. */
  actions: BurstAction[];
  audit: AuditEntry[];
  /** When to decide again if nothing else happens (a dwell, cooldown or expiry ends); null: on events only. */
  nextDecisionAt: number | null;
  /** What the capacity held since the last decision cost (policies with `cost`; else 0). */
  costAccrued: number;
}

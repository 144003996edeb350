import { BURST_PHASES, MIN_MANUAL_SHARE } from '@spillway/burst';
import { BurstPolicy, PrintableText } from '@spillway/model';
import { AuditClass, AuditEntry } from '@spillway/state';
import { z } from 'zod';
import { defineRoute, json, problem } from './route-contract.js';

export { AuditEntry } from '@spillway/state';

export const ServiceKey = z.string().regex(/^[a-z0-9_-]+\.[a-z0-9_-]+$/, 'expected NAME.NS');

/** A manual burst nobody ends ends by itself after this long (an operator may ask for up to a week). */
export const DEFAULT_BURST_EXPIRY_SECONDS = 4 * 3600;
const MAX_BURST_EXPIRY_SECONDS = 7 * 24 * 3600;

const ManualShare = z
  .number()
  .min(MIN_MANUAL_SHARE, `must be at least ${MIN_MANUAL_SHARE}: a smaller share holds cloud capacity for no traffic`)
  .max(1);

export const StartBurstRequest = z.strictObject({
  service: ServiceKey.describe('NAME.NS of a service with a burst policy'),
  share: ManualShare.describe("the cloud share to reach, at most the policy's maxShare"),
  // Reasons are shown again (audit log, CLI tables): printable text only.
  reason: PrintableText.trim().min(1, 'say why (it goes to the audit log)').max(500),
  steps: z
    .array(ManualShare)
    .min(1)
    .max(20)
    .optional()
    .describe('the shares to step through (default: the policy steps)'),
  expiresInSeconds: z
    .number()
    .int()
    .min(1)
    .max(MAX_BURST_EXPIRY_SECONDS)
    .default(DEFAULT_BURST_EXPIRY_SECONDS)
    .describe('the burst ends by itself after this long'),
});
export type StartBurstRequest = z.input<typeof StartBurstRequest>;

/** An opaque `next` from an earlier page; the stores check what is inside. */
const Cursor = z.string().min(1).max(512).describe('the `next` of an earlier page');

const PageLimit = z.coerce.number().int().min(1).max(1000).default(100);

export const AbortBurstRequest = z.strictObject({
  reason: PrintableText.trim().min(1).max(500).default('aborted by an operator'),
});

export const ListBurstsQuery = z.strictObject({
  service: ServiceKey.optional(),
  active: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe('true: running bursts only; false: ended ones only'),
  limit: PageLimit,
  cursor: Cursor.optional(),
});

export const ListAuditQuery = z.strictObject({
  service: ServiceKey.optional(),
  burstId: z.string().max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  class: z
    .string()
    .transform((text) => text.split(','))
    .pipe(z.array(AuditClass).min(1))
    .optional()
    .describe('comma-separated retention classes: operator, decision, signal, denial'),
  limit: PageLimit,
  cursor: Cursor.optional(),
});

export const BurstIdParams = z.object({ id: z.string() });

/** The controller's last reconcile error, with when it began; null while it reconciles. */
export const ReconcileError = z.object({ message: z.string(), since: z.iso.datetime({ offset: true }) }).nullable();
export type ReconcileErrorValue = z.infer<typeof ReconcileError>;

/** A burst's running cost, for policies with `cost` (docs/burst-controller.md#cost-guard). */
export const RunningCost = z.object({
  total: z.number().min(0).describe('spent from the start of the burst to updatedAt'),
  hourly: z.number().min(0).describe('the price per hour of the capacity the burst holds now'),
  currency: z.string(),
  perBurstBudget: z.number().positive().nullable().describe("the policy's budget per burst; null: none"),
});
export type RunningCost = z.infer<typeof RunningCost>;

/**
 * The request-rate forecast of a predictive policy as the controller decided with it
 * (docs/burst-controller.md#predictive-pre-warming): Holt's linear trend over the rate history,
 * read against on-prem capacity within the lead time and the horizon.
 */
export const RequestForecast = z.object({
  at: z.iso
    .datetime({ offset: true })
    .describe('the newest sample of the rate history: "now" as the forecast knows it'),
  method: z
    .enum(['holt', 'holt-daily'])
    .describe("Holt's linear trend; holt-daily adds the daily term (a day of history)"),
  observedRps: z.number().min(0).describe('the newest observed request rate (requests/s)'),
  levelRps: z.number().describe('the de-seasonalised level (requests/s)'),
  trendRpsPerSecond: z.number().describe('how fast the level changes (requests/s per second)'),
  peakRps: z.number().describe('the highest forecast within the horizon (requests/s): it sizes the warm capacity'),
  capacityRps: z.number().positive().describe("on-prem capacity (the policy's predictive.capacityRps)"),
  horizonSeconds: z.number().int().positive().describe('how far ahead the peak is looked for'),
  leadTimeSeconds: z.number().positive().describe('capacity request → ready: a crossing is acted on within this'),
  leadTimeLearned: z.boolean().describe('true: learned from observed scale-outs; false: the policy default'),
  crossingAt: z.iso
    .datetime({ offset: true })
    .nullable()
    .describe('when the forecast reaches capacityRps within the lead time; null: not within it'),
  warm: z
    .object({
      share: z.number().min(0).max(1).describe('the smallest step of the path that carries the peak'),
      replicas: z.number().int().min(0),
      nodes: z.number().int().min(0),
    })
    .nullable()
    .describe('the warm capacity the peak calls for (within maxShare and the budget); null when it fits on-prem'),
  summary: z.string().describe('the forecast in words, as the audit log has it'),
});
export type RequestForecast = z.infer<typeof RequestForecast>;

/** Why a burst's capacity was warmed ahead of need (a burst that began in `warming`). */
export const Prewarm = z.object({
  startedAt: z.iso.datetime({ offset: true }),
  crossingAt: z.iso.datetime({ offset: true }).describe('when the forecast said load crosses on-prem capacity'),
  supportedAt: z.iso.datetime({ offset: true }).describe('the last decision at which the forecast supported it'),
  shiftedAt: z.iso.datetime({ offset: true }).nullable().describe('when traffic first moved onto it; null: warm only'),
  forecast: z.string().describe('the forecast that started the warming, in words'),
});
export type Prewarm = z.infer<typeof Prewarm>;

/** A burst as the controller records it (apps/controller/src/burst-record.ts writes it). */
export const Burst = z.object({
  id: z.string(),
  service: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  active: z.boolean(),
  phase: z.enum([...BURST_PHASES, 'ended']),
  origin: z.enum(['signal', 'manual']),
  share: z.number().min(0).max(1).describe('the cloud share published now'),
  targetShare: z.number().min(0).max(1).describe('the top of the path'),
  step: z.number().int().min(0).describe('index in path of the current share'),
  path: z.array(z.number()).describe('the shares to step through'),
  reason: z.string(),
  actor: z.string(),
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
  waitingOn: z.string().nullable().describe('what the burst waits on, in plain words'),
  abort: z.object({ reason: z.string(), actor: z.string(), at: z.iso.datetime({ offset: true }) }).nullable(),
  appliedShare: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe("the share the router's traffic policy held at the last decision pass (active bursts)"),
  capacity: z
    .object({
      share: z.number().min(0).max(1).describe('the highest share whose capacity was requested'),
      replicas: z.object({ requested: z.number().int().nullable(), ready: z.number().int() }),
      nodes: z.object({ requested: z.number().int().nullable(), ready: z.number().int() }),
      cloudReadyEndpoints: z.number().int(),
    })
    .optional()
    .describe('capacity asked for against capacity ready (active bursts); requested is null without such a target'),
  cost: RunningCost.nullable()
    .default(null)
    .describe('the running cost for a policy with prices; null otherwise (and in records written before it)'),
  forecast: RequestForecast.nullable()
    .default(null)
    .describe(
      'the forecast the controller decided with at updatedAt (predictive policies); null without one (and in records written before it)',
    ),
  prewarm: Prewarm.nullable()
    .default(null)
    .describe('set when the burst began by warming capacity ahead of a forecast; null otherwise'),
});
export type Burst = z.infer<typeof Burst>;

/** The cloud share the clients report over LRS next to the one the router publishes (docs/burst-controller.md#measured-share). */
export const MeasuredShare = z.object({
  share: z.number().min(0).max(1).nullable().describe('the measured cloud share; null without reports in the window'),
  requests: z.number().int().min(0).describe('requests reported in the window'),
  windowSeconds: z.number().int().min(1),
  published: z.number().min(0).max(1).describe('the share the router publishes now'),
  verdict: z.enum(['follows', 'diverges', 'settling', 'no-data']),
  detail: z.string().describe('the verdict in plain words'),
  at: z.iso.datetime({ offset: true }),
});
export type MeasuredShare = z.infer<typeof MeasuredShare>;

export const BurstDetail = Burst.extend({
  measured: MeasuredShare.nullable()
    .default(null)
    .describe('for a running burst when load is measured; null otherwise (and from servers before it)'),
  measuredError: z.string().optional().describe('why the router could not be asked for the measured share'),
  history: z.array(AuditEntry).describe("the burst's audit entries, oldest first"),
  degraded: ReconcileError,
});
export type BurstDetail = z.infer<typeof BurstDetail>;

export const BurstsResponse = z.object({
  bursts: z.array(Burst).describe('newest first'),
  next: z.string().nullable().describe('the cursor of the next (older) page; null at the end'),
  degraded: ReconcileError,
});
export type BurstsResponse = z.infer<typeof BurstsResponse>;

export const AuditResponse = z.object({
  entries: z.array(AuditEntry).describe('newest first'),
  next: z.string().nullable(),
});
export type AuditResponse = z.infer<typeof AuditResponse>;

/** One decision's outcome: the phase and the committed cloud share after it. */
export const TimelinePoint = z.object({
  at: z.iso.datetime({ offset: true }),
  phase: z.string(),
  share: z.number().min(0).max(1),
});
export type TimelinePoint = z.infer<typeof TimelinePoint>;

export const PhaseSpan = z.object({
  phase: z.string(),
  since: z.iso.datetime({ offset: true }),
  until: z.iso.datetime({ offset: true }).nullable().describe('null for the phase the burst is in now'),
  reason: z.string(),
});
export type PhaseSpan = z.infer<typeof PhaseSpan>;

/** `GET /v1/bursts/{id}/timeline`: the phases and committed share over time (what the console charts). */
export const BurstTimeline = z.object({
  id: z.string(),
  service: z.string(),
  active: z.boolean(),
  points: z
    .array(TimelinePoint)
    .describe('oldest first, one per decision; the last is the record as it is now; at most 500 (the newest)'),
  phases: z.array(PhaseSpan),
  appliedShare: z.number().nullable().describe("the share the router's traffic policy held at the last pass"),
  truncated: z.boolean().describe('older decisions were left out'),
});
export type BurstTimeline = z.infer<typeof BurstTimeline>;

export const BurstPoliciesResponse = z.object({
  policies: z.array(BurstPolicy).describe('every burst policy in force, by service'),
  forecasts: z
    .array(RequestForecast.extend({ service: z.string() }))
    .default([])
    .describe(
      "the latest forecast of each predictive policy, idle or bursting (the leader's; empty on a standby or without Prometheus)",
    ),
});
export type BurstPoliciesResponse = z.infer<typeof BurstPoliciesResponse>;

export const BurstAccepted = z.object({
  id: z.string(),
  service: z.string(),
  state: z.literal('requested'),
  links: z.object({ self: z.string() }),
});
export type BurstAccepted = z.infer<typeof BurstAccepted>;

export const AbortAccepted = z.object({ id: z.string(), service: z.string(), state: z.literal('abort-requested') });
export type AbortAccepted = z.infer<typeof AbortAccepted>;

export const ControllerStatus = z.object({
  owner: z.string().describe('this controller instance'),
  leader: z.boolean(),
  degraded: z.boolean(),
  lastError: ReconcileError,
  store: z
    .object({ name: z.string(), ready: z.boolean(), detail: z.string().optional() })
    .nullable()
    .describe("the state store's health; null in embedded mode"),
});
export type ControllerStatus = z.infer<typeof ControllerStatus>;

const TAG = 'controller';
const UNAVAILABLE = problem('the state store (Redis) is unreachable; degraded: true; retry later', {
  'Retry-After': 'seconds',
});

export const StartBurstRoute = defineRoute({
  method: 'POST',
  url: '/v1/bursts',
  operationId: 'startBurst',
  summary: 'Start a manual burst',
  tag: TAG,
  access: 'operator',
  body: StartBurstRequest,
  responses: {
    202: json(BurstAccepted, 'the burst is requested; follow Location', { Location: '/v1/bursts/{id}' }),
    422: problem("no burst policy for the service, or share above the policy's maxShare"),
    503: UNAVAILABLE,
  },
});

export const ListBurstsRoute = defineRoute({
  method: 'GET',
  url: '/v1/bursts',
  operationId: 'listBursts',
  summary: 'Bursts, newest first, a page at a time',
  tag: TAG,
  access: 'read',
  query: ListBurstsQuery,
  responses: { 200: json(BurstsResponse, 'a page of bursts'), 503: UNAVAILABLE },
});

export const GetBurstRoute = defineRoute({
  method: 'GET',
  url: '/v1/bursts/:id',
  operationId: 'getBurst',
  summary: 'One burst with its audit history',
  tag: TAG,
  access: 'read',
  params: BurstIdParams,
  responses: { 200: json(BurstDetail, 'the burst'), 404: problem('no burst with this id'), 503: UNAVAILABLE },
});

export const GetBurstTimelineRoute = defineRoute({
  method: 'GET',
  url: '/v1/bursts/:id/timeline',
  operationId: 'getBurstTimeline',
  summary: "A burst's phases and committed share over time, from its audited decisions",
  tag: TAG,
  access: 'read',
  params: BurstIdParams,
  responses: {
    200: json(BurstTimeline, 'the timeline'),
    404: problem('no burst with this id'),
    503: UNAVAILABLE,
  },
});

export const ListBurstPoliciesRoute = defineRoute({
  method: 'GET',
  url: '/v1/burst-policies',
  operationId: 'listBurstPolicies',
  summary: 'The burst policies this controller runs (config file and custom resources)',
  tag: TAG,
  access: 'read',
  responses: { 200: json(BurstPoliciesResponse, 'the policies') },
});

export const AbortBurstRoute = defineRoute({
  method: 'POST',
  url: '/v1/bursts/:id/abort',
  operationId: 'abortBurst',
  summary: 'Abort a running burst: traffic goes back on-prem, capacity is released',
  tag: TAG,
  access: 'operator',
  params: BurstIdParams,
  body: AbortBurstRequest,
  bodyOptional: true,
  responses: {
    202: json(AbortAccepted, 'the abort is requested'),
    404: problem('no burst with this id'),
    409: problem('the burst has already ended'),
    503: UNAVAILABLE,
  },
});

export const ListAuditRoute = defineRoute({
  method: 'GET',
  url: '/v1/audit',
  operationId: 'listAudit',
  summary: 'The audit trail, newest first: decisions, actions, signals, operator requests, denials',
  tag: TAG,
  access: 'read',
  query: ListAuditQuery,
  responses: { 200: json(AuditResponse, 'a page of entries'), 503: UNAVAILABLE },
});

export const ControllerStatusRoute = defineRoute({
  method: 'GET',
  url: '/v1/controller',
  operationId: 'getControllerStatus',
  summary: 'Leadership and health of the controller (answers while the store is away)',
  tag: TAG,
  access: 'read',
  responses: { 200: json(ControllerStatus, 'the controller') },
});

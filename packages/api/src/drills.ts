import { MeasuredLoad } from '@spillway/model';
import { z } from 'zod';
import { DrillAction, DrillFile, DrillMode } from './drill-file.js';
import { defineRoute, json, problem } from './route-contract.js';

/** Media types a drill may be posted as, besides JSON: YAML errors then carry line and column. */
export const DRILL_YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'] as const;
export const DRILL_BODY_LIMIT_BYTES = 256 * 1024;

export const DrillIdParams = z.object({ id: z.string().regex(/^drill-[0-9a-f]{8}$/, 'expected a drill id') });

export const ListDrillsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'expected the next cursor of an earlier page')
    .transform(Number)
    .optional()
    .describe('the `next` of an earlier page'),
});

export const DrillProgress = z.object({
  phase: z.enum(['starting probes', 'running', 'rolling back', 'done']),
  elapsedSeconds: z.number(),
  durationSeconds: z.number(),
  requests: z.number().int(),
  failed: z.number().int(),
  last: z.string().describe('the last thing that happened, for a progress line'),
});

export const DrillOutcome = z.enum(['passed', 'failed', 'aborted', 'rolled-back', 'error']);

const EntryReport = z.object({
  index: z.number().int(),
  action: DrillAction,
  atSeconds: z.number(),
  untilSeconds: z.number(),
  detectSeconds: z.number().nullable().describe('from the entry to the first change the router published'),
  failoverSeconds: z.number().nullable().describe('until probes stopped failing and reaching the broken place'),
  requests: z.number().int(),
  failedRequests: z.number().int(),
  answeredBy: z.record(z.string(), z.number()).describe('cluster/zone → answered requests'),
  error: z.string().optional(),
});

const ShareBucket = z.object({
  t: z.number(),
  requests: z.number().int(),
  failed: z.number().int(),
  measuredCloudShare: z.number().nullable(),
  publishedShare: z.number(),
});

const ExpectationResult = z.object({
  name: z.string(),
  expected: z.number(),
  actual: z.number().nullable(),
  status: z.enum(['passed', 'failed', 'not-applicable']),
  detail: z.string(),
});

const TimelineEvent = z.object({
  t: z.number(),
  event: z.enum(['applied', 'undone', 'detected', 'failed-over', 'error', 'end']),
  entry: z.number().int().optional(),
  detail: z.string(),
});

export const DrillReport = z.object({
  drill: z.object({ name: z.string(), description: z.string(), mode: DrillMode, service: z.string() }),
  outcome: DrillOutcome,
  end: z.enum(['completed', 'aborted', 'deadline', 'error']),
  ranSeconds: z.number(),
  requests: z.object({
    total: z.number().int(),
    failed: z.number().int(),
    errorRatio: z.number().nullable(),
    skipped: z.number().int().describe('planned sends the probes skipped (too many in flight)'),
    answeredBy: z.object({ onprem: z.number().int(), cloud: z.number().int() }),
  }),
  entries: z.array(EntryReport),
  share: z.array(ShareBucket).describe('share over time, one bucket per interval'),
  reportedLoad: MeasuredLoad.nullable().describe(
    'what every client of the service (real ones and the probes) reported over LRS during the run; null when load reporting is off',
  ),
  cost: z
    .object({
      total: z.number().min(0),
      currency: z.string(),
      bursts: z.array(z.object({ id: z.string(), total: z.number().min(0) })),
    })
    .nullable()
    .describe(
      "what the service's bursts active during the run cost (totals when it ended); null without prices or bursts",
    ),
  timeline: z.array(TimelineEvent),
  expectations: z.array(ExpectationResult),
  error: z.string().optional(),
});
export type DrillReport = z.infer<typeof DrillReport>;

/** A drill as the API shows it: progress while it runs, the report once it is done. */
export const DrillRun = z.object({
  id: z.string(),
  name: z.string(),
  mode: DrillMode,
  service: z.string(),
  state: z.enum(['running', 'done']),
  startedAt: z.iso.datetime({ offset: true }),
  actor: z.string(),
  progress: DrillProgress,
  report: DrillReport.optional(),
});
export type DrillRun = z.infer<typeof DrillRun>;

export const DrillsResponse = z.object({
  drills: z.array(DrillRun.omit({ report: true })).describe('newest first, without their reports'),
  next: z.string().nullable(),
});
export type DrillsResponse = z.infer<typeof DrillsResponse>;

const TAG = 'drills';

export const StartDrillRoute = defineRoute({
  method: 'POST',
  url: '/v1/drills',
  operationId: 'startDrill',
  summary: 'Run a game-day drill (one at a time)',
  tag: TAG,
  access: 'operator',
  body: DrillFile,
  bodyTypes: ['application/json', ...DRILL_YAML_TYPES],
  responses: {
    202: json(DrillRun, 'the drill runs; follow Location', { Location: '/v1/drills/{id}' }),
    400: problem('the drill is not valid: problems lists every bad field (with line and column for YAML)'),
    409: problem('another drill is running: running names it'),
    422: problem('the drill cannot run here (unknown service, share above maxShare, live mode unavailable)'),
  },
});

export const ListDrillsRoute = defineRoute({
  method: 'GET',
  url: '/v1/drills',
  operationId: 'listDrills',
  summary: 'Drills run by this process, newest first',
  tag: TAG,
  access: 'read',
  query: ListDrillsQuery,
  responses: { 200: json(DrillsResponse, 'a page of drills') },
});

export const GetDrillRoute = defineRoute({
  method: 'GET',
  url: '/v1/drills/:id',
  operationId: 'getDrill',
  summary: 'One drill: progress while it runs, its report once done',
  tag: TAG,
  access: 'read',
  params: DrillIdParams,
  responses: { 200: json(DrillRun, 'the drill'), 404: problem('no drill with this id') },
});

export const AbortDrillRoute = defineRoute({
  method: 'POST',
  url: '/v1/drills/:id/abort',
  operationId: 'abortDrill',
  summary: 'Abort a running drill: everything it changed is undone',
  tag: TAG,
  access: 'operator',
  params: DrillIdParams,
  responses: {
    202: json(DrillRun, 'the drill is stopping'),
    404: problem('no drill with this id'),
    409: problem('the drill has already finished'),
  },
});

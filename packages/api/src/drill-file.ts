import { PrintableText, printableText } from '@spillway/model';
import { z } from 'zod';

/*
 * A drill file: the body of `POST /v1/drills`, the file of `spillway drill run`, a Drill's spec.
 * Its parsing from YAML (with line and column in errors) stays in packages/drill.
 */

/** Where a drill may act: the simulator (anything breaks) or real infrastructure (router overrides only). */
export const DrillMode = z.enum(['simulated', 'live']);
export type DrillMode = z.infer<typeof DrillMode>;

// Names and texts come back in reports, the API and the CLI: printable only.
const name = PrintableText.min(1).max(200);

/**
 * What a timeline entry does. The first five break the simulated world (see the simulator's
 * Fault); in live mode zone-down / site-down / region-down become router drains of that place,
 * which is what the router would publish if the place really failed. `router-restart` stops the
 * router and starts it again on the same port. `drain` and `force-share` are router overrides.
 * `wrong-trust-bundle` (simulated, with `mtls: true`) gives a region's workloads another CA.
 */
export const DrillAction = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('zone-down'), zone: name }),
  z.strictObject({ kind: z.literal('site-down'), site: name }),
  z.strictObject({ kind: z.literal('region-down'), region: name }),
  z.strictObject({
    kind: z.literal('latency'),
    site: name.optional(),
    zone: name.optional(),
    extraSeconds: z.number().positive().max(10),
  }),
  z.strictObject({ kind: z.literal('registry-down'), site: name }),
  z.strictObject({ kind: z.literal('router-restart'), downSeconds: z.number().min(0).max(60).default(1) }),
  z
    .strictObject({
      kind: z.literal('drain'),
      zone: name.optional(),
      region: name.optional(),
      cluster: name.optional(),
    })
    .refine((drain) => drain.zone ?? drain.region ?? drain.cluster, {
      message: 'drain needs a zone, region or cluster',
    }),
  z.strictObject({ kind: z.literal('force-share'), share: z.number().min(0).max(1) }),
  z.strictObject({ kind: z.literal('wrong-trust-bundle'), region: name }),
]);
export type DrillAction = z.infer<typeof DrillAction>;

/** Kinds that only the simulator can play: live mode refuses them rather than touch real systems. */
export const SIMULATED_ONLY: ReadonlySet<DrillAction['kind']> = new Set([
  'latency',
  'registry-down',
  'router-restart',
  'wrong-trust-bundle',
]);

export const TimelineEntry = z.strictObject({
  /** Seconds after the probes are ready. */
  atSeconds: z.number().min(0),
  /** How long it lasts; absent: until the end of the drill. Everything is undone at the end. */
  forSeconds: z.number().positive().optional(),
  action: DrillAction,
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

export const DrillExpectations = z.strictObject({
  /** Every disruptive entry: probes stop failing (and stop reaching the broken place) within N s. */
  failoverWithinSeconds: z.number().positive().optional(),
  /** Every entry the router should react to: its published view of the target changes within N s. */
  detectWithinSeconds: z.number().positive().optional(),
  /** Failed probe requests over all probe requests, strictly below. */
  errorRatioBelow: z.number().positive().max(1).optional(),
  /** At most this many failed probe requests over the drill (0: not a single one). */
  maxFailedRequests: z.number().int().min(0).optional(),
  /** The cloud share the router publishes for the target never exceeds this. */
  shareNeverAbove: z.number().min(0).max(1).optional(),
});
export type DrillExpectations = z.infer<typeof DrillExpectations>;

export const DrillFile = z
  .strictObject({
    name,
    description: printableText({ multiline: true }).max(4000).default(''),
    mode: DrillMode.default('simulated'),
    /**
     * Simulated only: the fleet runs mesh mTLS (every workload and probe has a SPIFFE identity,
     * the router publishes the TLS contexts), as a drill of identity failures needs.
     */
    mtls: z.boolean().default(false),
    target: z.strictObject({
      /** NAME.NS of the service the probes call. */
      service: PrintableText.regex(/^[^.\s]+\.[^.\s]+$/, 'expected NAME.NAMESPACE'),
      /** Where the probe clients sit (their xDS node locality): one client per entry. */
      clients: z
        .array(z.strictObject({ region: name, zone: name }))
        .min(1)
        .max(16),
    }),
    probes: z
      .strictObject({
        ratePerSecond: z.number().positive().max(2000).default(50),
        /** Full gRPC method path; default: the simulator's identity method, or the gRPC health check in live mode. */
        method: PrintableText.regex(/^\/[^/]+\/[^/]+$/, 'expected /package.Service/Method').optional(),
        timeoutMs: z.number().int().positive().max(30_000).default(1000),
      })
      .default({ ratePerSecond: 50, timeoutMs: 1000 }),
    durationSeconds: z.number().positive().max(3600),
    /**
     * The hard stop: whatever happens, every fault and override is undone this many seconds
     * after the start (router overrides also expire by themselves then). Default: duration + 30 s.
     */
    deadlineSeconds: z
      .number()
      .positive()
      .max(4 * 3600)
      .optional(),
    /** Probe requests with no failure for this long mean the target has failed over. */
    settleSeconds: z.number().positive().default(2),
    timeline: z.array(TimelineEntry).max(100),
    expect: DrillExpectations.default({}),
  })
  .superRefine((drill, context) => {
    const deadline = drill.deadlineSeconds ?? drill.durationSeconds + 30;
    if (drill.mtls && drill.mode === 'live') {
      context.addIssue({
        code: 'custom',
        path: ['mtls'],
        message: 'mtls is for simulated drills: live probes use the mesh as it is configured',
      });
    }
    if (deadline < drill.durationSeconds) {
      context.addIssue({
        code: 'custom',
        path: ['deadlineSeconds'],
        message: 'must not be shorter than durationSeconds',
      });
    }
    drill.timeline.forEach((entry, index) => {
      if (entry.atSeconds >= drill.durationSeconds) {
        context.addIssue({
          code: 'custom',
          path: ['timeline', index, 'atSeconds'],
          message: `starts after the drill ends (durationSeconds ${drill.durationSeconds})`,
        });
      }
      if (entry.action.kind === 'wrong-trust-bundle' && !drill.mtls) {
        context.addIssue({
          code: 'custom',
          path: ['timeline', index, 'action', 'kind'],
          message: 'wrong-trust-bundle needs mesh mTLS: add `mtls: true` to the drill',
        });
      }
      if (drill.mode === 'live' && SIMULATED_ONLY.has(entry.action.kind)) {
        context.addIssue({
          code: 'custom',
          path: ['timeline', index, 'action', 'kind'],
          message: `"${entry.action.kind}" can only be simulated: live drills act through router overrides only`,
        });
      }
    });
  });
export type DrillFile = z.infer<typeof DrillFile>;

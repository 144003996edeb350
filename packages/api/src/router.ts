import { Environment, MeasuredLoad, parseServiceKey } from '@spillway/model';
import { z } from 'zod';
import { defineRoute, json, problem } from './route-contract.js';

/** `NAME.NS`, the key the catalog and the xDS resources use for a service. */
const ServiceKeyField = z
  .string()
  .refine((key) => parseServiceKey(key) !== undefined, 'expected a service key NAME.NS (e.g. "echo.demo")');

/** A locality or cluster name to match exactly; empty strings ("unknown" in a locality) are refused. */
const MatchField = z.string().min(1, 'must not be empty');

/**
 * Drain every endpoint whose `locality.zone`, `locality.region` and `cluster` equal each field
 * given (at least one of the three): matching healthy endpoints are published `draining`.
 * With `service` only that service is drained, otherwise every service.
 */
export const DrainOverride = z
  .strictObject({
    kind: z.literal('drain'),
    service: ServiceKeyField.optional(),
    zone: MatchField.optional(),
    region: MatchField.optional(),
    cluster: MatchField.optional(),
  })
  .refine((drain) => drain.zone !== undefined || drain.region !== undefined || drain.cluster !== undefined, {
    message: 'a drain needs at least one of zone, region or cluster',
  });
export type DrainOverride = z.infer<typeof DrainOverride>;

/** Publish `share` as the service's cloud share, whatever the burst controller decided. */
export const ForceShareOverride = z.strictObject({
  kind: z.literal('force-share'),
  service: ServiceKeyField,
  share: z.number().min(0).max(1),
});
export type ForceShareOverride = z.infer<typeof ForceShareOverride>;

/** A reversible change to what the router publishes (game-day drills in live mode). */
export const RouterOverride = z.discriminatedUnion('kind', [DrainOverride, ForceShareOverride]);
export type RouterOverride = z.infer<typeof RouterOverride>;

/** An override in force: who set it, why, and when it rolls back by itself. */
export const ActiveOverride = z.object({
  id: z.string(),
  override: RouterOverride,
  owner: z.string(),
  reason: z.string(),
  /** ISO 8601. */
  createdAt: z.string(),
  /** ISO 8601: the override is removed at this instant unless removed before. */
  expiresAt: z.string(),
});
export type ActiveOverride = z.infer<typeof ActiveOverride>;

const NackRecord = z.object({
  at: z.iso.datetime({ offset: true }),
  typeUrl: z.string(),
  rejectedVersion: z.string().describe('the version the client refused'),
  keptVersion: z.string().describe('the version it keeps using'),
  detail: z.string(),
});

const XdsTypeStatus = z.object({
  typeUrl: z.string(),
  subscribed: z.array(z.string()),
  ackedVersion: z.string().nullable(),
  lastSentVersion: z.string().nullable(),
  lastNack: NackRecord.nullable(),
});

/** One xDS stream's client, as `istioctl proxy-status` would show it. */
export const XdsClient = z.object({
  nodeId: z.string(),
  identity: z.string().nullable().describe("its certificate's SPIFFE ID or CN; null over plaintext"),
  cluster: z.string(),
  locality: z.object({ region: z.string(), zone: z.string(), subZone: z.string() }),
  environment: z.enum(['onprem', 'cloud']).nullable(),
  kind: z.enum(['grpc', 'envoy', 'unknown']),
  userAgent: z.string(),
  protocol: z.enum(['sotw', 'delta']),
  connectedSince: z.iso.datetime({ offset: true }),
  resources: z.record(z.string(), XdsTypeStatus).describe('per type, by short name (ClusterLoadAssignment, …)'),
  lastNack: NackRecord.nullable(),
});
export type XdsClient = z.infer<typeof XdsClient>;

export const XdsClientsResponse = z.object({ clients: z.array(XdsClient) });
export type XdsClientsResponse = z.infer<typeof XdsClientsResponse>;

export const OverridesResponse = z.object({ overrides: z.array(ActiveOverride) });
export type OverridesResponse = z.infer<typeof OverridesResponse>;

export const XdsClientsRoute = defineRoute({
  method: 'GET',
  url: '/v1/xds/clients',
  operationId: 'listXdsClients',
  summary: 'Connected xDS clients: node, locality, identity, acked vs sent versions, NACKs',
  tag: 'router',
  access: 'read',
  responses: { 200: json(XdsClientsResponse, 'every connected client') },
});

export const RouterOverridesRoute = defineRoute({
  method: 'GET',
  url: '/v1/router/overrides',
  operationId: 'listRouterOverrides',
  summary: 'Drains and forced shares in force (live drills), with owner and deadline',
  tag: 'router',
  access: 'read',
  responses: { 200: json(OverridesResponse, 'the overrides, oldest first') },
});

/** How far back load reports are kept (packages/xds LOAD_RETENTION_SECONDS; its test holds them equal). */
export const LOAD_WINDOW_MAX_SECONDS = 600;

export const LoadQuery = z.strictObject({
  service: z.string().regex(/^[a-z0-9_-]+\.[a-z0-9_-]+$/, 'expected NAME.NS'),
  windowSeconds: z.coerce
    .number()
    .int()
    .min(1)
    .max(LOAD_WINDOW_MAX_SECONDS)
    .default(60)
    .describe('the last W seconds of reports'),
});

export const LoadRoute = defineRoute({
  method: 'GET',
  url: '/v1/load',
  operationId: 'getMeasuredLoad',
  summary: "What the service's clients reported over LRS, per locality, and the measured cloud share",
  tag: 'router',
  access: 'read',
  query: LoadQuery,
  responses: {
    200: json(MeasuredLoad, 'requests and errors per locality in the window; cloudShare null without reports'),
    404: problem('load reporting is off, or the service is not in the catalog'),
  },
});

/** A client locality to compute the EDS view for; without `region`, every locality the service runs in. */
export const ServiceEdsQuery = z.strictObject({
  region: z.string().min(1).max(253).optional(),
  zone: z.string().max(253).optional(),
  subZone: z.string().max(253).optional(),
  environment: Environment.optional().describe("the client's environment (default: inferred from its locality)"),
});

const EdsLocality = z.object({ region: z.string(), zone: z.string(), subZone: z.string() });

/** `GET /v1/services/{ns}/{name}/eds`: what each client locality is served now, priority by priority. */
export const ServiceEdsViews = z.object({
  service: z.string(),
  catalogVersion: z.number().int(),
  policyShare: z.number().describe('the cloud share in the traffic policy the router serves (overrides included)'),
  views: z
    .array(
      z.object({
        client: z.object({ locality: EdsLocality, environment: Environment }),
        cloudShare: z.number().describe('the share this view realises in priority 0 (0 when not bursting)'),
        priorities: z.array(
          z.object({
            priority: z.number().int(),
            localities: z.array(
              z.object({
                locality: EdsLocality,
                environment: Environment,
                weight: z.number().int().describe('load_balancing_weight of the LocalityLbEndpoints'),
                endpoints: z.array(
                  z.object({
                    address: z.string(),
                    port: z.number().int(),
                    health: z.enum(['HEALTHY', 'UNHEALTHY', 'DRAINING']),
                    weight: z.number().int(),
                  }),
                ),
              }),
            ),
          }),
        ),
      }),
    )
    .describe('one per client locality, at most 64'),
});
export type ServiceEdsViews = z.infer<typeof ServiceEdsViews>;

export const ServiceEdsRoute = defineRoute({
  method: 'GET',
  url: '/v1/services/:ns/:name/eds',
  operationId: 'getServiceEds',
  summary: 'The EDS (priorities, locality weights) a client in each locality gets for the service now',
  tag: 'router',
  access: 'read',
  params: z.object({ ns: z.string(), name: z.string() }),
  query: ServiceEdsQuery,
  responses: {
    200: json(ServiceEdsViews, 'one view per client locality'),
    404: problem('the service is not in the catalog'),
  },
});

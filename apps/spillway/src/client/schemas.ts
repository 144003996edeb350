import { z } from 'zod';

/**
 * What the CLI needs of each API answer. Objects are loose: a newer server may add fields, and
 * `--json` passes them through; a missing or mistyped field the CLI shows is an error.
 */

export const Problem = z.looseObject({
  title: z.string().optional(),
  status: z.number().optional(),
  detail: z.string().optional(),
});

export const Health = z.looseObject({ status: z.string() });

export const Readiness = z.looseObject({
  status: z.string(),
  checks: z.array(z.looseObject({ name: z.string(), ready: z.boolean(), detail: z.string().optional() })).default([]),
});
export type Readiness = z.infer<typeof Readiness>;

export const SourceStatus = z.looseObject({
  name: z.string(),
  kind: z.string(),
  environment: z.string(),
  region: z.string(),
  state: z.string(),
  lastSyncAt: z.string().nullable(),
  lastError: z.string().nullable(),
  serviceCount: z.number(),
  endpointCount: z.number(),
});
export type SourceStatus = z.infer<typeof SourceStatus>;

export const ClustersResponse = z.looseObject({ version: z.number(), clusters: z.array(SourceStatus) });
export type ClustersResponse = z.infer<typeof ClustersResponse>;

export const ServiceSummary = z.looseObject({
  key: z.string(),
  endpoints: z.number(),
  healthy: z.number(),
  environments: z.array(z.string()),
  clusters: z.array(z.string()),
});
export type ServiceSummary = z.infer<typeof ServiceSummary>;

export const ServicesResponse = z.looseObject({ version: z.number(), services: z.array(ServiceSummary) });
export type ServicesResponse = z.infer<typeof ServicesResponse>;

export const Endpoint = z.looseObject({
  address: z.string(),
  port: z.number(),
  cluster: z.string(),
  environment: z.string(),
  locality: z.looseObject({ region: z.string(), zone: z.string(), subZone: z.string().default('') }),
  health: z.string(),
  weight: z.number(),
});
export type Endpoint = z.infer<typeof Endpoint>;

export const ServiceResponse = z.looseObject({ version: z.number(), key: z.string(), endpoints: z.array(Endpoint) });
export type ServiceResponse = z.infer<typeof ServiceResponse>;

/** A burst as `GET /v1/bursts[/{id}]` shows it (see apps/controller/src/burst-record.ts). */
export const Burst = z.looseObject({
  id: z.string(),
  service: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  active: z.boolean(),
  phase: z.string().default('unknown'),
  origin: z.string().optional(),
  share: z.number().default(0),
  targetShare: z.number().default(0),
  reason: z.string().optional(),
  actor: z.string().optional(),
  expiresAt: z.string().nullable().optional(),
  waitingOn: z.string().nullable().optional(),
  abort: z.looseObject({ reason: z.string(), actor: z.string(), at: z.string() }).nullable().optional(),
});
export type Burst = z.infer<typeof Burst>;

export const AuditEntry = z.looseObject({
  at: z.string(),
  actor: z.string(),
  kind: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const BurstDetail = Burst.extend({ history: z.array(AuditEntry).default([]) });
export type BurstDetail = z.infer<typeof BurstDetail>;

export const BurstsResponse = z.looseObject({
  bursts: z.array(Burst),
  /** The cursor of the next page; absent from servers older than pagination. */
  next: z.string().nullable().optional(),
  // The controller's last reconcile error, as GET /v1/controller's lastError.
  degraded: z
    .union([z.string(), z.looseObject({ message: z.string(), since: z.string() })])
    .nullable()
    .optional()
    .transform((error) =>
      error == null || typeof error === 'string' ? error : `${error.message} (since ${error.since})`,
    ),
});
export type BurstsResponse = z.infer<typeof BurstsResponse>;

export const AuditResponse = z.looseObject({ entries: z.array(AuditEntry), next: z.string().nullable().optional() });

export const BurstAccepted = z.looseObject({ id: z.string(), service: z.string(), state: z.string() });
export type BurstAccepted = z.infer<typeof BurstAccepted>;

export const ControllerStatus = z.looseObject({
  owner: z.string(),
  leader: z.boolean(),
  degraded: z.boolean(),
  // The controller reports its last reconcile error with the time it began.
  lastError: z
    .union([z.string(), z.looseObject({ message: z.string(), since: z.string() })])
    .nullable()
    .transform((error) =>
      error === null || typeof error === 'string' ? error : `${error.message} (since ${error.since})`,
    ),
});
export type ControllerStatus = z.infer<typeof ControllerStatus>;

export const XdsClientsResponse = z.looseObject({
  clients: z.array(z.looseObject({ nodeId: z.string(), kind: z.string().optional() })),
});
export type XdsClientsResponse = z.infer<typeof XdsClientsResponse>;

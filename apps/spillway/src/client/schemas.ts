import * as Api from '@spillway/api';
import { z } from 'zod';

/**
 * What the CLI reads of each API answer: the server's own schemas (packages/api), so the CLI and
 * the server agree by construction. Fields a newer server adds are not refused, and `--json`
 * keeps them (api-client puts them back).
 */

export {
  AbortAccepted,
  AuditEntry,
  AuditResponse,
  Burst,
  BurstAccepted,
  ClustersResponse,
  Health,
  Readiness,
  ServiceResponse,
  ServiceSummary,
  ServicesResponse,
  SourceStatus,
  XdsClientsResponse,
} from '@spillway/api';

/**
 * Any error body, read leniently: a proxy or an older server may answer something that is not
 * quite problem+json, and the CLI still shows what it can of it.
 */
export const Problem = z.looseObject({
  title: z.string().optional(),
  status: z.number().optional(),
  detail: z.string().optional(),
});

/** The controller's last reconcile error, as one line. */
function describeError(error: Api.ReconcileErrorValue): string | null {
  return error === null ? null : `${error.message} (since ${error.since})`;
}

export const BurstDetail = Api.BurstDetail;
export type BurstDetail = z.infer<typeof BurstDetail>;

export const BurstsResponse = Api.BurstsResponse.transform((page) => ({
  ...page,
  degraded: describeError(page.degraded),
}));
export type BurstsResponse = z.infer<typeof BurstsResponse>;

export const ControllerStatus = Api.ControllerStatus.transform((status) => ({
  ...status,
  lastError: describeError(status.lastError),
}));
export type ControllerStatus = z.infer<typeof ControllerStatus>;

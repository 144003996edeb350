import { z } from 'zod';
import type { NodeMessage } from '../discovery-messages.js';

/** Bounds on one report: beyond them it is refused whole, so a client cannot make the store grow. */
export const MAX_CLUSTERS_PER_REPORT = 1000;
export const MAX_LOCALITIES_PER_CLUSTER = 64;

/** A uint64 as protobufjs decodes it (a decimal string); above 2^53 it cannot be a real count. */
const Count = z
  .string()
  .regex(/^\d+$/, 'expected a non-negative integer')
  .transform(Number)
  .refine((count) => Number.isSafeInteger(count), 'count too large');

const LocalityStats = z.object({
  locality: z
    .object({ region: z.string().max(128), zone: z.string().max(128), sub_zone: z.string().max(128) })
    .nullable()
    .transform((locality) => locality ?? { region: '', zone: '', sub_zone: '' }),
  total_successful_requests: Count,
  total_error_requests: Count,
  total_requests_in_progress: Count,
  total_issued_requests: Count,
});

const ClusterStats = z.object({
  cluster_name: z.string().min(1, 'expected a cluster name').max(256),
  upstream_locality_stats: z.array(LocalityStats).max(MAX_LOCALITIES_PER_CLUSTER),
  total_dropped_requests: Count,
});

const LoadStatsRequest = z.object({
  cluster_stats: z.array(ClusterStats).max(MAX_CLUSTERS_PER_REPORT),
});

/** One locality's counts in one report: deltas since the client's previous report, except in-progress. */
export interface ReportedLocalityLoad {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
  readonly successful: number;
  readonly errors: number;
  /** A gauge: requests started and not finished when the report was made. */
  readonly inProgress: number;
  readonly issued: number;
}

export interface ReportedClusterLoad {
  readonly cluster: string;
  readonly localities: readonly ReportedLocalityLoad[];
  readonly dropped: number;
}

export type ParsedLoadStatsRequest =
  | { readonly ok: true; readonly node: NodeMessage | undefined; readonly clusters: readonly ReportedClusterLoad[] }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Validates a decoded LoadStatsRequest. Like grpc-js-xds' resource validation, it returns every
 * problem with the path of the bad field (`cluster_stats[0].upstream_locality_stats[1]…`), and
 * a report with any problem is refused whole: partial counts would skew the share.
 */
export function parseLoadStatsRequest(message: unknown): ParsedLoadStatsRequest {
  const parsed = LoadStatsRequest.safeParse(message);
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map(describeIssue) };
  const errors: string[] = [];
  const seenClusters = new Set<string>();
  const clusters = parsed.data.cluster_stats.map((stats, c): ReportedClusterLoad => {
    if (seenClusters.has(stats.cluster_name)) {
      errors.push(`cluster_stats[${c}].cluster_name: ${stats.cluster_name} is reported twice`);
    }
    seenClusters.add(stats.cluster_name);
    const seenLocalities = new Set<string>();
    const localities = stats.upstream_locality_stats.map((entry, l): ReportedLocalityLoad => {
      const { region, zone, sub_zone } = entry.locality;
      const key = `${region}/${zone}/${sub_zone}`;
      if (seenLocalities.has(key)) {
        errors.push(`cluster_stats[${c}].upstream_locality_stats[${l}].locality: ${key} is reported twice`);
      }
      seenLocalities.add(key);
      return {
        region,
        zone,
        subZone: sub_zone,
        successful: entry.total_successful_requests,
        errors: entry.total_error_requests,
        inProgress: entry.total_requests_in_progress,
        issued: entry.total_issued_requests,
      };
    });
    return { cluster: stats.cluster_name, localities, dropped: stats.total_dropped_requests };
  });
  if (errors.length > 0) return { ok: false, errors };
  const node = (message as { node?: NodeMessage | null }).node ?? undefined;
  return { ok: true, node, clusters };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`))
    .join('');
  return `${path || '(request)'}: ${issue.message}`;
}

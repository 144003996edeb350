import { z } from 'zod';

/**
 * The Prometheus HTTP API's `/api/v1/query` envelope and result shapes
 * (https://prometheus.io/docs/prometheus/latest/querying/api/), validated with zod.
 *
 * Sample values are strings on the wire because they can be `NaN`, `+Inf` or `-Inf`; they are
 * turned into numbers here (NaN, Infinity, -Infinity). Timestamps are JSON numbers in seconds
 * with up to millisecond precision.
 */

/** Error types Prometheus sends (`web/api/v1/api.go`), plus the client's own. */
export type PrometheusErrorType =
  | 'timeout'
  | 'canceled'
  | 'execution'
  | 'bad_data'
  | 'internal'
  | 'unavailable'
  | 'not_found'
  | 'not_acceptable'
  /** The client could not connect (refused, reset, DNS). */
  | 'connection'
  /** The body is not JSON or not a Prometheus envelope of a known shape. */
  | 'bad_response';

/** A failed query, whatever failed: Prometheus, the network or the body. */
export class PrometheusQueryError extends Error {
  override readonly name = 'PrometheusQueryError';

  constructor(
    /** One of PrometheusErrorType, or an error type a newer Prometheus sends. */
    readonly errorType: PrometheusErrorType | (string & {}),
    /** The HTTP status, or null when no response arrived (connection, client timeout). */
    readonly status: number | null,
    /** One line: names the query, the error type, the status and Prometheus's message. */
    message: string,
    /** Prometheus's own `error` text, when it sent one. */
    readonly detail: string | null = null,
  ) {
    super(message);
  }
}

/** The query as it appears in a one-line error message: whitespace collapsed, long ones cut. */
export function describeQuery(promql: string): string {
  const oneLine = promql.replace(/\s+/g, ' ').trim();
  return oneLine.length > 160 ? `${oneLine.slice(0, 157)}...` : oneLine;
}

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** `"NaN"`, `"+Inf"`, `"-Inf"` or a Go float as text. */
const SampleValue = z.string().transform((text, ctx) => {
  switch (text) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
  }
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (Number.isNaN(value)) {
    ctx.addIssue({ code: 'custom', message: `not a sample value: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return value;
});

const Timestamp = z.number().finite();

/** `[<unix seconds>, "<value>"]` */
const SamplePair = z.tuple([Timestamp, SampleValue]).transform(([timestamp, value]) => ({ timestamp, value }));

const Labels = z.record(z.string(), z.string());

/** A native histogram sample (feature flag in 2.40+): count, sum and buckets as strings. */
const NativeHistogram = z.looseObject({
  count: SampleValue,
  sum: SampleValue,
  buckets: z
    .array(z.tuple([z.number().int(), SampleValue, SampleValue, SampleValue]))
    .optional()
    .transform((buckets) =>
      (buckets ?? []).map(([boundaryRule, lower, upper, count]) => ({ boundaryRule, lower, upper, count })),
    ),
});
export type NativeHistogram = z.output<typeof NativeHistogram>;

const HistogramPair = z.tuple([Timestamp, NativeHistogram]).transform(([timestamp, histogram]) => ({
  timestamp,
  histogram,
}));

const VectorSample = z.union([
  z.looseObject({ metric: Labels, value: SamplePair }).transform(({ metric, value }) => ({
    metric,
    timestamp: value.timestamp,
    value: value.value,
  })),
  z.looseObject({ metric: Labels, histogram: HistogramPair }).transform(({ metric, histogram }) => ({
    metric,
    timestamp: histogram.timestamp,
    histogram: histogram.histogram,
  })),
]);
export type VectorSample = z.output<typeof VectorSample>;

const RangeSeries = z
  .looseObject({
    metric: Labels,
    values: z.array(SamplePair).optional(),
    histograms: z.array(HistogramPair).optional(),
  })
  .refine((series) => series.values !== undefined || series.histograms !== undefined, {
    message: 'a matrix series needs values or histograms',
  })
  .transform(({ metric, values, histograms }) => ({ metric, values: values ?? [], histograms: histograms ?? [] }));
export type RangeSeries = z.output<typeof RangeSeries>;

const QueryData = z.discriminatedUnion('resultType', [
  z.looseObject({ resultType: z.literal('vector'), result: z.array(VectorSample) }),
  z.looseObject({ resultType: z.literal('scalar'), result: SamplePair }),
  z.looseObject({
    resultType: z.literal('string'),
    result: z.tuple([Timestamp, z.string()]).transform(([timestamp, value]) => ({ timestamp, value })),
  }),
  z.looseObject({ resultType: z.literal('matrix'), result: z.array(RangeSeries) }),
]);

const SuccessEnvelope = z.looseObject({
  status: z.literal('success'),
  data: QueryData,
  warnings: z.array(z.string()).optional(),
  infos: z.array(z.string()).optional(),
});

const ErrorEnvelope = z.looseObject({
  status: z.literal('error'),
  errorType: z.string().optional(),
  error: z.string().optional(),
  warnings: z.array(z.string()).optional(),
});

/** An instant query's result, one case per `resultType`. */
export type QueryResult =
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'scalar'; result: { timestamp: number; value: number } }
  | { resultType: 'string'; result: { timestamp: number; value: string } }
  | { resultType: 'matrix'; result: RangeSeries[] };

/** A successful `/api/v1/query` answer. */
export type QueryResponse = QueryResult & {
  warnings: string[];
  /** Informational annotations (Prometheus 2.45+); always empty from 2.42. */
  infos: string[];
};

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out === '' ? String(key) : `${out}.${String(key)}`;
  }, '');
}

/** The first zod issue's path (`alerts[0].labels`) and message, walking into union branches. */
export function firstIssue(error: z.ZodError): { path: string; message: string } {
  let issue: z.core.$ZodIssue | undefined = error.issues[0];
  let prefix: PropertyKey[] = [];
  while (issue && issue.code === 'invalid_union' && issue.errors.length > 0) {
    // The branch whose first issue goes deepest is the one the body meant to be.
    const best = issue.errors
      .map((branch) => branch[0])
      .filter((candidate): candidate is z.core.$ZodIssue => candidate !== undefined)
      .sort((a, b) => b.path.length - a.path.length)[0];
    if (!best) break;
    prefix = [...prefix, ...issue.path];
    issue = best;
  }
  if (!issue) return { path: '(root)', message: 'invalid' };
  return { path: formatPath([...prefix, ...issue.path]), message: issue.message };
}

/**
 * Turns one HTTP answer of `/api/v1/query` into its result or a PrometheusQueryError.
 * `body` is the raw text (or an already parsed value). Pure: the client and the fixture tests
 * both go through here.
 */
export function parseQueryResponse(promql: string, httpStatus: number, body: unknown): QueryResponse {
  const where = `Prometheus query "${describeQuery(promql)}"`;
  let json: unknown = body;
  if (typeof body === 'string') {
    try {
      json = JSON.parse(body);
    } catch {
      const errorType = httpStatus === 503 ? 'unavailable' : 'bad_response';
      const text = body.trim() === '' ? 'empty body' : `non-JSON body: ${oneLine(body, 120)}`;
      throw new PrometheusQueryError(
        errorType,
        httpStatus,
        `${where} failed: ${errorType} (HTTP ${httpStatus}): ${text}`,
      );
    }
  }

  const status =
    typeof json === 'object' && json !== null && 'status' in json ? (json as { status: unknown }).status : undefined;
  if (status === 'error') {
    const parsed = ErrorEnvelope.safeParse(json);
    const errorType = parsed.success ? (parsed.data.errorType ?? 'internal') : 'bad_response';
    const detail = parsed.success ? (parsed.data.error ?? null) : null;
    const text = detail === null ? 'no error message' : oneLine(detail);
    throw new PrometheusQueryError(
      errorType,
      httpStatus,
      `${where} failed: ${errorType} (HTTP ${httpStatus}): ${text}`,
      detail,
    );
  }

  const parsed = SuccessEnvelope.safeParse(json);
  if (!parsed.success) {
    const issue = firstIssue(parsed.error);
    const problem =
      status === 'success' ? `unexpected body at ${issue.path}: ${issue.message}` : 'not a Prometheus API answer';
    throw new PrometheusQueryError(
      'bad_response',
      httpStatus,
      `${where} failed: bad_response (HTTP ${httpStatus}): ${problem}`,
    );
  }
  if (httpStatus < 200 || httpStatus >= 300) {
    // A success envelope with an error status: a proxy or a broken server. Not to be trusted.
    throw new PrometheusQueryError(
      'bad_response',
      httpStatus,
      `${where} failed: bad_response (HTTP ${httpStatus}): success body with an error status`,
    );
  }
  const { data, warnings, infos } = parsed.data;
  // Only the documented fields: `stats` and whatever a newer Prometheus adds stay behind.
  const result = { resultType: data.resultType, result: data.result } as QueryResult;
  return { ...result, warnings: warnings ?? [], infos: infos ?? [] };
}

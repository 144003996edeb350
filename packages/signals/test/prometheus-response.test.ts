import { fixtureJson, fixtureNdjson, fixtureText } from '@spillway/test/fixtures';
import { describe, expect, it } from 'vitest';
import { PrometheusQueryError, parseQueryResponse, type QueryResponse } from '../src/index.js';

function failure(run: () => unknown): PrometheusQueryError {
  try {
    run();
  } catch (error) {
    if (error instanceof PrometheusQueryError) return error;
    throw error;
  }
  throw new Error('expected a PrometheusQueryError');
}

function values(response: QueryResponse): number[] {
  if (response.resultType !== 'vector') throw new Error(`expected a vector, got ${response.resultType}`);
  return response.result.map((sample) => ('value' in sample ? sample.value : Number.NaN));
}

describe('parseQueryResponse: captured Prometheus 2.42 answers', () => {
  it('histogram_quantile vector', () => {
    const response = parseQueryResponse(
      'histogram_quantile(0.99, …)',
      200,
      fixtureText('prometheus-2.42-query.histogram_quantile.vector.captured.json'),
    );
    expect(response).toEqual({
      resultType: 'vector',
      result: [{ metric: { handler: '/metrics' }, timestamp: 1795345218.28, value: 0.099 }],
      warnings: [],
      infos: [],
    });
  });

  it('scalar is [t, "v"] directly under result', () => {
    const response = parseQueryResponse('scalar(1)', 200, fixtureText('prometheus-2.42-query.scalar.captured.json'));
    expect(response.resultType).toBe('scalar');
    expect(response.result).toEqual({ timestamp: 1795345218.295, value: 1 });
  });

  it('empty vectors (no series; an error ratio with no traffic at all)', () => {
    for (const name of [
      'prometheus-2.42-query.empty_vector.captured.json',
      'prometheus-2.42-query.error_ratio.nan_or_value.captured.json',
    ]) {
      const response = parseQueryResponse('x', 200, fixtureText(name));
      expect(response).toMatchObject({ resultType: 'vector', result: [] });
    }
  });

  it('query_range matrix parses as a matrix', () => {
    const response = parseQueryResponse(
      'histogram_quantile(0.99, …)[30s]',
      200,
      fixtureText('prometheus-2.42-query_range.histogram_quantile.matrix.captured.json'),
    );
    if (response.resultType !== 'matrix') throw new Error('expected a matrix');
    expect(response.result).toHaveLength(1);
    expect(response.result[0]?.values).toHaveLength(7);
    expect(response.result[0]?.values[0]).toEqual({ timestamp: 1795345188, value: 0.099 });
  });

  it('bad_data (HTTP 400) is a typed error naming the query on one line', () => {
    const query = 'rate(x[5\n  ])';
    const error = failure(() =>
      parseQueryResponse(query, 400, fixtureText('prometheus-2.42-query.bad_data.error.captured.json')),
    );
    expect(error.errorType).toBe('bad_data');
    expect(error.status).toBe(400);
    expect(error.detail).toBe('invalid parameter "query": 1:9: parse error: missing unit character in duration');
    expect(error.message).toBe(
      'Prometheus query "rate(x[5 ])" failed: bad_data (HTTP 400): invalid parameter "query": 1:9: parse error: missing unit character in duration',
    );
    expect(error.message).not.toContain('\n');
  });
});

describe('parseQueryResponse: documented answers', () => {
  it('the docs vector and matrix', () => {
    const vector = parseQueryResponse('up', 200, fixtureJson('prometheus-query.vector.docs.json'));
    expect(values(vector)).toEqual([1, 0]);
    if (vector.resultType !== 'vector') throw new Error('vector');
    expect(vector.result[0]).toMatchObject({ metric: { job: 'prometheus' }, timestamp: 1435781451.781 });

    const matrix = parseQueryResponse('up[30s]', 200, fixtureJson('prometheus-query_range.matrix.docs.json'));
    if (matrix.resultType !== 'matrix') throw new Error('matrix');
    expect(matrix.result.map((series) => series.values.map((point) => point.value))).toEqual([
      [1, 1, 1],
      [0, 0, 1],
    ]);
  });

  interface PintCase {
    case: string;
    httpStatus: number;
    body: unknown;
  }
  const pint = fixtureJson<PintCase[]>('prometheus-query.responses.pint-mocks.json');
  const expected: Record<string, (run: () => QueryResponse) => void> = {
    empty: (run) => expect(values(run())).toEqual([]),
    single_result: (run) => expect(values(run())).toEqual([1]),
    three_results: (run) => expect(values(run())).toEqual([1, 2, 3]),
    stats: (run) => {
      const response = run();
      expect(values(response)).toEqual([1]);
      expect(response).not.toHaveProperty('stats');
    },
    error: (run) =>
      expect(failure(run)).toMatchObject({ errorType: 'bad_data', status: 400, detail: 'unhandled query' }),
    overload: (run) => {
      const error = failure(run);
      expect(error).toMatchObject({ errorType: 'execution', status: 422 });
      expect(error.message).toContain('too many samples');
    },
    apiError_status_200: (run) =>
      expect(failure(run)).toMatchObject({ errorType: 'bad_data', status: 200, detail: 'custom error message' }),
    emptyError: (run) => {
      const error = failure(run);
      expect(error).toMatchObject({ errorType: 'bad_data', status: 200, detail: null });
      expect(error.message).toBe('Prometheus query "q" failed: bad_data (HTTP 200): no error message');
    },
  };
  it('covers every pint mock case', () => {
    expect(pint.map((c) => c.case).sort()).toEqual(Object.keys(expected).sort());
  });
  for (const mock of pint) {
    it(`pint mock "${mock.case}" (HTTP ${mock.httpStatus})`, () => {
      const check = expected[mock.case];
      if (!check) throw new Error(`no expectation for ${mock.case}`);
      check(() => parseQueryResponse('q', mock.httpStatus, JSON.stringify(mock.body)));
    });
  }
});

describe('parseQueryResponse: the JSON codec cases (NaN, ±Inf, timestamps, native histograms)', () => {
  interface CodecLine {
    status: string;
    data: unknown;
  }
  const lines = fixtureNdjson<CodecLine>('prometheus-api.json-codec-cases.ndjson');

  it('bare [t, "v"] points parse as scalar results, special values included', () => {
    const points = lines.filter((line) => Array.isArray(line.data) && typeof line.data[0] === 'number');
    expect(points).toHaveLength(15);
    const parsed = points.map((line) => {
      const response = parseQueryResponse('q', 200, {
        status: 'success',
        data: { resultType: 'scalar', result: line.data },
      });
      if (response.resultType !== 'scalar') throw new Error('scalar');
      return response.result;
    });
    expect(parsed.map((point) => point.timestamp)).toEqual([
      0, 0.001, 0.01, 0.1, 1.001, 1.01, 1.1, 12345678123456.555, -0.001, 0, 0, 0, 0, 0, 0,
    ]);
    const [nan, plusInf, minusInf, ...rest] = parsed.slice(9).map((point) => point.value);
    expect(nan).toBeNaN();
    expect(plusInf).toBe(Number.POSITIVE_INFINITY);
    expect(minusInf).toBe(Number.NEGATIVE_INFINITY);
    expect(rest).toEqual([1234567.8, 0.0000012345678, 1.2345678e-67]);
  });

  it('vectors and matrices, including a native-histogram matrix', () => {
    const results = lines
      .filter((line) => typeof line.data === 'object' && line.data !== null && 'resultType' in line.data)
      .map((line) => parseQueryResponse('q', 200, line));
    expect(results.map((r) => r.resultType)).toEqual(['vector', 'matrix', 'matrix', 'matrix']);
    const histogramMatrix = results[3];
    if (histogramMatrix?.resultType !== 'matrix') throw new Error('matrix');
    const series = histogramMatrix.result[0];
    expect(series?.values).toEqual([]);
    const histogram = series?.histograms[0]?.histogram;
    expect(histogram).toMatchObject({ count: 10, sum: 20 });
    expect(histogram?.buckets[2]).toEqual({ boundaryRule: 3, lower: -0.001, upper: 0.001, count: 12 });
  });

  it('exemplar payloads are not query results: a typed bad_response with the field path', () => {
    const exemplars = lines.filter((line) => Array.isArray(line.data) && typeof line.data[0] === 'object');
    expect(exemplars).toHaveLength(2);
    for (const line of exemplars) {
      const error = failure(() => parseQueryResponse('q', 200, line));
      expect(error.errorType).toBe('bad_response');
      expect(error.message).toContain('unexpected body at data');
    }
  });
});

describe('parseQueryResponse: everything else a server or proxy sends', () => {
  it('keeps warnings and infos', () => {
    const response = parseQueryResponse('q', 200, {
      status: 'success',
      data: { resultType: 'vector', result: [] },
      warnings: ['PromQL warning: encountered a mix of histograms and floats'],
      infos: ['PromQL info: metric might not be a counter'],
    });
    expect(response.warnings).toEqual(['PromQL warning: encountered a mix of histograms and floats']);
    expect(response.infos).toEqual(['PromQL info: metric might not be a counter']);
  });

  it('string results', () => {
    const response = parseQueryResponse('"hello"', 200, {
      status: 'success',
      data: { resultType: 'string', result: [1795414744.938, 'hello'] },
    });
    expect(response.result).toEqual({ timestamp: 1795414744.938, value: 'hello' });
  });

  it('HTTP 503 with a Prometheus timeout body', () => {
    const error = failure(() =>
      parseQueryResponse('q', 503, {
        status: 'error',
        errorType: 'timeout',
        error: 'query timed out in expression evaluation',
      }),
    );
    expect(error).toMatchObject({ errorType: 'timeout', status: 503 });
  });

  it('HTTP 503 plain text (Prometheus not ready yet) is unavailable', () => {
    const error = failure(() => parseQueryResponse('q', 503, 'Service Unavailable'));
    expect(error).toMatchObject({ errorType: 'unavailable', status: 503 });
    expect(error.message).toBe(
      'Prometheus query "q" failed: unavailable (HTTP 503): non-JSON body: Service Unavailable',
    );
  });

  it('non-JSON bodies and empty bodies are bad_response', () => {
    expect(failure(() => parseQueryResponse('q', 502, '<html>\n<h1>Bad Gateway</h1>\n</html>'))).toMatchObject({
      errorType: 'bad_response',
      status: 502,
      message:
        'Prometheus query "q" failed: bad_response (HTTP 502): non-JSON body: <html> <h1>Bad Gateway</h1> </html>',
    });
    expect(failure(() => parseQueryResponse('q', 200, '')).message).toContain('empty body');
    expect(failure(() => parseQueryResponse('q', 200, '[1,2]')).message).toContain('not a Prometheus API answer');
  });

  it('wrong shapes name the field', () => {
    const bad = (data: unknown) => failure(() => parseQueryResponse('q', 200, { status: 'success', data }));
    expect(bad({ resultType: 'vector', result: [{ metric: {}, value: [1, 'abc'] }] }).message).toContain(
      'unexpected body at data.result[0].value[1]: not a sample value: "abc"',
    );
    expect(bad({ resultType: 'vector', result: [{ metric: {}, value: [1, 2] }] }).message).toContain(
      'data.result[0].value[1]',
    );
    expect(bad({ resultType: 'histogram', result: [] }).message).toContain('data.resultType');
    expect(bad({ resultType: 'scalar', result: ['1', '1'] }).message).toContain('data.result[0]');
  });

  it('an error status with a success body is not trusted', () => {
    const error = failure(() =>
      parseQueryResponse('q', 500, { status: 'success', data: { resultType: 'vector', result: [] } }),
    );
    expect(error).toMatchObject({ errorType: 'bad_response', status: 500 });
  });

  it('long queries are cut in the message', () => {
    const query = `sum(rate(${'x'.repeat(400)}[5m]))`;
    const error = failure(() => parseQueryResponse(query, 400, { status: 'error', errorType: 'bad_data', error: 'e' }));
    expect(error.message.length).toBeLessThan(260);
    expect(error.message).toContain('..."');
  });
});

import { randomBytes } from 'node:crypto';
import { BurstPolicy, SloPolicy } from '@spillway/model';
import type { RunningAlertmanager } from '@spillway/test/support/alertmanager';
import { INFRA_SLO_RULES, startInfraAlerting } from '@spillway/test/support/infra-alerting';
import { type MetricsTarget, startMetricsTarget } from '@spillway/test/support/metrics-target';
import type { RunningPrometheus } from '@spillway/test/support/prometheus';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertmanagerNotification,
  matchAlerts,
  PrometheusClient,
  PrometheusQueryError,
  parseAlertmanagerWebhook,
  readRateHistory,
  SloEvaluator,
  type SloSignal,
} from '../src/index.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

/**
 * The whole signal path with real parts: a test service's /metrics → the real Prometheus 2.42
 * with infra/prometheus/spillway-slo-rules.yml (scrape and evaluation every 1s) → SloEvaluator;
 * and the rules' alerts → the real Alertmanager 0.25 with infra/alertmanager/alertmanager.yml →
 * its webhook → parseAlertmanagerWebhook.
 *
 * The rule windows (5m … 6h) are far longer than this test, so every window holds the whole
 * test: the error ratio is errors/requests since the start. Raising the error ratio breaches at
 * once; to recover within seconds the test sends a large volume of clean traffic, which brings
 * the ratio below the recover line (0.8 × 14.4 × 0.001) as hours of clean traffic would.
 *
 * The `it`s run in order and share the processes (one start for the file).
 */

const SERVICE = 'checkout.shop';
const ratio = (window: string, service = SERVICE) =>
  `service:http_requests_errors:ratio_rate${window}{service="${service}"}`;
const p99 = (service = SERVICE) => `service:http_request_duration_seconds:p99_rate5m{service="${service}"}`;

/** The page condition of the rules, as a Spillway SLO policy. */
function sloFor(service: string): SloPolicy {
  return SloPolicy.parse({
    latency: { query: p99(service), thresholdSeconds: 0.5 },
    errorBudget: {
      objective: 0.999,
      windows: [
        { name: '1h', query: ratio('1h', service), burnRate: 14.4 },
        { name: '5m', query: ratio('5m', service), burnRate: 14.4 },
      ],
    },
  });
}

const policies = [
  BurstPolicy.parse({
    service: SERVICE,
    triggers: { alerts: [{ alertname: 'SpillwayErrorBudgetBurn', labels: { service: SERVICE, severity: 'page' } }] },
    capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 },
  }),
];

const token = randomBytes(16).toString('hex');
let target: MetricsTarget | undefined;
let receiver: WebhookReceiver | undefined;
let alertmanager: RunningAlertmanager | undefined;
let prometheus: RunningPrometheus | undefined;
let client: PrometheusClient;
let evaluator: SloEvaluator;

beforeAll(async () => {
  target = await startMetricsTarget({
    [SERVICE]: { requestsPerSecond: 100, errorRatio: 0, latencySeconds: 0.07 },
    'idle.shop': { requestsPerSecond: 0 },
  });
  receiver = await startWebhookReceiver();
  ({ alertmanager, prometheus } = await startInfraAlerting({
    webhookUrl: receiver.url,
    webhookToken: token,
    scrapeTarget: target.url,
  }));
  client = new PrometheusClient({ baseUrl: prometheus.url, timeoutMs: 10_000 });
  evaluator = new SloEvaluator(client);
});

afterAll(async () => {
  // Each stop runs even if another fails; none throws when its start never happened.
  const results = await Promise.allSettled([
    prometheus?.stop(),
    alertmanager?.stop(),
    receiver?.close(),
    target?.stop(),
  ]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
});

/** Evaluates until the signal satisfies `accept`; on timeout, says what it last saw. */
async function signalWhere(slo: SloPolicy, accept: (signal: SloSignal) => boolean, what: string): Promise<SloSignal> {
  let last: SloSignal | undefined;
  try {
    return await waitFor(
      async () => {
        last = await evaluator.evaluate(slo);
        return accept(last) ? last : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: what },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last signal: ${JSON.stringify(last)}`);
  }
}

/** The page alert for SERVICE in a delivery, with the delivery parsed. */
function pageAlertIn(body: unknown): { notification: AlertmanagerNotification; status: string } | undefined {
  const notification = parseAlertmanagerWebhook(body);
  const alert = notification.alerts.find(
    (a) =>
      a.labels['alertname'] === 'SpillwayErrorBudgetBurn' &&
      a.labels['severity'] === 'page' &&
      a.labels['service'] === SERVICE,
  );
  return alert ? { notification, status: alert.status } : undefined;
}

describe('real Prometheus 2.42 with the infra rules, real Alertmanager 0.25 with the infra receiver', () => {
  it('loads every rule of infra/prometheus/spillway-slo-rules.yml and evaluates it without error', async () => {
    const rules = await waitFor(
      async () => {
        const response = await fetch(`${prometheus?.url}/api/v1/rules`);
        const body = (await response.json()) as {
          data: {
            groups: Array<{
              name: string;
              file: string;
              rules: Array<{ name: string; health: string; lastError?: string }>;
            }>;
          };
        };
        const all = body.data.groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((r) => r.health === 'ok') ? body.data.groups : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, message: 'every rule evaluated with health ok' },
    );
    expect(rules.map((g): [string, number] => [g.name, g.rules.length]).sort()).toEqual([
      ['spillway-slo-alerts', 3],
      ['spillway-slo-recording', 13],
    ]);
    expect(new Set(rules.map((g) => g.file))).toEqual(new Set([INFRA_SLO_RULES]));
  });

  it('the client reads every result shape and typed error from the real server', async () => {
    const scalar = async (query: string) => {
      const response = await client.query(query);
      if (response.resultType !== 'scalar') throw new Error(`expected a scalar for ${query}`);
      return response.result.value;
    };
    expect(await scalar('0/0')).toBeNaN();
    expect(await scalar('1/0')).toBe(Number.POSITIVE_INFINITY);
    expect(await scalar('-1/0')).toBe(Number.NEGATIVE_INFINITY);
    expect(await scalar('scalar(vector(0.25))')).toBe(0.25);
    await expect(client.query('"hello"')).resolves.toMatchObject({ resultType: 'string', result: { value: 'hello' } });
    await expect(client.query('vector(1) + 1', { time: 1_700_000_000 })).resolves.toMatchObject({
      resultType: 'vector',
      result: [{ metric: {}, timestamp: 1_700_000_000, value: 2 }],
    });
    await expect(client.query('up{job="no-such-job"}')).resolves.toMatchObject({ resultType: 'vector', result: [] });
    const up = await waitFor(
      async () => {
        const response = await client.query('up[30s]');
        return response.resultType === 'matrix' && (response.result[0]?.values.length ?? 0) >= 2 ? response : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, message: 'two scrapes of the target' },
    );
    expect(up.result[0]?.metric).toMatchObject({ job: 'target-0' });

    const bad = await client.query('rate(http_requests_total[5').catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(PrometheusQueryError);
    expect(bad).toMatchObject({ errorType: 'bad_data', status: 400 });
    expect((bad as Error).message).toMatch(
      /^Prometheus query "rate\(http_requests_total\[5" failed: bad_data \(HTTP 400\): /,
    );

    // No server-side timeout or 422 here: Prometheus 2.42 does not stop a huge subquery at its
    // `timeout` (it ran 18 s, then answered 422), which would load the machine for every other
    // test. Those answers are covered with their recorded bodies in prometheus-client.test.ts.
  });

  it('the client reads a range query as a matrix from the real server (the predictive history)', async () => {
    const end = Math.floor(Date.now() / 1000) * 1000;
    const answer = await client.queryRange('vector(2)', { start: end - 60_000, end, stepSeconds: 15 });
    expect(answer.series).toHaveLength(1);
    expect(answer.series[0]?.values).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({ timestamp: (end - 60_000) / 1000 + i * 15, value: 2 })),
    );
    const points = await readRateHistory(client, { query: 'vector(2)', now: end, historySeconds: 60, stepSeconds: 15 });
    expect(points.map((point) => point.at)).toEqual([0, 1, 2, 3, 4].map((i) => end - 60_000 + i * 15_000));
    // The real server refuses more than 11,000 points per series; the client refuses before asking.
    const response = await fetch(`${prometheus?.url}/api/v1/query_range?query=vector(1)&start=0&end=20000&step=1`);
    expect(response.status).toBe(400);
    await expect(client.queryRange('vector(1)', { start: 0, end: 20_000_000, stepSeconds: 1 })).rejects.toMatchObject({
      errorType: 'bad_data',
      status: null,
    });
  });

  it('no series, and no traffic (0/0 = NaN), are unknown: no evidence either way', async () => {
    expect((await evaluator.evaluate(sloFor('ghost.shop'))).state).toBe('unknown');
    const idle = await signalWhere(
      sloFor('idle.shop'),
      (s) => s.reason.includes('no traffic (NaN)'),
      'idle.shop ratios to be NaN',
    );
    expect(idle.state).toBe('unknown');
    expect(idle.values).toEqual({ latencySeconds: null, errorRatios: { '1h': null, '5m': null } });
  });

  it('a query error is unknown with the error in the reason', async () => {
    const broken = SloPolicy.parse({
      errorBudget: { objective: 0.999, windows: [{ name: '5m', query: 'sum(rate(x[5', burnRate: 14.4 }] },
    });
    const signal = await evaluator.evaluate(broken);
    expect(signal.state).toBe('unknown');
    expect(signal.reason).toMatch(
      /^query failed: 5m: Prometheus query "sum\(rate\(x\[5" failed: bad_data \(HTTP 400\)/,
    );
  });

  it('clean traffic: recovered (every part below its recover line), latency from the histogram', async () => {
    const signal = await signalWhere(sloFor(SERVICE), (s) => s.state === 'recovered', `${SERVICE} recovered`);
    expect(signal.values.errorRatios).toEqual({ '1h': 0, '5m': 0 });
    // 70 ms lands in the (0.05, 0.1] bucket: p99 interpolates to 0.0995.
    expect(signal.values.latencySeconds).toBeCloseTo(0.0995, 6);
  });

  it('errors rise: breached, and the page alert reaches the webhook as firing', async () => {
    target?.set(SERVICE, { errorRatio: 0.5 });
    const signal = await signalWhere(sloFor(SERVICE), (s) => s.state === 'breached', `${SERVICE} breached`);
    expect(signal.values.errorRatios?.['5m']).toBeGreaterThan(0.0144);
    expect(signal.reason).toContain('every window burning');

    const delivery = await waitFor(() => receiver?.deliveries.find((d) => pageAlertIn(d.body)?.status === 'firing'), {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: 'a firing webhook for the page alert',
    });
    expect(delivery.method).toBe('POST');
    expect(delivery.path).toBe('/v1/alerts/alertmanager');
    expect(delivery.headers['authorization']).toBe(`Bearer ${token}`);
    expect(delivery.headers['user-agent']).toMatch(/^Alertmanager\/0\.25/);
    expect(delivery.headers['content-type']).toBe('application/json');

    const notification = parseAlertmanagerWebhook(delivery.body);
    expect(notification).toMatchObject({
      version: '4',
      receiver: 'spillway',
      status: 'firing',
      groupLabels: { alertname: 'SpillwayErrorBudgetBurn', service: SERVICE },
      truncated: false,
    });
    const page = notification.alerts.find((a) => a.labels['severity'] === 'page');
    expect(page).toMatchObject({
      status: 'firing',
      endsAt: null,
      labels: { alertname: 'SpillwayErrorBudgetBurn', service: SERVICE, slo: 'availability', long_window: '1h' },
    });
    expect(page?.annotations['summary']).toBe(`${SERVICE} is burning its 99.9% error budget at over 14.4x`);
    expect(page?.generatorURL).toContain('/graph?g0.expr=');

    const { matched, unmatched } = matchAlerts(notification.alerts, policies);
    expect(matched.map((m) => [m.alert.labels['severity'], m.services])).toEqual([['page', [SERVICE]]]);
    // The ticket alert of the same burn fires too (6h and 30m over 6x) and no policy wants it.
    expect(unmatched.map((a) => a.labels['severity'])).toEqual(notification.alerts.length === 2 ? ['ticket'] : []);
  });

  it('errors fall: recovered, and the webhook says resolved (send_resolved)', async () => {
    const before = receiver?.deliveries.length ?? 0;
    target?.set(SERVICE, { errorRatio: 0, requestsPerSecond: 500_000 });
    const signal = await signalWhere(sloFor(SERVICE), (s) => s.state === 'recovered', `${SERVICE} recovered again`);
    expect(signal.values.errorRatios?.['1h']).toBeLessThan(0.8 * 0.0144);

    const delivery = await waitFor(
      () => receiver?.deliveries.slice(before).find((d) => pageAlertIn(d.body)?.status === 'resolved'),
      { timeoutMs: 30_000, intervalMs: 100, message: 'a webhook with the page alert resolved' },
    );
    const notification = parseAlertmanagerWebhook(delivery.body);
    const page = notification.alerts.find((a) => a.labels['severity'] === 'page');
    expect(page?.status).toBe('resolved');
    expect(page?.endsAt).toBeInstanceOf(Date);
    expect(page?.endsAt?.getTime()).toBeGreaterThanOrEqual(page?.startsAt.getTime() ?? Number.POSITIVE_INFINITY);
    expect(matchAlerts([page!], policies).matched[0]?.services).toEqual([SERVICE]);
  });
});

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAlertmanager } from '@spillway/test/support/alertmanager';
import { startMetricsTarget } from '@spillway/test/support/metrics-target';
import { startPrometheus } from '@spillway/test/support/prometheus';
import { afterEach, describe, expect, it } from 'vitest';

/** The harnesses themselves: a bad file fails the start with the server's own words. */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempFile(name: string, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-harness-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

describe('test harnesses', () => {
  it('the real Prometheus refuses a bad rule file, and the start fails with its log', async () => {
    const rules = await tempFile(
      'bad.yml',
      'groups:\n  - name: bad\n    rules:\n      - record: no:colon:ok\n        expr: sum(rate(x[5m]\n',
    );
    const started = startPrometheus({ ruleFiles: [rules] });
    started.then((p) => cleanups.push(() => p.stop())).catch(() => undefined);
    const error = await started.then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    expect(error?.message).toMatch(/^prometheus did not start: exited with 1/);
    expect(error?.message).toContain('--- prometheus output ---');
    expect(error?.message).toMatch(/parse error|unclosed left parenthesis/);
  });

  it('the real Alertmanager refuses a bad config the same way', async () => {
    const error = await startAlertmanager({ config: { route: { receiver: 'missing' }, receivers: [] } }).then(
      (am) => {
        cleanups.push(() => am.stop());
        return undefined;
      },
      (caught: unknown) => caught as Error,
    );
    expect(error?.message).toMatch(/^alertmanager did not start: exited with 1/);
    expect(error?.message).toMatch(/undefined receiver .*missing/);
  });

  it('Prometheus runs on a free loopback port with its config in a temp dir, removed by stop()', async () => {
    const target = await startMetricsTarget({ 'a.b': { requestsPerSecond: 10 } });
    cleanups.push(() => target.stop());
    const prometheus = await startPrometheus({ scrapeTargets: [target.url] });
    cleanups.push(() => prometheus.stop());
    expect(prometheus.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const config = JSON.parse(await readFile(join(prometheus.dir, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ metrics_path: string; static_configs: Array<{ targets: string[] }> }>;
    };
    expect(config.scrape_configs[0]).toMatchObject({
      metrics_path: '/metrics',
      static_configs: [{ targets: [target.hostPort] }],
    });
    expect((await fetch(`${prometheus.url}/-/ready`)).status).toBe(200);
    await prometheus.stop();
    expect(existsSync(prometheus.dir)).toBe(false);
    await expect(fetch(`${prometheus.url}/-/ready`)).rejects.toThrow();
    await prometheus.stop(); // idempotent
  });

  it('the metrics target exposes every series from 0 and counts with time', async () => {
    const target = await startMetricsTarget({ 'a.b': { requestsPerSecond: 0 } });
    cleanups.push(() => target.stop());
    const first = await (await fetch(target.url)).text();
    expect(first).toContain('http_requests_total{service="a.b",code="200"} 0');
    expect(first).toContain('http_requests_total{service="a.b",code="500"} 0');
    expect(first).toContain('http_request_duration_seconds_bucket{service="a.b",le="+Inf"} 0');
    target.set('a.b', { requestsPerSecond: 1_000_000, errorRatio: 0.25 });
    const totals = target.totals('a.b');
    // Whatever time passed, errors are a quarter of all requests.
    expect(totals.errors * 3).toBeCloseTo(totals.ok, 3);
  });
});

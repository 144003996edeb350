import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { api, type Json, postBurst, startHarness, TOKENS } from './controller-harness.js';
import { type WebhookAlert, webhookBody } from './support/webhook-body.js';

/**
 * The webhook against the controller (in-memory stores, cloud fakes over HTTP), as Alertmanager
 * posts it: what reaches the alert book, what the audit records, what an outsider with the
 * webhook credential can and cannot grow.
 */

type Harness = Awaited<ReturnType<typeof startHarness>>;
let harness: Harness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const SERVICE = 'checkout.shop';
const MiB = 1024 * 1024;

async function post(url: string, alerts: readonly WebhookAlert[], group: Parameters<typeof webhookBody>[1] = {}) {
  const response = await api(url, 'POST', '/v1/alerts/alertmanager', webhookBody(alerts, group), TOKENS.webhook);
  expect(response.status).toBe(200);
  return response.body as Json;
}

async function audit(url: string, query = ''): Promise<Json[]> {
  return (await api(url, 'GET', `/v1/audit?limit=500${query}`)).body.entries as Json[];
}

function unmatchedAlerts(count: number, names: number, offset = 0): WebhookAlert[] {
  return Array.from({ length: count }, (_, i) => ({
    labels: { alertname: `Noise${(i % names) + offset}`, instance: `host-${i}`, job: 'node' },
    startsAt: new Date(Date.now() - 60_000),
  }));
}

describe('unmatched alerts are summarised, never stored one by one', () => {
  it('one audit entry per post, counted per alertname with a bounded list of names, no labels', async () => {
    harness = await startHarness({}, { bodyLimit: MiB });
    const { url } = harness;
    const operator = await postBurst(url, { share: 0.1, reason: 'ops' });
    expect(operator.status).toBe(202);

    // 7 posts of 2,000 alerts (14,000, as in the report), 30 alertnames each.
    for (let i = 0; i < 7; i++) await post(url, unmatchedAlerts(2_000, 30));
    const summaries = (await audit(url)).filter((e) => e.kind === 'signal' && e.service === undefined);
    expect(summaries).toHaveLength(7);
    const [summary] = summaries;
    expect(summary.message).toMatch(
      /^2000 alerts matched no policy: alertname=Noise\d+ ×67, (alertname=Noise\d+ ×67, ){9}20 other names ×1330; ignored$/,
    );
    expect(summary.details).toMatchObject({ count: 2000, otherNames: 20, otherAlerts: 1330 });
    expect(summary.details.byAlertname).toHaveLength(10);
    expect(JSON.stringify(summary)).not.toContain('host-');
    expect(JSON.stringify(summary).length).toBeLessThan(2_000);
    // The operator's entry is still there, next to 7 lines of noise.
    const trail = await audit(url, `&service=${SERVICE}`);
    expect(trail.find((e) => e.kind === 'api' && e.actor === 'operator')).toBeDefined();

    // The metric keeps a bounded set of series whatever names arrive.
    await post(url, unmatchedAlerts(200, 200, 1_000));
    await post(url, [{ labels: { alertname: 'bad name {}' }, startsAt: new Date() }]);
    const metrics = await harness.registry.getSingleMetric('spillway_alerts_unmatched_total')?.get();
    const series = metrics?.values ?? [];
    expect(series.length).toBeLessThanOrEqual(51);
    expect(series.find((s) => s.labels['alertname'] === 'Noise0')?.value).toBe(7 * 67);
    expect(series.find((s) => s.labels['alertname'] === 'other')?.value).toBe(200 - 20 + 1);
    expect(series.reduce((sum, s) => sum + s.value, 0)).toBe(14_000 + 201);
  });

  it('a megabyte label reaches neither the audit nor the alert book', async () => {
    harness = await startHarness({}, { bodyLimit: MiB });
    const { url } = harness;
    // Close to production's 1 MiB body limit, one alert per post.
    const huge = 'x'.repeat(1_000_000);
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20; i++) {
      await post(url, [{ labels: { alertname: 'Noise', blob: huge, i: String(i) }, startsAt: new Date() }]);
      // Each in a group of its own (a notification lists its whole group).
      await post(
        url,
        [
          {
            labels: { alertname: 'SpillwayErrorBudgetBurn', service: SERVICE, blob: huge, i: String(i) },
            startsAt: new Date(Date.now() - 60_000),
          },
        ],
        { groupLabels: { i: String(i) } },
      );
    }
    const stored = JSON.stringify(await audit(url));
    expect(stored.length).toBeLessThan(64 * 1024);
    const book = await harness.running.stores.alerts.firing(SERVICE, Date.now());
    expect(book).toHaveLength(20);
    expect(JSON.stringify(book).length).toBeLessThan(20 * 300);
    console.info(
      `40 posts with a 1 MB label each: audit ${stored.length} bytes, alert book ${JSON.stringify(book).length} bytes, ` +
        `heap ${((process.memoryUsage().heapUsed - heapBefore) / MiB).toFixed(1)} MiB more (before GC)`,
    );
  });
});

describe('a late "resolved" from an earlier episode', () => {
  it('is ignored: the live burst keeps holding until its own episode resolves', async () => {
    harness = await startHarness();
    const { url } = harness;
    const labels = { alertname: 'SpillwayErrorBudgetBurn', service: SERVICE };
    const fingerprint = '0f1e2d3c4b5a6978';
    const episodeStart = new Date(Date.now() - 60_000);
    await post(url, [{ labels, fingerprint, startsAt: episodeStart }]);
    const burst = await waitFor(
      async () => {
        const active = ((await api(url, 'GET', '/v1/bursts?active=true')).body.bursts as Json[])[0];
        return active?.phase === 'holding' ? active : undefined;
      },
      { timeoutMs: 20_000, message: 'the burst holding at 0.3' },
    );

    // The earlier episode's resolve, delivered late: it started and ended before this one.
    await post(url, [
      {
        labels,
        fingerprint,
        status: 'resolved',
        startsAt: new Date(episodeStart.getTime() - 3_600_000),
        endsAt: new Date(episodeStart.getTime() - 600_000),
      },
    ]);
    const said = (await audit(url, `&service=${SERVICE}`)).find((e) => e.kind === 'signal');
    expect(said.message).toBe('alerts firing: SpillwayErrorBudgetBurn; 1 older than the episode held, ignored');
    // Past the cooldown (1 s) and dwell (1 s), the burst still holds and nothing moved.
    const ignoredAt = Date.now();
    await waitFor(() => Date.now() - ignoredAt > 3_000, { message: 'cooldown and dwell passed' });
    await harness.running.controller.settled();
    expect((await api(url, 'GET', `/v1/bursts/${burst.id}`)).body).toMatchObject({ phase: 'holding', share: 0.3 });
    expect(harness.traffic.get(SERVICE)?.cloudShare).toBe(0.3);

    // This episode's own resolve ends it.
    await post(url, [{ labels, fingerprint, status: 'resolved', startsAt: episodeStart, endsAt: new Date() }]);
    await waitFor(() => (harness!.traffic.get(SERVICE)?.cloudShare ?? 0) === 0, {
      timeoutMs: 20_000,
      message: 'share back to 0',
    });
  });
});

describe('a notification lists its whole group', () => {
  it('an alert of the group it no longer lists has stopped firing (its "resolved" was lost)', async () => {
    harness = await startHarness();
    const { url } = harness;
    const labels = (instance: string) => ({ alertname: 'SpillwayErrorBudgetBurn', service: SERVICE, instance });
    const group = { groupLabels: { alertname: 'SpillwayErrorBudgetBurn', service: SERVICE } };
    const startsAt = new Date(Date.now() - 60_000);
    await post(
      url,
      [
        { labels: labels('a'), startsAt },
        { labels: labels('b'), startsAt },
      ],
      group,
    );
    const firing = () => harness!.running.stores.alerts.firing(SERVICE, Date.now());
    expect(await firing()).toHaveLength(2);
    // Alertmanager's next notification of the group (repeat_interval) lists only a.
    await post(url, [{ labels: labels('a'), startsAt }], group);
    expect(await firing()).toHaveLength(1);
    // Another group's notification says nothing about this group's alerts.
    await post(url, [{ labels: { alertname: 'Other' }, startsAt }], { groupLabels: { alertname: 'Other' } });
    expect(await firing()).toHaveLength(1);
    await post(url, [], group);
    expect(await firing()).toEqual([]);
  });
});

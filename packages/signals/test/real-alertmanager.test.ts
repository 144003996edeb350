import { BurstPolicy } from '@spillway/model';
import { Registry } from '@spillway/observability';
import { type RunningAlertmanager, startAlertmanager } from '@spillway/test/support/alertmanager';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerIntake, parseAlertmanagerWebhook } from '../src/index.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

/**
 * The real Alertmanager 0.25 fed through its own API (POST /api/v2/alerts), as any alert source
 * would, with `max_alerts: 2` so that a three-alert group arrives truncated.
 */

const SERVICE = 'lobby.games';
const policies = [
  BurstPolicy.parse({
    service: SERVICE,
    triggers: { alerts: [{ alertname: 'LobbyOverloaded', labels: { service: SERVICE } }] },
    capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 },
  }),
];

let receiver: WebhookReceiver | undefined;
let alertmanager: RunningAlertmanager | undefined;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  alertmanager = await startAlertmanager({
    webhookUrl: receiver.url,
    groupBy: ['alertname', 'service'],
    groupWait: '1s',
    groupInterval: '1s',
    maxAlerts: 2,
    bearerToken: 'am-test-token',
  });
});

afterAll(async () => {
  const results = await Promise.allSettled([alertmanager?.stop(), receiver?.close()]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
});

/** Three alerts of one group (alertname + service), differing by instance. */
function alerts(endsAt: Date): unknown[] {
  return ['a', 'b', 'c'].map((instance) => ({
    labels: { alertname: 'LobbyOverloaded', service: SERVICE, instance, severity: 'page' },
    annotations: { summary: `lobby ${instance} overloaded` },
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: endsAt.toISOString(),
    generatorURL: 'http://prometheus.example/graph?g0.expr=up&g0.tab=1',
  }));
}

async function push(body: unknown[]): Promise<void> {
  const response = await fetch(`${alertmanager?.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

describe('real Alertmanager 0.25: alerts pushed through its API reach the webhook', () => {
  it('a firing group of three, truncated to two, then resolved', async () => {
    const registry = new Registry();
    const intake = new AlertmanagerIntake({ policies, registry });

    await push(alerts(new Date(Date.now() + 10 * 60_000)));
    const firing = await waitFor(
      () => receiver?.deliveries.find((d) => (d.body as { status?: string }).status === 'firing'),
      { timeoutMs: 20_000, intervalMs: 50, message: 'a firing notification' },
    );
    expect(firing.headers['authorization']).toBe('Bearer am-test-token');

    const accepted = intake.accept(firing.body);
    expect(accepted.notification).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'test-webhook',
      truncatedAlerts: 1,
      truncated: true,
      groupLabels: { alertname: 'LobbyOverloaded', service: SERVICE },
      commonLabels: { alertname: 'LobbyOverloaded', service: SERVICE, severity: 'page' },
    });
    expect(accepted.notification.alerts).toHaveLength(2);
    for (const alert of accepted.notification.alerts) {
      expect(alert).toMatchObject({ status: 'firing', statusFromGroup: false, endsAt: null });
      expect(alert.fingerprint).toMatch(/^[0-9a-f]{16}$/);
      // Alertmanager keeps the `&` (Go escapes it as \u0026 on the wire; JSON decodes it back).
      expect(alert.generatorURL).toBe('http://prometheus.example/graph?g0.expr=up&g0.tab=1');
    }
    // Two real alerts and the stand-in for the dropped one, all triggering the lobby policy.
    expect(
      accepted.matched.map((m) => [m.alert.synthetic, m.alert.labels['instance'] ?? '(common)', m.services]),
    ).toEqual([
      [false, expect.any(String), [SERVICE]],
      [false, expect.any(String), [SERVICE]],
      [true, '(common)', [SERVICE]],
    ]);
    expect(accepted.unmatched).toEqual([]);

    // endsAt now: Alertmanager resolves them and, with send_resolved, says so.
    await push(alerts(new Date()));
    const resolved = await waitFor(
      () => receiver?.deliveries.find((d) => (d.body as { status?: string }).status === 'resolved'),
      { timeoutMs: 20_000, intervalMs: 50, message: 'a resolved notification' },
    );
    const notification = parseAlertmanagerWebhook(resolved.body);
    expect(notification).toMatchObject({
      status: 'resolved',
      truncatedAlerts: 1,
      groupKey: accepted.notification.groupKey,
    });
    for (const alert of notification.alerts) {
      expect(alert.status).toBe('resolved');
      expect(alert.endsAt).toBeInstanceOf(Date);
    }
    // A resolved truncated group adds no stand-in: nothing is still firing.
    expect(intake.accept(resolved.body).matched).toHaveLength(2);
    expect(await registry.metrics()).toContain('spillway_alertmanager_webhook_truncated_groups_total 2');
  });

  it('an alert that no policy names is recorded as unmatched', async () => {
    const before = receiver?.deliveries.length ?? 0;
    await push([
      {
        labels: { alertname: 'DiskFull', service: SERVICE, instance: 'db-1' },
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 10 * 60_000).toISOString(),
      },
    ]);
    const delivery = await waitFor(
      () =>
        receiver?.deliveries
          .slice(before)
          .find((d) => (d.body as { groupLabels?: Record<string, string> }).groupLabels?.['alertname'] === 'DiskFull'),
      { timeoutMs: 20_000, intervalMs: 50, message: 'the DiskFull notification' },
    );
    const accepted = new AlertmanagerIntake({ policies }).accept(delivery.body);
    expect(accepted.matched).toEqual([]);
    expect(accepted.unmatched.map((a) => a.labels['alertname'])).toEqual(['DiskFull']);
    // The real body has no per-alert extras the parser fails on, and no truncation.
    expect(accepted.notification.truncated).toBe(false);
  });
});

import { BurstPolicy } from '@spillway/model';
import { Registry } from '@spillway/observability';
import { fixtureJson } from '@spillway/test/fixtures';
import { describe, expect, it } from 'vitest';
import {
  AlertmanagerIntake,
  AlertmanagerWebhookError,
  effectiveAlerts,
  matchAlerts,
  parseAlertmanagerWebhook,
  parseRfc3339,
} from '../src/index.js';

function rejection(body: unknown): AlertmanagerWebhookError {
  try {
    parseAlertmanagerWebhook(body);
  } catch (error) {
    if (error instanceof AlertmanagerWebhookError) return error;
    throw error;
  }
  throw new Error('expected an AlertmanagerWebhookError');
}

const capturedFiring = fixtureJson<Record<string, unknown>>('alertmanager-0.25-webhook.firing.captured.json');

const policy = (service: string, triggers: Array<{ alertname: string; labels?: Record<string, string> }>) =>
  BurstPolicy.parse({
    service,
    triggers: { alerts: triggers },
    capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 },
  });

describe('parseAlertmanagerWebhook: recorded bodies', () => {
  it('Alertmanager 0.25 firing capture', () => {
    const notification = parseAlertmanagerWebhook(capturedFiring);
    expect(notification).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'spillway',
      groupKey: '{}:{alertname="SLOBurnRateHigh", service="matchmaking"}',
      groupLabels: { alertname: 'SLOBurnRateHigh', service: 'matchmaking' },
      truncatedAlerts: 0,
      truncated: false,
      externalURL: 'http://vm:9093',
    });
    expect(notification.alerts).toEqual([
      {
        status: 'firing',
        statusFromGroup: false,
        labels: {
          alertname: 'SLOBurnRateHigh',
          namespace: 'games',
          service: 'matchmaking',
          severity: 'page',
          spillway_policy: 'matchmaking-burst',
        },
        annotations: {
          runbook_url: 'https://runbooks.example.com/spillway/burst',
          summary: 'matchmaking p99 latency burning error budget at 14.4x',
        },
        startsAt: new Date('2026-11-22T10:59:20.292Z'),
        endsAt: null, // Go zero time
        generatorURL: 'http://vm:9090/graph?g0.expr=vector%28time%28%29+%25+40%29+%3C+20&g0.tab=1',
        fingerprint: '1ba2b94c9000dcf3',
      },
    ]);
  });

  it('Alertmanager 0.25 resolved capture: endsAt set', () => {
    const notification = parseAlertmanagerWebhook(fixtureJson('alertmanager-0.25-webhook.resolved.captured.json'));
    expect(notification.status).toBe('resolved');
    expect(notification.alerts[0]).toMatchObject({
      status: 'resolved',
      endsAt: new Date('2026-11-22T10:59:40.292Z'),
      fingerprint: '1ba2b94c9000dcf3',
    });
  });

  it('the captured request headers say JSON, from Alertmanager 0.25, and fit the body size', () => {
    const { headers } = fixtureJson<{ headers: Record<string, string> }>(
      'alertmanager-0.25-webhook.request-headers.captured.json',
    );
    expect(headers['content-type']).toBe('application/json');
    expect(headers['user-agent']).toMatch(/^Alertmanager\/0\.25/);
    // The firing body as Alertmanager sent it: Go's encoding/json, compact, with &, < and >
    // escaped as \u0026 etc. (the generatorURL's `&`) and a trailing newline.
    const goJson = `${JSON.stringify(capturedFiring).replace(/[&<>]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)}\n`;
    expect(Number(headers['content-length'])).toBe(Buffer.byteLength(goJson));
    expect(parseAlertmanagerWebhook(JSON.parse(goJson)).alerts[0]?.generatorURL).toContain('&g0.tab=1');
  });

  it('the published v4 sample (double-escaped generatorURL kept as sent)', () => {
    const notification = parseAlertmanagerWebhook(fixtureJson('alertmanager-webhook-v4.firing.json'));
    expect(notification.alerts).toHaveLength(1);
    expect(notification.alerts[0]?.labels['alertname']).toBe('ProbeFailure');
    expect(notification.alerts[0]?.generatorURL).toContain('\\u0026');
    expect(notification.alerts[0]?.startsAt.toISOString()).toBe('2023-02-06T13:08:45.828Z');
  });

  it('the legacy body: no per-alert status (falls back to the group), nanoseconds and an offset', () => {
    const notification = parseAlertmanagerWebhook(
      fixtureJson('alertmanager-webhook-v4.legacy-two-alerts.prometheus-msteams.json'),
    );
    expect(notification.truncatedAlerts).toBe(0);
    expect(notification.alerts.map((a) => [a.labels['alertname'], a.status, a.statusFromGroup])).toEqual([
      ['high_memory_load', 'firing', true],
      ['high_memory_load2', 'firing', true],
    ]);
    // 2018-03-07T06:33:21.873077559-05:00
    expect(notification.alerts[0]?.startsAt.toISOString()).toBe('2018-03-07T11:33:21.873Z');
    expect(notification.alerts[0]).toMatchObject({ endsAt: null, fingerprint: null, generatorURL: null });
  });
});

describe('parseAlertmanagerWebhook: edge cases', () => {
  it('RFC 3339 with 0 to 9 fraction digits, Z or offsets', () => {
    expect(parseRfc3339('2026-11-22T10:59:20Z')?.toISOString()).toBe('2026-11-22T10:59:20.000Z');
    expect(parseRfc3339('2026-11-22T10:59:20.5Z')?.toISOString()).toBe('2026-11-22T10:59:20.500Z');
    expect(parseRfc3339('2026-11-22T10:59:20.123456789+02:00')?.toISOString()).toBe('2026-11-22T08:59:20.123Z');
    expect(parseRfc3339('2026-11-22 10:59:20Z')).not.toBeNull();
    expect(parseRfc3339('22/11/2026')).toBeNull();
    expect(parseRfc3339('2026-13-45T10:59:20Z')).toBeNull();
  });

  it('ignores unknown extra fields at every level', () => {
    const notification = parseAlertmanagerWebhook({
      ...capturedFiring,
      newTopLevel: { anything: true },
      alerts: [{ ...(capturedFiring['alerts'] as object[])[0], silencedBy: [], newField: 1 }],
    });
    expect(notification.alerts).toHaveLength(1);
    expect(notification).not.toHaveProperty('newTopLevel');
  });

  it('records a truncated group and stands in for the dropped alerts with commonLabels', () => {
    const notification = parseAlertmanagerWebhook({ ...capturedFiring, truncatedAlerts: 3 });
    expect(notification).toMatchObject({ truncated: true, truncatedAlerts: 3 });
    const alerts = effectiveAlerts(notification);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({
      synthetic: true,
      status: 'firing',
      labels: notification.commonLabels,
      endsAt: null,
    });
    // A resolved truncated group asks for nothing more.
    const resolved = parseAlertmanagerWebhook({
      ...fixtureJson<object>('alertmanager-0.25-webhook.resolved.captured.json'),
      truncatedAlerts: 2,
    });
    expect(effectiveAlerts(resolved)).toHaveLength(1);
  });

  it.each([
    ['a string', 'hello', '(root)'],
    ['null', null, '(root)'],
    ['an array', [capturedFiring], '(root)'],
    ['version 3', { ...capturedFiring, version: '3' }, 'version'],
    ['version as a number', { ...capturedFiring, version: 4 }, 'version'],
    ['no version', { ...capturedFiring, version: undefined }, 'version'],
    ['a bad group status', { ...capturedFiring, status: 'pending' }, 'status'],
    ['no alerts', { ...capturedFiring, alerts: undefined }, 'alerts'],
    ['alerts not an array', { ...capturedFiring, alerts: {} }, 'alerts'],
    ['negative truncatedAlerts', { ...capturedFiring, truncatedAlerts: -1 }, 'truncatedAlerts'],
    [
      'a label that is not a string',
      { ...capturedFiring, alerts: [{ labels: { service: 1 }, startsAt: '2026-11-22T10:59:20Z' }] },
      'alerts[0].labels.service',
    ],
    [
      'an alert without labels',
      { ...capturedFiring, alerts: [{ startsAt: '2026-11-22T10:59:20Z' }] },
      'alerts[0].labels',
    ],
    ['a bad startsAt', { ...capturedFiring, alerts: [{ labels: {}, startsAt: 'yesterday' }] }, 'alerts[0].startsAt'],
    [
      'a bad endsAt',
      { ...capturedFiring, alerts: [{ labels: {}, startsAt: '2026-11-22T10:59:20Z', endsAt: 1 }] },
      'alerts[0].endsAt',
    ],
    [
      'a bad alert status',
      { ...capturedFiring, alerts: [{ labels: {}, startsAt: '2026-11-22T10:59:20Z', status: 'ok' }] },
      'alerts[0].status',
    ],
    ['commonLabels not an object', { ...capturedFiring, commonLabels: 'x' }, 'commonLabels'],
  ])('rejects %s with the field path', (_name, body, path) => {
    const error = rejection(body);
    expect(error.path).toBe(path);
    expect(error.message).toMatch(
      new RegExp(`^invalid Alertmanager webhook at ${path.replace(/[[\]().]/g, '\\$&')}: `),
    );
  });
});

describe('matchAlerts', () => {
  const policies = [
    policy('matchmaking.games', [
      { alertname: 'SLOBurnRateHigh', labels: { service: 'matchmaking', namespace: 'games' } },
    ]),
    policy('lobby.games', [
      { alertname: 'SLOBurnRateHigh', labels: { service: 'lobby' } },
      { alertname: 'high_memory_load', labels: {} },
    ]),
    policy('everything.games', [{ alertname: 'SLOBurnRateHigh', labels: { severity: 'page' } }]),
  ];

  it('alertname plus label equality; several policies may take one alert', () => {
    const { alerts } = parseAlertmanagerWebhook(capturedFiring);
    const { matched, unmatched } = matchAlerts(alerts, policies);
    expect(unmatched).toEqual([]);
    expect(matched.map((m) => m.services)).toEqual([['matchmaking.games', 'everything.games']]);
  });

  it('alerts no policy wants are returned as unmatched', () => {
    const { alerts } = parseAlertmanagerWebhook(
      fixtureJson('alertmanager-webhook-v4.legacy-two-alerts.prometheus-msteams.json'),
    );
    const { matched, unmatched } = matchAlerts(alerts, policies);
    expect(matched.map((m) => [m.alert.labels['alertname'], m.services])).toEqual([
      ['high_memory_load', ['lobby.games']],
    ]);
    expect(unmatched.map((a) => a.labels['alertname'])).toEqual(['high_memory_load2']);
  });

  it('a label that differs or is missing does not match', () => {
    const alerts: Array<{ labels: Record<string, string> }> = [
      { labels: { alertname: 'SLOBurnRateHigh', service: 'matchmaking', namespace: 'other' } },
      { labels: { alertname: 'SLOBurnRateHigh', service: 'matchmaking' } },
      { labels: { service: 'lobby' } },
    ];
    const { matched, unmatched } = matchAlerts(alerts, policies);
    expect(matched).toEqual([]);
    expect(unmatched).toHaveLength(3);
  });

  it('a policy listing two triggers that both match counts the service once', () => {
    const twice = policy('a.b', [{ alertname: 'X' }, { alertname: 'X', labels: { severity: 'page' } }]);
    expect(matchAlerts([{ labels: { alertname: 'X', severity: 'page' } }], [twice]).matched[0]?.services).toEqual([
      'a.b',
    ]);
  });
});

describe('AlertmanagerIntake', () => {
  it('parses, expands truncation, matches and counts in the given registry', async () => {
    const registry = new Registry();
    const intake = new AlertmanagerIntake({
      policies: [policy('matchmaking.games', [{ alertname: 'SLOBurnRateHigh', labels: { service: 'matchmaking' } }])],
      registry,
    });
    const firing = intake.accept({ ...capturedFiring, truncatedAlerts: 1 });
    expect(firing.matched.map((m) => [m.alert.synthetic, m.services])).toEqual([
      [false, ['matchmaking.games']],
      [true, ['matchmaking.games']],
    ]);
    const legacy = intake.accept(fixtureJson('alertmanager-webhook-v4.legacy-two-alerts.prometheus-msteams.json'));
    expect(legacy.unmatched).toHaveLength(2);
    expect(() => intake.accept({ version: '3' })).toThrow(AlertmanagerWebhookError);

    const text = await registry.metrics();
    expect(text).toContain('spillway_alertmanager_webhook_alerts_total{status="firing"} 3');
    expect(text).toContain('spillway_alertmanager_webhook_alerts_unmatched_total 2');
    expect(text).toContain('spillway_alertmanager_webhook_rejected_total 1');
    expect(text).toContain('spillway_alertmanager_webhook_truncated_groups_total 1');
  });
});

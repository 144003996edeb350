/** Alertmanager webhook bodies (payload version 4) as Alertmanager 0.25 sends them, for posting by hand. */

export interface WebhookAlert {
  readonly labels: Record<string, string>;
  readonly status?: 'firing' | 'resolved';
  readonly startsAt: Date;
  /** Resolved alerts carry their end; firing ones the Go zero time. */
  readonly endsAt?: Date;
  readonly fingerprint?: string;
}

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export function webhookBody(
  alerts: readonly WebhookAlert[],
  group: { status?: 'firing' | 'resolved'; groupLabels?: Record<string, string>; truncatedAlerts?: number } = {},
): Record<string, unknown> {
  const status = group.status ?? (alerts.some((a) => (a.status ?? 'firing') === 'firing') ? 'firing' : 'resolved');
  return {
    version: '4',
    groupKey: `{}:${JSON.stringify(group.groupLabels ?? {})}`,
    truncatedAlerts: group.truncatedAlerts ?? 0,
    status,
    receiver: 'spillway',
    groupLabels: group.groupLabels ?? {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.invalid:9093',
    alerts: alerts.map((alert) => ({
      status: alert.status ?? 'firing',
      labels: alert.labels,
      annotations: {},
      startsAt: alert.startsAt.toISOString(),
      endsAt: alert.endsAt ? alert.endsAt.toISOString() : GO_ZERO_TIME,
      generatorURL: '',
      ...(alert.fingerprint ? { fingerprint: alert.fingerprint } : {}),
    })),
  };
}

import { type AlertTrigger, type BurstPolicy, PrintableText } from '@spillway/model';
import { createMetricsRegistry, type Registry } from '@spillway/observability';
import { z } from 'zod';
import type { AlertmanagerGroupMembers } from './alertmanager-api.js';
import { AlertmanagerWebhookMetrics } from './metrics.js';
import { firstIssue } from './prometheus/response.js';

/**
 * Alertmanager's webhook notification, payload version "4"
 * (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
 *
 * Lenient where real senders differ (older bodies without per-alert `status`, `fingerprint`,
 * `generatorURL` or `truncatedAlerts`; extra fields ignored), strict where the controller needs
 * the field (version, status, alerts and their labels, timestamps).
 */

/** The Go zero time Alertmanager sends as `endsAt` of a firing alert. */
const GO_ZERO_TIME = /^0001-01-01T00:00:00(\.0+)?(Z|[+-]00:00)$/i;

/** RFC 3339 with any number of sub-second digits (Go prints up to 9) and Z or an offset. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses RFC 3339 to a Date (millisecond precision; finer digits are dropped, not rounded). */
export function parseRfc3339(text: string): Date | null {
  const match = RFC3339.exec(text);
  if (!match) return null;
  const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = match;
  const millis = fraction.padEnd(3, '0').slice(0, 3);
  const iso = `${year}-${month}-${day}T${hour}:${minute}:${second}.${millis}${zone.toUpperCase()}`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

const Timestamp = z.string().transform((text, ctx) => {
  const date = parseRfc3339(text);
  if (!date) {
    ctx.addIssue({ code: 'custom', message: `not an RFC 3339 timestamp: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return date;
});

/** `endsAt`: the Go zero time (still firing, no end known) becomes null. */
const EndsAt = z.string().transform((text, ctx) => {
  if (GO_ZERO_TIME.test(text)) return null;
  const date = parseRfc3339(text);
  if (!date) {
    ctx.addIssue({ code: 'custom', message: `not an RFC 3339 timestamp: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return date;
});

const Status = z.enum(['firing', 'resolved']);
// Labels are matched, stored in the audit log and echoed: printable text only.
const Labels = z.record(PrintableText, PrintableText);

const WireAlert = z.looseObject({
  status: Status.optional(),
  labels: Labels,
  annotations: Labels.optional(),
  startsAt: Timestamp,
  endsAt: EndsAt.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

/** Alertmanager's webhook payload, version 4 (the body of `POST /v1/alerts/alertmanager`). */
export const WireNotification = z.looseObject({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: Status,
  receiver: z.string().optional(),
  groupLabels: Labels.optional(),
  commonLabels: Labels.optional(),
  commonAnnotations: Labels.optional(),
  externalURL: z.string().optional(),
  alerts: z.array(WireAlert),
});

export type AlertStatus = z.infer<typeof Status>;

export interface ReceivedAlert {
  status: AlertStatus;
  /** True when the alert had no `status` and took the group's (older senders). */
  statusFromGroup: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date;
  /** Null while firing (Alertmanager sends the Go zero time) or when absent. */
  endsAt: Date | null;
  generatorURL: string | null;
  fingerprint: string | null;
}

export interface AlertmanagerNotification {
  version: '4';
  groupKey: string;
  status: AlertStatus;
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: ReceivedAlert[];
  /** How many alerts `max_alerts` dropped from this notification (0 when absent). */
  truncatedAlerts: number;
  /**
   * The group holds more alerts than `alerts` lists. What the controller should do: while the
   * group is firing, treat its `commonLabels` as a firing alert (see `effectiveAlerts`), since
   * the dropped alerts share at least the group's labels and may be the ones a policy waits for.
   */
  truncated: boolean;
}

/** A webhook body that is not a valid version-4 notification; `path` names the first bad field. */
export class AlertmanagerWebhookError extends Error {
  override readonly name = 'AlertmanagerWebhookError';

  constructor(
    /** e.g. `alerts[0].startsAt`, `version`, `(root)`. */
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Parses a webhook body (already JSON-decoded). Throws AlertmanagerWebhookError. */
export function parseAlertmanagerWebhook(body: unknown): AlertmanagerNotification {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AlertmanagerWebhookError('(root)', 'invalid Alertmanager webhook at (root): expected a JSON object');
  }
  const version = (body as { version?: unknown }).version;
  if (version !== '4') {
    throw new AlertmanagerWebhookError(
      'version',
      `invalid Alertmanager webhook at version: expected payload version "4", got ${JSON.stringify(version) ?? 'nothing'}`,
    );
  }
  const parsed = WireNotification.safeParse(body);
  if (!parsed.success) {
    const { path, message } = firstIssue(parsed.error);
    throw new AlertmanagerWebhookError(path, `invalid Alertmanager webhook at ${path}: ${message}`);
  }
  const wire = parsed.data;
  const truncatedAlerts = wire.truncatedAlerts ?? 0;
  return {
    version: '4',
    groupKey: wire.groupKey,
    status: wire.status,
    receiver: wire.receiver ?? '',
    groupLabels: wire.groupLabels ?? {},
    commonLabels: wire.commonLabels ?? {},
    commonAnnotations: wire.commonAnnotations ?? {},
    externalURL: wire.externalURL ?? '',
    truncatedAlerts,
    truncated: truncatedAlerts > 0,
    alerts: wire.alerts.map((alert) => ({
      status: alert.status ?? wire.status,
      statusFromGroup: alert.status === undefined,
      labels: alert.labels,
      annotations: alert.annotations ?? {},
      startsAt: alert.startsAt,
      endsAt: alert.endsAt ?? null,
      generatorURL: alert.generatorURL ?? null,
      fingerprint: alert.fingerprint ?? null,
    })),
  };
}

/** A received alert, or the stand-in for the alerts a truncated firing group dropped. */
export type EffectiveAlert = ReceivedAlert & { synthetic: boolean };

/**
 * The alerts the controller should act on: the listed ones, plus, when a firing group was
 * truncated, one synthetic firing alert carrying the group's `commonLabels` (the dropped alerts
 * are unknown, but they share these labels and are still firing).
 */
export function effectiveAlerts(notification: AlertmanagerNotification): EffectiveAlert[] {
  const alerts: EffectiveAlert[] = notification.alerts.map((alert) => ({ ...alert, synthetic: false }));
  if (notification.truncated && notification.status === 'firing') {
    alerts.push({
      status: 'firing',
      statusFromGroup: true,
      labels: notification.commonLabels,
      annotations: notification.commonAnnotations,
      startsAt: new Date(Math.min(...notification.alerts.map((a) => a.startsAt.getTime()), Date.now())),
      endsAt: null,
      generatorURL: null,
      fingerprint: null,
      synthetic: true,
    });
  }
  return alerts;
}

export interface AlertMatch<A extends Pick<ReceivedAlert, 'labels'>> {
  alert: A;
  /** `NAME.NS` of every policy this alert triggers (policy order, no duplicates). */
  services: string[];
}

export interface AlertMatching<A extends Pick<ReceivedAlert, 'labels'>> {
  matched: AlertMatch<A>[];
  /** Alerts that trigger no policy: to be recorded and ignored. */
  unmatched: A[];
}

/** Does this alert fire this trigger: same alertname and every trigger label equal? */
export function alertMatchesTrigger(labels: Record<string, string>, trigger: AlertTrigger): boolean {
  if (labels['alertname'] !== trigger.alertname) return false;
  return Object.entries(trigger.labels ?? {}).every(([name, value]) => labels[name] === value);
}

/** Which services each alert triggers (alertname + label equality), and the alerts nobody wants. */
export function matchAlerts<A extends Pick<ReceivedAlert, 'labels'>>(
  alerts: readonly A[],
  policies: readonly BurstPolicy[],
): AlertMatching<A> {
  const matched: AlertMatch<A>[] = [];
  const unmatched: A[] = [];
  for (const alert of alerts) {
    const services = policies
      .filter((policy) => policy.triggers.alerts.some((trigger) => alertMatchesTrigger(alert.labels, trigger)))
      .map((policy) => policy.service);
    const unique = [...new Set(services)];
    if (unique.length === 0) unmatched.push(alert);
    else matched.push({ alert, services: unique });
  }
  return { matched, unmatched };
}

export interface AlertmanagerIntakeOptions {
  /** The policies alerts are matched against; `setPolicies` replaces them on a config reload. */
  policies: readonly BurstPolicy[];
  registry?: Registry;
  /** Where `acceptWithMembers` reads a truncated group's members (Alertmanager's API). */
  groupMembers?: AlertmanagerGroupMembers;
}

export interface AlertmanagerIntakeResult extends AlertMatching<EffectiveAlert> {
  notification: AlertmanagerNotification;
  /**
   * For a truncated notification taken by `acceptWithMembers`: whether the dropped alerts came
   * from Alertmanager's API (`added` of them), or the commonLabels stand-in was used and why.
   */
  members?: { source: 'api'; added: number } | { source: 'stand-in'; error: string };
}

/**
 * What the webhook route calls: parse, expand truncated groups, match against the policies,
 * count. Throws AlertmanagerWebhookError on a bad body (answer 400 with its path).
 */
export class AlertmanagerIntake {
  private policies: readonly BurstPolicy[];
  private readonly metrics: AlertmanagerWebhookMetrics;
  private readonly groupMembers: AlertmanagerGroupMembers | undefined;

  constructor(options: AlertmanagerIntakeOptions) {
    this.policies = options.policies;
    this.groupMembers = options.groupMembers;
    this.metrics = new AlertmanagerWebhookMetrics(options.registry ?? createMetricsRegistry({ defaultMetrics: false }));
  }

  setPolicies(policies: readonly BurstPolicy[]): void {
    this.policies = policies;
  }

  accept(body: unknown): AlertmanagerIntakeResult {
    const notification = this.parse(body);
    return { notification, ...this.match(effectiveAlerts(notification)) };
  }

  /**
   * accept(), except that for a truncated notification the group's alerts firing now are read
   * from Alertmanager's API (the `groupMembers` option) in place of the commonLabels stand-in:
   * Alertmanager computes the group's status and commonLabels from the listed alerts only, so
   * the stand-in may name the wrong service or none. If the API cannot answer in time, the
   * stand-in is used and `members.error` says why.
   */
  async acceptWithMembers(body: unknown): Promise<AlertmanagerIntakeResult> {
    const notification = this.parse(body);
    if (!notification.truncated || !this.groupMembers)
      return { notification, ...this.match(effectiveAlerts(notification)) };
    try {
      const listed = new Set(notification.alerts.map((alert) => alert.fingerprint));
      const added = (await this.groupMembers.of(notification)).filter((alert) => !listed.has(alert.fingerprint));
      const alerts = [...notification.alerts, ...added].map((alert) => ({ ...alert, synthetic: false }));
      return { notification, ...this.match(alerts), members: { source: 'api', added: added.length } };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        notification,
        ...this.match(effectiveAlerts(notification)),
        members: { source: 'stand-in', error: message },
      };
    }
  }

  private parse(body: unknown): AlertmanagerNotification {
    let notification: AlertmanagerNotification;
    try {
      notification = parseAlertmanagerWebhook(body);
    } catch (error) {
      this.metrics.rejected.inc();
      throw error;
    }
    for (const alert of notification.alerts) this.metrics.alerts.inc({ status: alert.status });
    if (notification.truncated) this.metrics.truncatedGroups.inc();
    return notification;
  }

  private match(alerts: readonly EffectiveAlert[]): AlertMatching<EffectiveAlert> {
    const matching = matchAlerts(alerts, this.policies);
    this.metrics.unmatched.inc(matching.unmatched.length);
    return matching;
  }
}

import { createHash } from 'node:crypto';
import type { BurstPolicy } from '@spillway/model';
import type { AlertMatch, AlertmanagerIntakeResult, AlertmanagerNotification, EffectiveAlert } from '@spillway/signals';
import { ALERT_NAME_MAX, type AlertObservation, type HeldAlert } from '@spillway/state';

/**
 * From what a webhook said to what the shared alert book (@spillway/state AlertBook) keeps: per
 * service, one small observation per alert (fingerprint, name, episode), never its labels.
 */

/** Alertmanager's own fingerprint when it sent one; else a hash of the label set (older senders). */
export function alertFingerprint(alert: Pick<EffectiveAlert, 'fingerprint' | 'labels' | 'synthetic'>): string {
  if (alert.fingerprint && /^[0-9a-f]{1,64}$/i.test(alert.fingerprint)) return alert.fingerprint.toLowerCase();
  const labels = Object.keys(alert.labels)
    .sort()
    .map((key) => [key, alert.labels[key]]);
  const digest = createHash('sha256').update(JSON.stringify(labels)).digest('hex').slice(0, 32);
  // A stand-in for truncated alerts never collides with a real alert of the same labels.
  return alert.synthetic ? `s${digest.slice(1)}` : digest;
}

/** An alertname bounded for storage, audit and metrics. */
export function boundedName(name: string | undefined): string {
  const text = name ?? 'alert';
  return text.length <= ALERT_NAME_MAX ? text : `${text.slice(0, ALERT_NAME_MAX - 1)}…`;
}

/** Which group of which Alertmanager sent a notification, hashed: HA peers count apart. */
export function notificationGroup(notification: AlertmanagerNotification): string {
  const { externalURL, receiver, groupKey } = notification;
  return createHash('sha256').update(`${externalURL}\0${receiver}\0${groupKey}`).digest('hex').slice(0, 16);
}

export function toObservation(alert: EffectiveAlert, group: string): AlertObservation {
  return {
    fingerprint: alertFingerprint(alert),
    name: boundedName(alert.labels['alertname']),
    status: alert.status,
    startsAt: alert.startsAt.getTime(),
    endsAt: alert.status === 'resolved' ? (alert.endsAt?.getTime() ?? null) : null,
    group,
  };
}

/**
 * Whether the notification names every alert of its group that still fires: true unless
 * `max_alerts` truncated it and Alertmanager's API could not fill in the rest.
 */
export function listsWholeGroup(result: AlertmanagerIntakeResult): boolean {
  return !result.notification.truncated || result.members?.source === 'api';
}

/**
 * The services whose alerts may be in a group with these labels: a trigger that contradicts a
 * group label (alertname included) can match no alert of the group.
 */
export function servicesOfGroup(
  policies: Iterable<BurstPolicy>,
  groupLabels: Readonly<Record<string, string>>,
): string[] {
  const compatible = (name: string, value: string) => groupLabels[name] === undefined || groupLabels[name] === value;
  return [...policies]
    .filter((policy) =>
      policy.triggers.alerts.some(
        (trigger) =>
          compatible('alertname', trigger.alertname) &&
          Object.entries(trigger.labels).every(([name, value]) => compatible(name, value)),
      ),
    )
    .map((policy) => policy.service);
}

/**
 * The held alerts of `group` that a whole-group notification no longer lists: they stopped
 * firing (their "resolved" was not listed: truncated, or lost), resolved now, same episode.
 */
export function goneFromGroup(
  held: readonly HeldAlert[],
  group: string,
  listed: readonly AlertObservation[],
  now: number,
): AlertObservation[] {
  const present = new Set(listed.map((observation) => observation.fingerprint));
  return held
    .filter((alert) => alert.group === group && !present.has(alert.fingerprint))
    .map(({ fingerprint, name, startsAt }) => ({
      fingerprint,
      name,
      status: 'resolved',
      startsAt,
      endsAt: now,
      group,
    }));
}

/** The observations each service's book gets from one notification. */
export function observationsByService(
  matched: readonly AlertMatch<EffectiveAlert>[],
  group: string,
): Map<string, AlertObservation[]> {
  const byService = new Map<string, AlertObservation[]>();
  for (const { alert, services } of matched) {
    const observation = toObservation(alert, group);
    for (const service of services) byService.set(service, [...(byService.get(service) ?? []), observation]);
  }
  return byService;
}

/** How many alertnames one summary names; the rest are counted together. */
export const SUMMARY_NAMES = 10;

export interface UnmatchedSummary {
  readonly count: number;
  /** The most frequent names first, at most SUMMARY_NAMES. */
  readonly byAlertname: readonly { readonly alertname: string; readonly count: number }[];
  /** Alerts whose names did not make the list, and how many distinct names that is. */
  readonly otherAlerts: number;
  readonly otherNames: number;
  readonly message: string;
}

/**
 * One line for all the alerts of a notification that no policy wants: counted per alertname,
 * a bounded number of names, no labels (the webhook role must not fill the audit or the heap).
 */
export function summariseUnmatched(unmatched: readonly Pick<EffectiveAlert, 'labels'>[]): UnmatchedSummary {
  const counts = new Map<string, number>();
  for (const alert of unmatched) {
    const name = boundedName(alert.labels['alertname']).slice(0, 100);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const named = ranked.slice(0, SUMMARY_NAMES).map(([alertname, count]) => ({ alertname, count }));
  const rest = ranked.slice(SUMMARY_NAMES);
  const otherAlerts = rest.reduce((sum, [, count]) => sum + count, 0);
  const parts = named.map(({ alertname, count }) => `alertname=${alertname} ×${count}`);
  if (rest.length > 0) parts.push(`${rest.length} other names ×${otherAlerts}`);
  const noun = unmatched.length === 1 ? 'alert' : 'alerts';
  return {
    count: unmatched.length,
    byAlertname: named,
    otherAlerts,
    otherNames: rest.length,
    message: `${unmatched.length} ${noun} matched no policy: ${parts.join(', ')}`,
  };
}

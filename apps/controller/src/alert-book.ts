import type { AlertmanagerIntakeResult } from '@spillway/signals';

interface FiringAlert {
  readonly name: string;
  /** When Alertmanager last told us it fires; a firing alert is re-sent every repeat_interval. */
  readonly seenAt: number;
}

/**
 * Which alerts fire for which service, as Alertmanager last said. An alert that stops being
 * re-sent (Alertmanager gone, resolved notification lost) is forgotten after `staleAfterMs`,
 * so a lost webhook cannot hold a burst open forever.
 */
export class AlertBook {
  private readonly firing = new Map<string, Map<string, FiringAlert>>();

  constructor(private readonly staleAfterMs: number) {}

  record(result: AlertmanagerIntakeResult, now: number): string[] {
    const touched = new Set<string>();
    for (const { alert, services } of result.matched) {
      const id = alertId(alert.labels);
      for (const service of services) {
        touched.add(service);
        const alerts = this.firing.get(service) ?? new Map<string, FiringAlert>();
        if (alert.status === 'firing') alerts.set(id, { name: alert.labels.alertname ?? 'alert', seenAt: now });
        else alerts.delete(id);
        this.firing.set(service, alerts);
      }
    }
    return [...touched];
  }

  /** Names of the alerts firing for `service` now; empty when none. */
  firingFor(service: string, now: number): string[] {
    const alerts = this.firing.get(service);
    if (!alerts) return [];
    for (const [id, alert] of alerts) if (now - alert.seenAt > this.staleAfterMs) alerts.delete(id);
    return [...new Set([...alerts.values()].map((alert) => alert.name))].sort();
  }
}

/** Alertmanager identifies an alert by its label set; so do we. */
function alertId(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(',');
}

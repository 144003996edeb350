// The auth package types route roles and request.principal (Fastify module augmentation).

import { AlertmanagerWebhookRoute, type AlertsAccepted, routeOptions } from '@spillway/api';
import type {} from '@spillway/auth';
import { sendProblem } from '@spillway/observability';
import { type AlertmanagerIntake, AlertmanagerWebhookError } from '@spillway/signals';
import type { FastifyInstance } from 'fastify';
import type { BurstController } from '../burst-controller.js';
import { unavailable } from './unavailable.js';

/** Alertmanager's webhook (payload version 4); its own credential (role `webhook`). */
export function registerAlertRoutes(
  app: FastifyInstance,
  deps: { controller: BurstController; intake: AlertmanagerIntake },
): void {
  app.post(AlertmanagerWebhookRoute.url, routeOptions(AlertmanagerWebhookRoute), async (request, reply) => {
    let result: Awaited<ReturnType<AlertmanagerIntake['acceptWithMembers']>>;
    try {
      // A truncated group's members come from Alertmanager's API (bounded in time and size).
      result = await deps.intake.acceptWithMembers(request.body);
    } catch (error) {
      if (!(error instanceof AlertmanagerWebhookError)) throw error;
      return sendProblem(reply, {
        title: 'Bad Request',
        status: 400,
        detail: error.message,
        ...(error.path ? { path: error.path } : {}),
      });
    }
    if (result.members?.source === 'stand-in') {
      request.log.warn(
        { groupKey: result.notification.groupKey.slice(0, 200), err: result.members.error.slice(0, 500) },
        'truncated Alertmanager group: its members are unknown, acting on its commonLabels',
      );
    }
    try {
      await deps.controller.acceptAlerts(result, request.principal?.name ?? 'alertmanager');
    } catch (error) {
      // 503: Alertmanager retries the notification until the store is back.
      return unavailable(reply, error);
    }
    return {
      received: result.notification.alerts.length,
      matched: result.matched.map(({ alert, services }) => ({ alertname: alert.labels.alertname, services })),
      unmatched: result.unmatched.length,
      ...(result.members ? { truncated: result.members } : {}),
    } satisfies AlertsAccepted;
  });
}

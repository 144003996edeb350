// The auth package types route roles and request.principal (Fastify module augmentation).
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
  app.post('/v1/alerts/alertmanager', { config: { role: 'webhook' } }, async (request, reply) => {
    let result: ReturnType<AlertmanagerIntake['accept']>;
    try {
      result = deps.intake.accept(request.body);
    } catch (error) {
      if (!(error instanceof AlertmanagerWebhookError)) throw error;
      return sendProblem(reply, {
        title: 'Bad Request',
        status: 400,
        detail: error.message,
        ...(error.path ? { path: error.path } : {}),
      });
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
      unmatched: result.unmatched.map((alert) => alert.labels.alertname ?? null),
    };
  });
}

import { WireNotification } from '@spillway/signals';
import { z } from 'zod';
import { defineRoute, json, problem } from './route-contract.js';

export const AlertmanagerNotification = WireNotification;

export const AlertsAccepted = z.object({
  received: z.number().int().describe('alerts in the notification'),
  matched: z
    .array(z.object({ alertname: z.string().optional(), services: z.array(z.string()) }))
    .describe('alerts that name a service with a burst policy'),
  unmatched: z.number().int(),
  truncated: z
    .union([
      z.object({ source: z.literal('api'), added: z.number().int() }),
      z.object({ source: z.literal('stand-in'), error: z.string() }),
    ])
    .optional()
    .describe("a truncated group's members: read from Alertmanager's API, or its commonLabels stood in"),
});
export type AlertsAccepted = z.infer<typeof AlertsAccepted>;

export const AlertmanagerWebhookRoute = defineRoute({
  method: 'POST',
  url: '/v1/alerts/alertmanager',
  operationId: 'receiveAlertmanagerWebhook',
  summary: "Alertmanager's webhook (payload version 4)",
  description: 'Configure it as a webhook receiver with a token of role webhook (http_config.authorization).',
  tag: 'controller',
  access: 'webhook',
  body: AlertmanagerNotification,
  responses: {
    200: json(AlertsAccepted, 'the notification was taken'),
    400: problem('not an Alertmanager v4 payload: detail and path name the field'),
    503: problem('the state store is unreachable; Alertmanager retries', { 'Retry-After': 'seconds' }),
  },
});

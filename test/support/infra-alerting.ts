import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { type RunningAlertmanager, startAlertmanager } from './alertmanager.js';
import { type RunningPrometheus, startPrometheus } from './prometheus.js';

/**
 * The infra alerting path with real parts: the real Prometheus evaluating
 * infra/prometheus/spillway-slo-rules.yml and sending its alerts to the real Alertmanager with
 * infra/alertmanager/alertmanager.yml, whose spillway receiver posts to the test's webhook.
 */

const repo = fileURLToPath(new URL('../../', import.meta.url));
/** infra/prometheus/spillway-slo-rules.yml, absolute. */
export const INFRA_SLO_RULES = `${repo}infra/prometheus/spillway-slo-rules.yml`;
const INFRA_ALERTMANAGER_CONFIG = `${repo}infra/alertmanager/alertmanager.yml`;

/**
 * infra/alertmanager/alertmanager.yml with the spillway receiver pointed at `webhookUrl`, its
 * credentials file in the Alertmanager's temp dir (`webhook-token`) and test-short waits.
 */
export function infraAlertmanagerConfig(webhookUrl: string): unknown {
  const config = parseYaml(readFileSync(INFRA_ALERTMANAGER_CONFIG, 'utf8')) as {
    route: { routes: Array<Record<string, unknown>> };
    receivers: Array<{ name: string; webhook_configs?: Array<Record<string, unknown>> }>;
  };
  const route = config.route.routes.find((r) => r['receiver'] === 'spillway');
  const webhook = config.receivers.find((r) => r.name === 'spillway')?.webhook_configs?.[0];
  if (!route || !webhook) throw new Error('infra alertmanager.yml has no spillway route/receiver');
  Object.assign(route, { group_wait: '1s', group_interval: '1s' });
  webhook['url'] = webhookUrl;
  const http = webhook['http_config'] as { authorization: { credentials_file: string } };
  http.authorization.credentials_file = '{{dir}}/webhook-token';
  return config;
}

export interface StartInfraAlertingOptions {
  /** Where the spillway receiver posts (e.g. `${controllerUrl}/v1/alerts/alertmanager`). */
  webhookUrl: string;
  /** Sent as the receiver's bearer token. */
  webhookToken: string;
  /** The `/metrics` URL Prometheus scrapes. */
  scrapeTarget: string;
}

export interface InfraAlerting {
  readonly alertmanager: RunningAlertmanager;
  readonly prometheus: RunningPrometheus;
}

/**
 * Starts the Alertmanager with the infra config, then a Prometheus with the infra rules scraping
 * `scrapeTarget` and evaluating every 1 s. If Prometheus does not start, the Alertmanager is
 * stopped before the error is rethrown.
 */
export async function startInfraAlerting(options: StartInfraAlertingOptions): Promise<InfraAlerting> {
  const alertmanager = await startAlertmanager({
    config: infraAlertmanagerConfig(options.webhookUrl),
    files: { 'webhook-token': options.webhookToken },
  });
  try {
    const prometheus = await startPrometheus({
      ruleFiles: [INFRA_SLO_RULES],
      scrapeTargets: [options.scrapeTarget],
      scrapeInterval: '1s',
      evaluationInterval: '1s',
      alertmanagerUrls: [alertmanager.url],
    });
    return { alertmanager, prometheus };
  } catch (error) {
    await alertmanager.stop().catch(() => undefined);
    throw error;
  }
}

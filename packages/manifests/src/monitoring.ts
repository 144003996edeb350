/// <reference path="./raw-text.d.ts" />
import { parse } from 'yaml';
// The rules Spillway ships for plain Prometheus, taken as they are (not retyped): one source.
import operationsRules from '../../../infra/prometheus/spillway-operations-rules.yml?raw';
import sloRules from '../../../infra/prometheus/spillway-slo-rules.yml?raw';
import type { KubernetesObject } from './kubernetes-object.js';
import { labels } from './labels.js';
import { apiExposed, objectName, PROCESSES, type SpillwayProcess, serviceHost } from './process-config.js';
import type { ManifestValues } from './values.js';

/** The rule files under infra/prometheus (not their `-test.yml` unit tests), by name. */
export const PROMETHEUS_RULE_FILES: Readonly<Record<string, string>> = {
  'spillway-operations-rules.yml': operationsRules,
  'spillway-slo-rules.yml': sloRules,
};

/** ServiceMonitors (one per process: each has its own server name) and the PrometheusRule. */
export function monitoringObjects(values: ManifestValues): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  if (values.monitoring.serviceMonitor) {
    const scraped = PROCESSES.filter((process) => process === 'federation' || apiExposed(values));
    objects.push(...scraped.map((process) => serviceMonitor(values, process)));
  }
  if (values.monitoring.prometheusRule) objects.push(prometheusRule(values));
  return objects;
}

/**
 * /metrics over HTTPS, checking the server's certificate against the CA in the http Secret and
 * presenting that Secret's certificate: the federation requires a client certificate.
 */
function serviceMonitor(values: ManifestValues, process: SpillwayProcess): KubernetesObject {
  const secret = values.tls.httpSecret;
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: {
      name: objectName(process),
      namespace: values.namespace,
      labels: { ...labels(process), ...values.monitoring.labels },
    },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': 'spillway', 'app.kubernetes.io/component': process } },
      endpoints: [
        {
          port: 'https',
          path: '/metrics',
          scheme: 'https',
          interval: '30s',
          tlsConfig: {
            serverName: serviceHost(values, process),
            ca: { secret: { name: secret, key: 'ca.crt' } },
            cert: { secret: { name: secret, key: 'tls.crt' } },
            keySecret: { name: secret, key: 'tls.key' },
          },
        },
      ],
    },
  };
}

function prometheusRule(values: ManifestValues): KubernetesObject {
  const groups = Object.values(PROMETHEUS_RULE_FILES).flatMap((text) => (parse(text) as { groups: unknown[] }).groups);
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'spillway',
      namespace: values.namespace,
      labels: { ...labels('monitoring'), ...values.monitoring.labels },
    },
    spec: { groups },
  };
}

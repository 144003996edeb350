import type { KubernetesObject } from './kubernetes-object.js';
import { labels, selectorLabels } from './labels.js';
import { objectName, PORTS } from './process-config.js';
import type { ManifestValues } from './values.js';
import { resourceRequirements } from './workloads.js';

/** The redis image's own user (uid 999 in the official images). */
const REDIS_USER = 999;

/**
 * The single-replica Redis deployed when the values name no external one: a StatefulSet with a
 * volume and the append-only file on, because burst state and the job queue must survive a
 * restart (docs/operations.md). Reachable only by the router and controller (NetworkPolicy).
 */
export function redisObjects(values: ManifestValues): KubernetesObject[] {
  if (values.redis.url) return [];
  const name = objectName('redis');
  const metadata = { name, namespace: values.namespace, labels: labels('redis') };
  const password = values.redis.passwordSecret;
  // With a password Secret the deployed Redis requires it (the kubelet expands $(VAR) in args).
  const auth = password
    ? {
        args: ['--requirepass', '$(REDIS_PASSWORD)'],
        env: [{ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: password.name, key: password.key } } }],
      }
    : { args: [], env: [] };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata, automountServiceAccountToken: false },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: {
        selector: selectorLabels('redis'),
        ports: [{ name: 'redis', port: PORTS.redis, targetPort: 'redis', protocol: 'TCP' }],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata,
      spec: {
        serviceName: name,
        replicas: 1,
        selector: { matchLabels: selectorLabels('redis') },
        template: {
          metadata: { labels: labels('redis') },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: REDIS_USER,
              runAsGroup: REDIS_USER,
              fsGroup: REDIS_USER,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'redis',
                image: values.redis.image,
                args: ['--appendonly', 'yes', '--dir', '/data', '--save', '', ...auth.args],
                env: auth.env,
                ports: [{ name: 'redis', containerPort: PORTS.redis, protocol: 'TCP' }],
                readinessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 10, timeoutSeconds: 5 },
                livenessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 20, timeoutSeconds: 5 },
                resources: resourceRequirements(values.redis.resources),
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data', labels: labels('redis') },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: values.redis.storage } } },
          },
        ],
      },
    },
  ];
}

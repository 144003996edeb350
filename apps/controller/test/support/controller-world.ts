import { KubeConfig } from '@kubernetes/client-node';
import { registerAuth, sha256Hex, TokenAuthenticator } from '@spillway/auth';
import { CatalogStore } from '@spillway/catalog';
import { EksNodegroupScaler, KubernetesDeploymentScaler, Route53DnsWeights } from '@spillway/cloud';
import {
  enforceHttpLimits,
  httpServerOptions,
  installProblemHandlers,
  type ReadinessCheck,
  type Registry,
  registerOperationalRoutes,
} from '@spillway/observability';
import type { CloudFakes } from '@spillway/test/support/burst-world';
import { ManualSource } from '@spillway/test/support/manual-source';
import Fastify, { type FastifyInstance } from 'fastify';
import type { RunningController } from '../../src/index.js';

/**
 * What the in-memory and the Redis controller harnesses build alike: checkout.shop's catalog,
 * the cloud adapters onto the fakes, and the controller's HTTP API with the tests' tokens.
 */

export const TOKENS = { operator: 'operator-token-123', viewer: 'viewer-token-456', webhook: 'webhook-token-789' };
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

/** checkout.shop with two endpoints on-prem (dc1) and two in the cloud (eks-use1, us-west-2). */
export async function checkoutCatalog(): Promise<{ catalog: CatalogStore; cloud: ManualSource }> {
  const catalog = new CatalogStore({ staleAfterMs: 60_000 });
  const dc1 = new ManualSource('dc1', 'onprem', 'dc1');
  const cloud = new ManualSource('eks-use1', 'cloud', 'us-west-2');
  await dc1.start(catalog.attach(dc1));
  await cloud.start(catalog.attach(cloud));
  dc1.report({ 'checkout.shop': [dc1.endpoint('10.0.0.1'), dc1.endpoint('10.0.0.2')] });
  cloud.report({ 'checkout.shop': [cloud.endpoint('10.1.0.1'), cloud.endpoint('10.1.0.2')] });
  return { catalog, cloud };
}

/** The real EKS, Deployment and Route 53 adapters, onto the fakes, polling fast. */
export function fakeCloudAdapters(fakes: Pick<CloudFakes, 'eks' | 'k8s' | 'route53'>) {
  const pacing = { intervalMs: 5, timeoutMs: 20_000 };
  return {
    nodegroups: new EksNodegroupScaler({ client: { endpoint: fakes.eks.url, credentials }, pacing }),
    deployments: new KubernetesDeploymentScaler(() => kubeConfig(fakes.k8s.url)),
    dns: new Route53DnsWeights({ client: { endpoint: fakes.route53.url, credentials }, pacing }),
  };
}

/** The controller's API on a free loopback port, with the operator, viewer and webhook tokens of TOKENS. */
export async function serveControllerApi(
  running: RunningController,
  registry: Registry,
  options: {
    readonly bodyLimit?: number;
    readonly checks?: readonly ReadinessCheck[];
    readonly onDenied?: RunningController['onDenied'];
  } = {},
): Promise<{ readonly url: string; readonly app: FastifyInstance }> {
  const app = enforceHttpLimits(Fastify(httpServerOptions({ bodyLimitBytes: options.bodyLimit ?? 64 * 1024 })));
  installProblemHandlers(app);
  registerAuth(app, {
    openReads: true,
    ...(options.onDenied ? { onDenied: options.onDenied } : {}),
    authenticator: new TokenAuthenticator(
      (['operator', 'viewer', 'webhook'] as const).map((role) => ({
        name: role,
        role,
        sha256: sha256Hex(TOKENS[role]),
      })),
    ),
  });
  registerOperationalRoutes(app, { registry, ...(options.checks ? { checks: options.checks } : {}) });
  running.routes(app);
  return { url: await app.listen({ host: '127.0.0.1', port: 0 }), app };
}

function kubeConfig(server: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'eks-use1', server, skipTLSVerify: true }],
    users: [{ name: 'spillway', token: 'k8s-token' }],
    contexts: [{ name: 'eks-use1', cluster: 'eks-use1', user: 'spillway' }],
    currentContext: 'eks-use1',
  });
  return config;
}

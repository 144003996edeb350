import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '@spillway/auth';

/**
 * Files and processes for the kill -9 test: the federation's and the controller's config files,
 * a kubeconfig for the fake Kubernetes API, the AWS environment that points the SDK at the
 * fakes, and a bounded stop for child processes.
 */

export const OPERATOR_TOKEN = 'kill-test-operator-token';
export const K8S_TOKEN = 'kill-test-k8s-token';
export const AWS_CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

export interface KillWorldFiles {
  readonly dir: string;
  readonly federationConfig: string;
  readonly controllerConfig: string;
  readonly kubeconfig: string;
  remove(): Promise<void>;
}

export interface KillWorldTargets {
  readonly redisUrl: string;
  readonly kubernetesUrl: string;
  readonly dns: {
    readonly hostedZoneId: string;
    readonly recordName: string;
    readonly onpremSetIdentifier: string;
    readonly cloudSetIdentifier: string;
  };
}

/** Writes the three files into a fresh temp dir. */
export async function writeKillWorldFiles(targets: KillWorldTargets): Promise<KillWorldFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-kill-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const federationConfig = join(dir, 'federation.yaml');
  const controllerConfig = join(dir, 'controller.yaml');
  await writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
  - name: eks-use1
    cluster:
      server: ${targets.kubernetesUrl}
      insecure-skip-tls-verify: true
users:
  - name: spillway
    user:
      token: ${K8S_TOKEN}
contexts:
  - name: eks-use1
    context: { cluster: eks-use1, user: spillway }
current-context: eks-use1
`,
    { mode: 0o600 },
  );
  // The federation serves checkout.shop from static sources: two on-prem, two cloud endpoints.
  await writeFile(
    federationConfig,
    `clusters:
  - name: dc1
    kind: static
    environment: onprem
    region: dc1
    services:
      - name: checkout
        namespace: shop
        endpoints:
          - { address: 10.0.0.1, port: 8080, zone: dc1-a }
          - { address: 10.0.0.2, port: 8080, zone: dc1-b }
  - name: eks-use1
    kind: static
    environment: cloud
    region: us-west-2
    services:
      - name: checkout
        namespace: shop
        endpoints:
          - { address: 10.1.0.1, port: 8080, zone: us-west-2a }
          - { address: 10.1.0.2, port: 8080, zone: us-west-2b }
`,
  );
  // The controller: Redis, an operator token, the cloud cluster's kubeconfig, one policy whose
  // cloud target is the fakes' nodegroup, Deployment and weighted record.
  await writeFile(
    controllerConfig,
    `redis: ${targets.redisUrl}
auth:
  tokens:
    - { name: ops, role: operator, sha256: "${sha256Hex(OPERATOR_TOKEN)}" }
clusters:
  - name: eks-use1
    kind: kubernetes
    environment: cloud
    region: us-west-2
    kubeconfig: ${kubeconfig}
policies:
  - service: checkout.shop
    steps: [0.1, 0.3]
    maxShare: 0.5
    stepIntervalSeconds: 1
    minDwellSeconds: 1
    cooldownSeconds: 1
    capacity: { replicasAtFullShare: 10, podsPerNode: 2, maxReplicas: 10, maxNodes: 3 }
    cloud:
      eks: { region: us-west-2, cluster: burst, nodegroup: spot }
      deployment: { cluster: eks-use1, namespace: shop, name: checkout }
      route53:
        hostedZoneId: ${targets.dns.hostedZoneId}
        recordName: ${targets.dns.recordName}
        type: A
        onpremSetIdentifier: "${targets.dns.onpremSetIdentifier}"
        cloudSetIdentifier: "${targets.dns.cloudSetIdentifier}"
`,
  );
  return {
    dir,
    federationConfig,
    controllerConfig,
    kubeconfig,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * The AWS SDK's own configuration, as an operator would set it: credentials from the standard
 * variables, and the service-specific endpoint variables (AWS_ENDPOINT_URL_<SERVICE ID>, read by
 * SDK v3 for JavaScript through @smithy's endpoint config) pointing at the fakes. Shared config
 * files and instance metadata are switched off so nothing of the machine's leaks in.
 */
export function awsEnvironment(eksUrl: string, route53Url: string, dir: string): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: AWS_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-west-2',
    AWS_ENDPOINT_URL_EKS: eksUrl,
    AWS_ENDPOINT_URL_ROUTE_53: route53Url,
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PROFILE: '',
    AWS_SESSION_TOKEN: '',
  };
}

function exited(child: ChildProcessWithoutNullStreams): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves when the child has exited (at once if it already has). */
export async function childExit(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (exited(child)) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/**
 * SIGTERM, then SIGKILL if the child is still there after `graceMs`: a controller stopping
 * gracefully waits for its active jobs, and a Route 53 job polls GetChange every 30 s.
 */
export async function stopChild(child: ChildProcessWithoutNullStreams, graceMs = 5_000): Promise<void> {
  if (exited(child)) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const result = await Promise.race([childExit(child).then(() => 'exited' as const), graceOver]);
  clearTimeout(timer);
  if (result === 'timeout' && !exited(child)) {
    child.kill('SIGKILL');
    await childExit(child);
  }
}

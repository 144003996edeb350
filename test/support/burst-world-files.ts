import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '@spillway/auth';

/**
 * The files of a burst world in which `spillway federation` and `controller` run as processes
 * against the cloud fakes: a kubeconfig for the fake Kubernetes API, the federation's config
 * (checkout.shop from static sources, on-prem and cloud), the controller's config (Redis, tokens,
 * the cloud cluster and one burst policy onto the fakes' nodegroup, Deployment and weighted
 * record), the router's (Redis only), and the AWS environment that points the SDK at the fakes.
 */

/** The service the federation serves and the policy bursts. */
export const BURST_SERVICE = 'checkout.shop';
/** The federation's cloud region (its endpoints are `environment: cloud`). */
export const BURST_CLOUD_REGION = 'us-west-2';
export const AWS_CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

export interface BurstWorldToken {
  readonly name: string;
  readonly role: string;
  /** The token in clear; the config holds its SHA-256. */
  readonly token: string;
}

/** One endpoint of BURST_SERVICE in the federation's static sources. */
export interface BurstEndpoint {
  readonly address: string;
  readonly port: number;
  readonly zone: string;
}

/** Two on-prem endpoints in dc1-a and dc1-b, two cloud ones in the cloud region's a and b (nothing listens). */
export const DEFAULT_BURST_ENDPOINTS: { onprem: readonly BurstEndpoint[]; cloud: readonly BurstEndpoint[] } = {
  onprem: [
    { address: '10.0.0.1', port: 8080, zone: 'dc1-a' },
    { address: '10.0.0.2', port: 8080, zone: 'dc1-b' },
  ],
  cloud: [
    { address: '10.1.0.1', port: 8080, zone: `${BURST_CLOUD_REGION}a` },
    { address: '10.1.0.2', port: 8080, zone: `${BURST_CLOUD_REGION}b` },
  ],
};

export interface BurstWorldOptions {
  /** Prefix of the temp dir (`mkdtemp`). */
  readonly tempPrefix: string;
  readonly redisUrl: string;
  readonly kubernetesUrl: string;
  /** The bearer token the kubeconfig presents to the fake Kubernetes API. */
  readonly kubernetesToken: string;
  /** The controller's `auth.tokens`, in order. */
  readonly tokens: readonly BurstWorldToken[];
  /** What differs between the tests' policies for BURST_SERVICE. */
  readonly policy: {
    /** When set, the policy is triggered by this alert (labelled with the service, severity page). */
    readonly pageAlert?: string;
    readonly steps: readonly number[];
    readonly minDwellSeconds: number;
    readonly cooldownSeconds: number;
  };
  /** BURST_SERVICE's endpoints (default DEFAULT_BURST_ENDPOINTS), e.g. real servers to send RPCs to. */
  readonly endpoints?: { onprem: readonly BurstEndpoint[]; cloud: readonly BurstEndpoint[] };
  readonly dns: {
    readonly hostedZoneId: string;
    readonly recordName: string;
    readonly onpremSetIdentifier: string;
    readonly cloudSetIdentifier: string;
  };
}

export interface BurstWorldFiles {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly federationConfig: string;
  readonly controllerConfig: string;
  /** The router's config: only Redis (it reads the traffic policies the controller writes). */
  readonly routerConfig: string;
  remove(): Promise<void>;
}

/** Writes the kubeconfig, the federation's and the controller's config into a fresh temp dir. */
export async function writeBurstWorldFiles(options: BurstWorldOptions): Promise<BurstWorldFiles> {
  const dir = await mkdtemp(join(tmpdir(), options.tempPrefix));
  const kubeconfig = join(dir, 'kubeconfig');
  const federationConfig = join(dir, 'federation.yaml');
  const controllerConfig = join(dir, 'controller.yaml');
  const routerConfig = join(dir, 'router.yaml');
  await writeFile(routerConfig, `redis: ${options.redisUrl}\n`);
  await writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
  - name: eks-use1
    cluster:
      server: ${options.kubernetesUrl}
      insecure-skip-tls-verify: true
users:
  - name: spillway
    user:
      token: ${options.kubernetesToken}
contexts:
  - name: eks-use1
    context: { cluster: eks-use1, user: spillway }
current-context: eks-use1
`,
    { mode: 0o600 },
  );
  // checkout.shop from static sources: on-prem in dc1, and the cloud region.
  const endpoints = options.endpoints ?? DEFAULT_BURST_ENDPOINTS;
  const listed = (list: readonly BurstEndpoint[]) =>
    list.map((e) => `          - { address: ${e.address}, port: ${e.port}, zone: ${e.zone} }\n`).join('');
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
${listed(endpoints.onprem)}  - name: eks-use1
    kind: static
    environment: cloud
    region: ${BURST_CLOUD_REGION}
    services:
      - name: checkout
        namespace: shop
        endpoints:
${listed(endpoints.cloud)}`,
  );
  const { policy, dns } = options;
  const tokens = options.tokens.map(
    (t) => `    - { name: ${t.name}, role: ${t.role}, sha256: "${sha256Hex(t.token)}" }\n`,
  );
  const triggers =
    policy.pageAlert === undefined
      ? ''
      : `    triggers:
      alerts:
        - alertname: ${policy.pageAlert}
          labels: { service: ${BURST_SERVICE}, severity: page }
`;
  // The controller: Redis, its tokens, the cloud cluster's kubeconfig, one policy whose cloud
  // target is the fakes' nodegroup, Deployment and weighted record.
  await writeFile(
    controllerConfig,
    `redis: ${options.redisUrl}
auth:
  tokens:
${tokens.join('')}clusters:
  - name: eks-use1
    kind: kubernetes
    environment: cloud
    region: ${BURST_CLOUD_REGION}
    kubeconfig: ${kubeconfig}
policies:
  - service: ${BURST_SERVICE}
${triggers}    steps: [${policy.steps.join(', ')}]
    maxShare: 0.5
    stepIntervalSeconds: 1
    minDwellSeconds: ${policy.minDwellSeconds}
    cooldownSeconds: ${policy.cooldownSeconds}
    capacity: { replicasAtFullShare: 10, podsPerNode: 2, maxReplicas: 10, maxNodes: 3 }
    cloud:
      eks: { region: ${BURST_CLOUD_REGION}, cluster: burst, nodegroup: spot }
      deployment: { cluster: eks-use1, namespace: shop, name: checkout }
      route53:
        hostedZoneId: ${dns.hostedZoneId}
        recordName: ${dns.recordName}
        type: A
        onpremSetIdentifier: "${dns.onpremSetIdentifier}"
        cloudSetIdentifier: "${dns.cloudSetIdentifier}"
`,
  );
  return {
    dir,
    kubeconfig,
    federationConfig,
    controllerConfig,
    routerConfig,
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
    AWS_REGION: BURST_CLOUD_REGION,
    AWS_ENDPOINT_URL_EKS: eksUrl,
    AWS_ENDPOINT_URL_ROUTE_53: route53Url,
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PROFILE: '',
    AWS_SESSION_TOKEN: '',
  };
}

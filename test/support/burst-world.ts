import type { ChildProcess } from 'node:child_process';
import { FakeEksApi } from '../fakes/eks-api.js';
import { FakeKubernetesApi } from '../fakes/kubernetes-api.js';
import { FakeRoute53Api } from '../fakes/route53-api.js';
import {
  awsEnvironment,
  type BurstWorldOptions as BurstWorldFileOptions,
  type BurstWorldFiles,
  writeBurstWorldFiles,
} from './burst-world-files.js';
import { hasExited, killChild, trackChild } from './child-processes.js';
import { type RunningRedis, type StartRedisOptions, startRedis } from './redis.js';

/**
 * One builder for the worlds the burst e2e tests run in: the cloud fakes (EKS nodegroup, the
 * cloud Deployment, a Route 53 weighted record) seeded for BURST_SERVICE's policy, a real Redis,
 * the config files (burst-world-files.ts), and the `spillway` processes started on them, all
 * stopped by one `stop()`.
 */

/** The weighted record a policy sets: the on-prem and the cloud set of one name. */
export interface DnsTarget {
  readonly hostedZoneId: string;
  readonly recordName: string;
  readonly onpremSetIdentifier: string;
  readonly cloudSetIdentifier: string;
}

export interface CloudFakesOptions {
  /** The bearer token the fake Kubernetes API accepts. */
  readonly kubernetesToken: string;
  /** Replicas that become ready per read of the Deployment; 0: only the test advances them. */
  readonly readyStep: number;
  /** DescribeNodegroup calls until an accepted update is ACTIVE; 'manual': only `finishUpdate`. */
  readonly nodegroupUpdates: number | 'manual';
  /** GetChange calls until a change is INSYNC (the fake's default when absent). */
  readonly route53InsyncAfterPolls?: number | 'manual';
}

/** The EKS, Kubernetes and Route 53 fakes one world's controllers write to. */
export interface CloudFakes {
  readonly k8s: FakeKubernetesApi;
  readonly eks: FakeEksApi;
  readonly route53: FakeRoute53Api;
  readonly zone: ReturnType<FakeRoute53Api['seedWeightedExample']>;
  readonly dns: DnsTarget;
  /** A burst policy's `cloud:` onto these fakes (the Deployment in config cluster `eks-use1`). */
  readonly policyCloud: {
    readonly eks: { readonly region: 'us-west-2'; readonly cluster: 'burst'; readonly nodegroup: 'spot' };
    readonly deployment: { readonly cluster: 'eks-use1'; readonly namespace: 'shop'; readonly name: 'checkout' };
    readonly route53: DnsTarget & { readonly type: 'A' };
  };
  close(): Promise<void>;
}

/** A burst policy's `capacity:` that fits the fakes' nodegroup (at most 3 nodes). */
export const CLOUD_FAKES_CAPACITY = { replicasAtFullShare: 10, podsPerNode: 2, maxReplicas: 10, maxNodes: 3 } as const;

/**
 * The fakes with BURST_SERVICE's cloud side: Deployment shop/checkout at 0 replicas, nodegroup
 * burst/spot (0–3 nodes) at 0, and the seeded weighted record.
 */
export async function startCloudFakes(options: CloudFakesOptions): Promise<CloudFakes> {
  const started: { close(): Promise<void> }[] = [];
  const close = async () => {
    await Promise.allSettled(started.splice(0).map((fake) => fake.close()));
  };
  try {
    const k8s = await FakeKubernetesApi.start({ token: options.kubernetesToken });
    started.push(k8s);
    k8s.upsertDeployment({ namespace: 'shop', name: 'checkout', replicas: 0, readyStep: options.readyStep });
    const eks = await FakeEksApi.start();
    started.push(eks);
    eks.setNodegroup({
      cluster: 'burst',
      name: 'spot',
      minSize: 0,
      maxSize: 3,
      desiredSize: 0,
      updateDescribes: options.nodegroupUpdates,
    });
    const route53 = await FakeRoute53Api.start();
    started.push(route53);
    if (options.route53InsyncAfterPolls !== undefined) route53.insyncAfterPolls = options.route53InsyncAfterPolls;
    const zone = route53.seedWeightedExample();
    const dns: DnsTarget = {
      hostedZoneId: zone.hostedZoneId,
      recordName: zone.recordName,
      onpremSetIdentifier: zone.setIdentifiers[0],
      cloudSetIdentifier: zone.setIdentifiers[1],
    };
    const policyCloud = {
      eks: { region: 'us-west-2', cluster: 'burst', nodegroup: 'spot' },
      deployment: { cluster: 'eks-use1', namespace: 'shop', name: 'checkout' },
      route53: { ...dns, type: 'A' },
    } as const;
    return { k8s, eks, route53, zone, dns, policyCloud, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A `spillway` process as the tests' CliProcess is one: its child and what it printed. */
export interface WorldProcess {
  readonly child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Starts `spillway ARGS` with ENV over the test's environment. */
export type SpawnSpillway = (args: readonly string[], env: NodeJS.ProcessEnv) => WorldProcess;

export interface BurstWorldOptions {
  /** How to start `spillway` (the apps' tests pass their CliProcess). */
  readonly spawn: SpawnSpillway;
  readonly cloud: CloudFakesOptions;
  /** What the config files say besides where Redis and the fakes are. */
  readonly files: Omit<BurstWorldFileOptions, 'redisUrl' | 'kubernetesUrl' | 'kubernetesToken' | 'dns'>;
  readonly redis?: StartRedisOptions;
}

/** A started process of the world and its role, for failure reports. */
export interface WorldMember {
  readonly name: string;
  readonly process: WorldProcess;
}

const API_LINE = /API\s+(http:\/\/127\.0\.0\.1:\d+)/;
const CONTROLLER_API_LINE = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/v1\/bursts/;
const XDS_LINE = /xDS\s+port (\d+)/;
const START_TIMEOUT_MS = 60_000;

export interface BurstWorld {
  readonly redis: RunningRedis;
  readonly cloud: CloudFakes;
  readonly files: BurstWorldFiles;
  /** The AWS SDK environment that points a controller at the fakes. */
  readonly awsEnv: NodeJS.ProcessEnv;
  /** Every process started, in order (stopped ones included). */
  readonly members: readonly WorldMember[];
  /**
   * `spillway federation` on the world's federation config; resolves to its API URL. `listen`
   * (default 127.0.0.1:0) fixes the port, for a federation restarted where its followers look.
   */
  startFederation(options?: { name?: string; listen?: string }): Promise<{ process: WorldProcess; url: string }>;
  /** `spillway controller` following `federationUrl`; resolves to its API URL. */
  startController(federationUrl: string, name?: string): Promise<{ process: WorldProcess; url: string }>;
  /** `spillway router` on Redis following `federationUrl`; resolves to its API URL and xDS port. */
  startRouter(federationUrl: string, name?: string): Promise<{ process: WorldProcess; url: string; xdsPort: number }>;
  /** The last output of every process, for a failure message. */
  outputs(): string;
  /** SIGTERM every process (SIGKILL after `graceMs`), then the fakes, Redis and the files. Every step runs. */
  stop(graceMs?: number): Promise<void>;
}

/** The fakes, Redis and the config files; processes start when the test asks. */
export async function startBurstWorld(options: BurstWorldOptions): Promise<BurstWorld> {
  const members: WorldMember[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const stopEverything = async (graceMs = 5_000) => {
    const results = [
      ...(await Promise.allSettled(members.map((member) => stopProcess(member.process, graceMs)))),
      ...(await Promise.allSettled(cleanups.splice(0).map((cleanup) => cleanup()))),
    ];
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    const cloud = await startCloudFakes(options.cloud);
    cleanups.push(() => cloud.close());
    const redis = await startRedis(options.redis);
    cleanups.push(() => redis.stop());
    const files = await writeBurstWorldFiles({
      ...options.files,
      redisUrl: redis.url,
      kubernetesUrl: cloud.k8s.url,
      kubernetesToken: options.cloud.kubernetesToken,
      dns: cloud.dns,
    });
    cleanups.push(() => files.remove());
    const awsEnv = awsEnvironment(cloud.eks.url, cloud.route53.url, files.dir);

    const spawn = (name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): WorldProcess => {
      const process = options.spawn(args, env);
      trackChild(process.child);
      members.push({ name, process });
      return process;
    };

    return {
      redis,
      cloud,
      files,
      awsEnv,
      members,
      async startFederation({ name = 'federation', listen = '127.0.0.1:0' } = {}) {
        const process = spawn(name, ['federation', '--config', files.federationConfig, '--listen', listen]);
        return { process, url: await process.waitForOutput(API_LINE, START_TIMEOUT_MS) };
      },
      async startController(federationUrl, name = 'controller') {
        const process = spawn(
          name,
          ['controller', '--config', files.controllerConfig, '--federation', federationUrl, '--listen', '127.0.0.1:0'],
          awsEnv,
        );
        return { process, url: await process.waitForOutput(CONTROLLER_API_LINE, START_TIMEOUT_MS) };
      },
      async startRouter(federationUrl, name = 'router') {
        const process = spawn(name, [
          'router',
          '--config',
          files.routerConfig,
          '--federation',
          federationUrl,
          '--xds',
          '127.0.0.1:0',
          '--listen',
          '127.0.0.1:0',
        ]);
        const [xdsPort, url] = await Promise.all([
          process.waitForOutput(XDS_LINE, START_TIMEOUT_MS).then(Number),
          process.waitForOutput(API_LINE, START_TIMEOUT_MS),
        ]);
        return { process, url, xdsPort };
      },
      outputs: () =>
        members
          .map(
            ({ name, process }) =>
              `--- ${name} (exit ${process.child.exitCode ?? process.child.signalCode ?? 'running'})\n` +
              `${process.stdout.slice(-1500)}\n${process.stderr.slice(-3000)}`,
          )
          .join('\n'),
      stop: stopEverything,
    };
  } catch (error) {
    await stopEverything().catch(() => undefined);
    throw error;
  }
}

/** Resolves when the child has exited (at once if it already has). */
export async function processExit(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/**
 * SIGTERM, then SIGKILL if the process is still there after `graceMs`: a controller stopping
 * gracefully waits for its active jobs, and a Route 53 job polls GetChange every 30 s.
 */
export async function stopProcess(process: WorldProcess, graceMs = 5_000): Promise<void> {
  if (!hasExited(process.child)) {
    process.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      processExit(process.child),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }
  await killChild(process.child);
}

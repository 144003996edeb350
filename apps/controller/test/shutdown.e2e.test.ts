/**
 * SIGTERM of `spillway controller` ends within a bounded time: with a scale job in flight (it
 * polls EKS every 30 s, the AWS waiter's cadence), and with Redis down.
 *
 * The issue: with in-flight jobs a SIGTERM waited 13 s and more (the graceful close waits for
 * every active job); with Redis down it never finished (it kept serving for 120 s+). Now the
 * workers get a grace period, then are closed by force (BullMQ retakes the job once its lock
 * lapses; jobs are idempotent), and every step of the stop is bounded.
 *
 * Real parts: redis-server; `spillway federation` and `spillway controller` as child processes;
 * the AWS SDK inside the controller reaching the EKS, Route 53 and Kubernetes fakes.
 */
import { FakeEksApi } from '@spillway/test/fakes/eks-api';
import { FakeKubernetesApi } from '@spillway/test/fakes/kubernetes-api';
import { FakeRoute53Api } from '@spillway/test/fakes/route53-api';
import { awsEnvironment } from '@spillway/test/support/burst-world-files';
import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess } from '../../spillway/test/cli-process.js';
import { api, type Json } from './controller-harness.js';
import {
  childExit,
  K8S_TOKEN,
  type KillWorldFiles,
  OPERATOR_TOKEN,
  stopChild,
  writeKillWorldFiles,
} from './support/kill-world.js';

const SERVICE = 'checkout.shop';
/** The assertion's bound; the figures measured are printed. */
const BOUND_MS = 15_000;

const redises: RunningRedis[] = [];
let k8s: FakeKubernetesApi | undefined;
let eks: FakeEksApi | undefined;
let route53: FakeRoute53Api | undefined;
const files: KillWorldFiles[] = [];
let zone: ReturnType<FakeRoute53Api['seedWeightedExample']>;
let federationUrl = '';
const children: CliProcess[] = [];

beforeAll(async () => {
  k8s = await FakeKubernetesApi.start({ token: K8S_TOKEN });
  k8s.upsertDeployment({ namespace: 'shop', name: 'checkout', replicas: 0, readyStep: 0 });
  eks = await FakeEksApi.start();
  // An accepted update stays UPDATING: the scale job keeps waiting, as a real one does for minutes.
  eks.setNodegroup({
    cluster: 'burst',
    name: 'spot',
    minSize: 0,
    maxSize: 3,
    desiredSize: 0,
    updateDescribes: 'manual',
  });
  route53 = await FakeRoute53Api.start();
  zone = route53.seedWeightedExample();
  const world = await worldFiles();
  const federation = new CliProcess(['federation', '--config', world.federationConfig, '--listen', '127.0.0.1:0']);
  children.push(federation);
  federationUrl = await federation.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/, 60_000);
}, 90_000);

afterAll(async () => {
  const steps: (() => Promise<unknown> | undefined)[] = [
    ...children.map((child) => () => stopChild(child.child)),
    () => k8s?.close(),
    () => eks?.close(),
    () => route53?.close(),
    ...redises.map((redis) => () => redis.stop()),
    ...files.map((world) => () => world.remove()),
  ];
  for (const step of steps) await Promise.resolve(step()).catch(() => undefined);
}, 60_000);

/** A fresh Redis and config files pointing at it. */
async function worldFiles(): Promise<KillWorldFiles & { redis: RunningRedis }> {
  const redis = await startRedis();
  redises.push(redis);
  const world = await writeKillWorldFiles({
    redisUrl: redis.url,
    kubernetesUrl: k8s!.url,
    dns: {
      hostedZoneId: zone.hostedZoneId,
      recordName: zone.recordName,
      onpremSetIdentifier: zone.setIdentifiers[0],
      cloudSetIdentifier: zone.setIdentifiers[1],
    },
  });
  files.push(world);
  return { ...world, redis };
}

async function startLeadingController(world: KillWorldFiles): Promise<{ controller: CliProcess; url: string }> {
  const controller = new CliProcess(
    ['controller', '--config', world.controllerConfig, '--federation', federationUrl, '--listen', '127.0.0.1:0'],
    // Production pacing (30 s polls): the job is mid-wait when the signal comes.
    awsEnvironment(eks!.url, route53!.url, world.dir),
  );
  children.push(controller);
  const url = await controller.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)\/v1\/bursts/, 60_000);
  await waitFor(async () => (await api(url, 'GET', '/v1/controller')).body.leader === true, {
    message: `the controller leading\n${controller.stderr.slice(-2000)}`,
    timeoutMs: 30_000,
  });
  return { controller, url };
}

/** SIGTERM, then the time until the process has exited. */
async function timeSigterm(controller: CliProcess): Promise<number> {
  const started = performance.now();
  controller.child.kill('SIGTERM');
  await Promise.race([childExit(controller.child), new Promise((resolve) => setTimeout(resolve, 60_000))]);
  return Math.round(performance.now() - started);
}

describe('SIGTERM of the controller (child process, real Redis)', () => {
  it('exits within the bound while a scale-nodegroup job is waiting for EKS', async () => {
    const world = files[0]!;
    const { controller, url } = await startLeadingController(world);
    const started = await api(
      url,
      'POST',
      '/v1/bursts',
      { service: SERVICE, share: 0.3, reason: 'shutdown test' },
      OPERATOR_TOKEN,
    );
    expect(started.status).toBe(202);
    // The job has sent its update and is waiting out its 30 s poll.
    await waitFor(() => eks!.updateRequests('burst', 'spot').length >= 1, {
      message: `UpdateNodegroupConfig\n${controller.stderr.slice(-2000)}`,
      timeoutMs: 60_000,
    });

    const tookMs = await timeSigterm(controller);
    console.log(`SIGTERM with an in-flight scale job: exited after ${tookMs} ms`);
    expect(controller.child.exitCode ?? controller.child.signalCode).not.toBeNull();
    expect(tookMs).toBeLessThan(BOUND_MS);
    expect(controller.child.exitCode).toBe(0);
  }, 180_000);

  it('exits within the bound while Redis is down', async () => {
    const world = await worldFiles();
    const { controller } = await startLeadingController(world);
    await world.redis.kill();
    // It has noticed: its reconcile and lease calls fail (logged at warn and above).
    await waitFor(() => /redis|lease|unavailable|ECONNREFUSED/i.test(controller.stderr + controller.stdout), {
      message: 'the controller noticing Redis is down',
      timeoutMs: 30_000,
    }).catch(() => undefined);

    const tookMs = await timeSigterm(controller);
    console.log(`SIGTERM with Redis down: exited after ${tookMs} ms`);
    expect(controller.child.exitCode ?? controller.child.signalCode).not.toBeNull();
    expect(tookMs).toBeLessThan(BOUND_MS);
    // Stopped by its own bounded steps, not by the backstop (which exits 1).
    expect(controller.child.exitCode).toBe(0);
  }, 180_000);
});

export type { Json };

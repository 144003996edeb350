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
import { type BurstWorld, processExit, startBurstWorld, type WorldProcess } from '@spillway/test/support/burst-world';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, describe, expect, it } from 'vitest';
import { api, type Json } from './controller-harness.js';
import { K8S_TOKEN, KILL_WORLD_FILES, OPERATOR_TOKEN, spawnCli } from './support/kill-world.js';

const SERVICE = 'checkout.shop';
/** The assertion's bound; the figures measured are printed. */
const BOUND_MS = 15_000;

const worlds: BurstWorld[] = [];

afterAll(async () => {
  await Promise.allSettled(worlds.map((world) => world.stop()));
}, 60_000);

/** A fresh world: the cloud fakes, a Redis, config files, and its federation running. */
async function startWorld(): Promise<{ world: BurstWorld; federationUrl: string }> {
  const world = await startBurstWorld({
    spawn: spawnCli,
    // An accepted update stays UPDATING: the scale job keeps waiting, as a real one does for minutes.
    cloud: { kubernetesToken: K8S_TOKEN, readyStep: 0, nodegroupUpdates: 'manual' },
    files: KILL_WORLD_FILES,
  });
  worlds.push(world);
  const { url: federationUrl } = await world.startFederation();
  return { world, federationUrl };
}

async function startLeadingController(
  world: BurstWorld,
  federationUrl: string,
): Promise<{ controller: WorldProcess; url: string }> {
  // Production pacing (30 s polls): the job is mid-wait when the signal comes.
  const { process: controller, url } = await world.startController(federationUrl);
  await waitFor(async () => (await api(url, 'GET', '/v1/controller')).body.leader === true, {
    message: `the controller leading\n${controller.stderr.slice(-2000)}`,
    timeoutMs: 30_000,
  });
  return { controller, url };
}

/** SIGTERM, then the time until the process has exited. */
async function timeSigterm(controller: WorldProcess): Promise<number> {
  const started = performance.now();
  controller.child.kill('SIGTERM');
  await Promise.race([processExit(controller.child), new Promise((resolve) => setTimeout(resolve, 60_000))]);
  return Math.round(performance.now() - started);
}

describe('SIGTERM of the controller (child process, real Redis)', () => {
  it('exits within the bound while a scale-nodegroup job is waiting for EKS', async () => {
    const { world, federationUrl } = await startWorld();
    const { controller, url } = await startLeadingController(world, federationUrl);
    const started = await api(
      url,
      'POST',
      '/v1/bursts',
      { service: SERVICE, share: 0.3, reason: 'shutdown test' },
      OPERATOR_TOKEN,
    );
    expect(started.status).toBe(202);
    // The job has sent its update and is waiting out its 30 s poll.
    await waitFor(() => world.cloud.eks.updateRequests('burst', 'spot').length >= 1, {
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
    const { world, federationUrl } = await startWorld();
    const { controller } = await startLeadingController(world, federationUrl);
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

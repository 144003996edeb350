/**
 * Burst controller benchmark: reaction time to an Alertmanager webhook.
 *   npm run bench:controller
 * 100 deliveries of the captured Alertmanager 0.25 firing notification (payload version 4), each
 * a real HTTP POST with the webhook token to the controller's route, each for a different service
 * (one policy per service), so every delivery starts a fresh burst from idle. For each delivery:
 * from the request arriving at the controller's HTTP server to (a) the first scale-out call
 * reaching the cloud fakes (Deployment scale PUT or UpdateNodegroupConfig) and (b) the router's
 * side of the traffic policies firing with a share above 0 for that service. Beside them, in the
 * same run: the pure `decide()` calls of the same decisions, and the HTTP round trip of the same
 * webhook to a route that does nothing. Run once with in-memory stores and once on Redis
 * (BullMQ jobs, Redis state, the router reading over pub/sub) when redis-server is installed.
 *
 * Sizes: BENCH_DELIVERIES (default 100), BENCH_WARMUP (default 10, deliveries not measured,
 * to services of their own), BENCH_POLICIES (default deliveries + warm-up: the policies in force;
 * the deliveries go to the first ones, the rest stay idle and only have to be not visited).
 * Every wait is bounded.
 */

import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { decide, initialBurstState } from '@spillway/burst';
import type { BurstPolicy } from '@spillway/model';
import { type RunningRedis, redisServerBinary, startRedis } from '@spillway/test/support/redis';
import {
  type BenchWorld,
  STEP,
  serviceKey,
  stampCallLog,
  startBenchWorld,
  startNoopServer,
  WEBHOOK_TOKEN,
  webhookBody,
} from './controller/bench-world.js';
import { collectGarbage, fmt, ms, percentile } from './stats.js';

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 100);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
const DELIVERED = DELIVERIES + WARMUP;
const SERVICES = Math.max(DELIVERED, Number(process.env.BENCH_POLICIES ?? DELIVERED));
/** Full passes measured at the end: each visits every policy, so fewer when there are thousands. */
const PASSES = SERVICES > 1000 ? 5 : 50;
/** Periodic ticks measured at the end, with nothing due. */
const TICKS = 50;
/** Deadline for one delivery's burst to reach the router. */
const DELIVERY_TIMEOUT_MS = 30_000;

interface Samples {
  firstCall: number[];
  published: number[];
  roundTrip: number[];
  /** One reconcile pass over every policy, asked for with nothing to do, after all bursts hold. */
  pass: number[];
  /** One periodic tick (what the timer runs), with nothing due, after all bursts hold. */
  tick: number[];
}

async function postWebhook(url: string, body: string): Promise<{ status: number; ms: number }> {
  const started = process.hrtime.bigint();
  const response = await fetch(`${url}/v1/alerts/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
    body,
  });
  await response.arrayBuffer();
  return { status: response.status, ms: ms(process.hrtime.bigint() - started) };
}

/** Resolves when `ready()` returns a value, checking on every event-loop turn; bounded. */
async function until<T>(ready: () => T | undefined, what: string, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = ready();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function measure(world: BenchWorld): Promise<Samples> {
  const firstCallAt = new Map<string, bigint>();
  const publishedAt = new Map<string, bigint>();
  const serviceOf = new Map<string, string>();
  for (const policy of world.policies) {
    const { eks, deployment } = policy.cloud;
    if (eks) serviceOf.set(`/clusters/${eks.cluster}/node-groups/${eks.nodegroup}/update-config`, policy.service);
    if (deployment) {
      serviceOf.set(
        `/apis/apps/v1/namespaces/${deployment.namespace}/deployments/${deployment.name}/scale`,
        policy.service,
      );
    }
  }
  const onCall = (record: { method: string; path: string }, at: bigint) => {
    const scaleOut =
      (record.method === 'POST' && record.path.endsWith('/update-config')) ||
      (record.method === 'PUT' && record.path.endsWith('/scale'));
    const service = scaleOut ? serviceOf.get(record.path) : undefined;
    if (service && !firstCallAt.has(service)) firstCallAt.set(service, at);
  };
  stampCallLog(world.k8s.requests, onCall);
  stampCallLog(world.eks.requests, onCall);
  world.router.subscribe((service) => {
    if (!publishedAt.has(service) && (world.router.get(service)?.cloudShare ?? 0) > 0) {
      publishedAt.set(service, process.hrtime.bigint());
    }
  });

  const samples: Samples = { firstCall: [], published: [], roundTrip: [], pass: [], tick: [] };
  const controller = world.running.controller;
  // The start-up pass visits every policy once; the deliveries are measured after it.
  await controller.settled();
  for (let i = 0; i < DELIVERED; i++) {
    const service = serviceKey(i);
    const body = webhookBody(i);
    const posted = await postWebhook(world.url, body);
    if (posted.status !== 200) throw new Error(`webhook for ${service} answered ${posted.status}`);
    const arrived = world.lastArrival();
    if (arrived === undefined) throw new Error('the webhook arrival was not stamped');
    const published = await until(() => publishedAt.get(service), `the router to see ${service} above share 0`);
    const firstCall = firstCallAt.get(service);
    if (firstCall === undefined) throw new Error(`${service} reached the router without a scale-out call`);
    const share = world.router.get(service)?.cloudShare;
    if (share !== STEP) throw new Error(`${service}: share ${share}, expected ${STEP}`);
    if (i < WARMUP) continue;
    samples.roundTrip.push(posted.ms);
    samples.firstCall.push(ms(firstCall - arrived));
    samples.published.push(ms(published - arrived));
  }
  for (let n = 0; n < PASSES; n++) {
    await controller.settled();
    const started = process.hrtime.bigint();
    controller.kick();
    await controller.settled();
    samples.pass.push(ms(process.hrtime.bigint() - started));
  }
  for (let n = 0; n < TICKS; n++) {
    await controller.settled();
    const started = process.hrtime.bigint();
    controller.tick();
    await controller.settled();
    samples.tick.push(ms(process.hrtime.bigint() - started));
  }
  return samples;
}

/** The pure core's part: the decision that starts the burst and the one that steps up, per service. */
function decideFloor(policies: readonly BurstPolicy[]): { start: number[]; step: number[] } {
  const start: number[] = [];
  const step: number[] = [];
  const signals = { alertFiring: true, slo: 'unknown' as const, detail: 'alert SLOBurnRateHigh firing' };
  const cloud = { cloudReadyEndpoints: 2, cloudHealthy: true, appliedShare: 0 };
  for (let round = 0; round < 2; round++) {
    for (const policy of policies) {
      const now = Date.now();
      let t = process.hrtime.bigint();
      const first = decide({
        policy,
        state: initialBurstState(),
        now,
        signals,
        observed: { ...cloud, replicasReady: 0, nodesReady: 0 },
        commands: {},
      });
      const startMs = ms(process.hrtime.bigint() - t);
      t = process.hrtime.bigint();
      const second = decide({
        policy,
        state: first.state,
        now: now + 50,
        signals,
        observed: { ...cloud, replicasReady: 2, nodesReady: 1 },
        commands: {},
      });
      const stepMs = ms(process.hrtime.bigint() - t);
      if (!first.actions.some((a) => a.kind === 'scale-deployment' || a.kind === 'scale-nodegroup')) {
        throw new Error('decide() floor: the first decision asked for no capacity');
      }
      if (!second.actions.some((a) => a.kind === 'set-traffic-share')) {
        throw new Error('decide() floor: the second decision set no traffic share');
      }
      // The first round warms the JIT; the second is measured.
      if (round === 1) {
        start.push(startMs);
        step.push(stepMs);
      }
    }
  }
  return { start: start.slice(-DELIVERIES), step: step.slice(-DELIVERIES) };
}

async function httpFloor(): Promise<number[]> {
  const noop = await startNoopServer();
  const samples: number[] = [];
  try {
    for (let i = 0; i < DELIVERED; i++) {
      const posted = await postWebhook(noop.url, webhookBody(i));
      if (posted.status !== 200) throw new Error(`no-op webhook answered ${posted.status}`);
      if (i >= WARMUP) samples.push(posted.ms);
    }
  } finally {
    await noop.close();
  }
  return samples;
}

const line = (label: string, values: readonly number[], floor?: string) =>
  console.log(
    `  ${label.padEnd(50)} p50 ${fmt(percentile(values, 50), 2).padStart(8)} ms  p99 ${fmt(percentile(values, 99), 2).padStart(8)} ms${floor ? `   ${floor}` : ''}`,
  );

async function run(mode: 'in-memory' | 'redis', redisUrl?: string): Promise<void> {
  collectGarbage();
  const world = await startBenchWorld({ services: SERVICES, ...(redisUrl ? { redisUrl } : {}) });
  let samples: Samples;
  try {
    samples = await measure(world);
  } finally {
    await world.stop();
  }
  const floorHttp = await httpFloor();
  const floorDecide = decideFloor(world.policies);
  const both = floorDecide.start.map((start, i) => start + (floorDecide.step[i] ?? 0));
  const p = (values: readonly number[], q: number) => fmt(percentile(values, q), 3);
  console.log(
    `\n${mode} stores (${DELIVERIES} deliveries, ${SERVICES} policies, ${WARMUP} warm-up deliveries not counted; load average ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}):`,
  );
  line(
    'webhook arrives -> first scale-out call',
    samples.firstCall,
    `(floor, pure decide() starting the burst: p50 ${p(floorDecide.start, 50)} ms  p99 ${p(floorDecide.start, 99)} ms)`,
  );
  line(
    'webhook arrives -> router sees share > 0',
    samples.published,
    `(floor, both decide() calls: p50 ${p(both, 50)} ms  p99 ${p(both, 99)} ms)`,
  );
  line(
    'webhook HTTP round trip (client)',
    samples.roundTrip,
    `(floor, same POST to a no-op route: p50 ${p(floorHttp, 50)} ms  p99 ${p(floorHttp, 99)} ms)`,
  );
  line(`one full reconcile pass, ${SERVICES} policies, nothing to do`, samples.pass);
  line('one periodic tick, nothing due', samples.tick);
}

function redisAvailable(): boolean {
  try {
    execFileSync(redisServerBinary(), ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  console.log(`controller benchmark: ${DELIVERIES} Alertmanager webhook deliveries, one fresh burst each`);
  await run('in-memory');
  if (!redisAvailable()) {
    console.log('\nredis-server not found: the Redis run is skipped');
    return;
  }
  let redis: RunningRedis | undefined;
  try {
    redis = await startRedis();
    await run('redis', redis.url);
  } finally {
    await redis?.stop();
  }
}

await main();

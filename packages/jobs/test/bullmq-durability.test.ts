import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ActionJob,
  BullMqJobQueue,
  type BullMqJobQueueOptions,
  type JobHandler,
  JobQueueUnavailableError,
} from '../src/index.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function redisForTest(): Promise<RunningRedis> {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  return redis;
}

function queueOn(redis: RunningRedis, options: BullMqJobQueueOptions = {}): BullMqJobQueue {
  const queue = new BullMqJobQueue(
    { url: redis.url },
    { prefix: 'd', backoff: { type: 'exponential', delayMs: 100 }, ...options },
  );
  cleanups.push(() => queue.close());
  return queue;
}

function job(key: string): ActionJob {
  return { key, kind: 'scale', service: 'web.shop', burstId: 'b-1', payload: { nodes: 3 } };
}

/** Starts the stuck worker process and resolves once it is taking jobs. */
async function startStuckWorker(redis: RunningRedis): Promise<{ child: ChildProcess; started: () => string[] }> {
  const script = fileURLToPath(new URL('./fixtures/stuck-worker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, REDIS_URL: redis.url, QUEUE_PREFIX: 'd' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  const lines: string[] = [];
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  await waitFor(() => lines.includes('ready') || child.exitCode !== null, { timeoutMs: 30_000, message: 'worker' });
  if (!lines.includes('ready')) throw new Error(`stuck worker exited: ${output}`);
  return { child, started: () => lines.filter((line) => line.startsWith('started ')) };
}

describe('BullMqJobQueue durability', () => {
  it('two controllers enqueueing the same key concurrently: one job, one run, one `enqueued`', async () => {
    const redis = await redisForTest();
    const first = queueOn(redis);
    const second = queueOn(redis);
    const completions = new Map<string, number>();
    const handler: JobHandler = async (action) => {
      completions.set(action.key, (completions.get(action.key) ?? 0) + 1);
    };
    first.process({ scale: handler });
    second.process({ scale: handler });
    await Promise.all([first.ready(), second.ready()]);
    const keys = Array.from({ length: 20 }, (_, i) => `b-1:${i}:scale`);
    const results = await Promise.all(keys.flatMap((key) => [first.enqueue(job(key)), second.enqueue(job(key))]));
    expect(results.filter((result) => result.enqueued)).toHaveLength(keys.length);
    await waitFor(
      async () => (await Promise.all(keys.map((k) => first.status(k)))).every((s) => s.state === 'completed'),
      {
        message: 'all completed',
      },
    );
    expect([...completions.values()].every((count) => count === 1)).toBe(true);
    expect(completions.size).toBe(keys.length);
  });

  it('a worker process killed mid-job: another worker retakes the job after its lock lapses', async () => {
    const redis = await redisForTest();
    const stuck = await startStuckWorker(redis);
    const producer = queueOn(redis, { lockDurationMs: 1_000, stalledIntervalMs: 300 });
    await producer.enqueue(job('b-1:0:scale'));
    await waitFor(() => stuck.started().length > 0, { message: 'the job to start in the child' });
    expect(await producer.status('b-1:0:scale')).toMatchObject({ state: 'active', attempts: 1 });
    stuck.child.kill('SIGKILL');

    const completions = new Map<string, number>();
    producer.process({
      scale: async (action) => {
        completions.set(action.key, (completions.get(action.key) ?? 0) + 1);
        return 'done';
      },
    });
    await waitFor(async () => (await producer.status('b-1:0:scale')).state === 'completed', {
      message: 'the stalled job to be retaken and completed',
    });
    expect(await producer.status('b-1:0:scale')).toMatchObject({ attempts: 2, returnValue: 'done' });
    expect(completions).toEqual(new Map([['b-1:0:scale', 1]]));
  });

  it('Redis killed: enqueue fails fast with a clear error; after the restart the queue works again', async () => {
    const redis = await redisForTest();
    const queue = queueOn(redis);
    const completed = new Set<string>();
    queue.process({
      scale: async (action) => {
        completed.add(action.key);
      },
    });
    await queue.ready();
    await queue.enqueue(job('before'));
    await waitFor(() => completed.has('before'), { message: 'job before the outage' });

    await redis.kill();
    const during = await Promise.race([
      queue.enqueue(job('during')).catch((error: unknown) => error),
      new Promise((resolve) => setTimeout(() => resolve('still pending'), 3_000).unref()),
    ]);
    expect(during).toBeInstanceOf(JobQueueUnavailableError);
    expect(String(during)).toMatch(/cannot enqueue job during: job queue unavailable/);

    await redis.restart();
    // Enqueue is retried by the caller (the controller's next pass) until Redis answers again.
    await waitFor(async () => (await queue.enqueue(job('after'))).enqueued, { message: 'enqueue after restart' });
    await waitFor(() => completed.has('after'), { timeoutMs: 30_000, message: 'job after the restart to run' });
    // Without persistence the restarted Redis forgot everything, the failed enqueue included.
    expect(completed.has('during')).toBe(false);
  });
});

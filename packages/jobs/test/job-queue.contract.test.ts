import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ActionJob,
  BullMqJobQueue,
  InProcessJobQueue,
  type JobEvent,
  type JobHandler,
  type JobQueue,
  NonRetryableError,
} from '../src/index.js';

const DELAY_MS = 100;

interface Harness {
  name: string;
  /** A queue as one controller process would have it. */
  make(): JobQueue;
  /** Waits until the queue's connections (and event stream) are live. */
  ready(queue: JobQueue): Promise<void>;
}

let redis: RunningRedis;
let testNumber = 0;
const opened: JobQueue[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  testNumber++;
  for (const queue of opened.splice(0)) await queue.close();
});

const harnesses: Harness[] = [
  {
    name: 'in-process',
    make: () => track(new InProcessJobQueue({ attempts: 3, backoff: { type: 'exponential', delayMs: DELAY_MS } })),
    ready: async () => {},
  },
  {
    name: 'bullmq',
    make: () =>
      track(
        new BullMqJobQueue(
          { url: redis.url },
          { prefix: `c${testNumber}`, attempts: 3, backoff: { type: 'exponential', delayMs: DELAY_MS } },
        ),
      ),
    ready: (queue) => (queue as BullMqJobQueue).ready(),
  },
];

function track<Q extends JobQueue>(queue: Q): Q {
  opened.push(queue);
  return queue;
}

function job(key: string, kind = 'scale'): ActionJob {
  return { key, kind, service: 'web.shop', burstId: 'b-1', payload: { nodes: 3 } };
}

/** A handler's view of the world: what it did, per key, as an idempotent handler records it. */
class Effects {
  readonly starts: Array<{ key: string; at: number }> = [];
  readonly completions = new Map<string, number>();

  started(key: string): void {
    this.starts.push({ key, at: performance.now() });
  }

  completed(key: string): void {
    this.completions.set(key, (this.completions.get(key) ?? 0) + 1);
  }
}

describe.each(harnesses)('$name job queue', (harness) => {
  it('runs a key once however often it is enqueued, and shows the result', async () => {
    const queue = harness.make();
    const effects = new Effects();
    const events: JobEvent[] = [];
    queue.onEvent((event) => events.push(event));
    queue.process({
      scale: async (action) => {
        effects.started(action.key);
        effects.completed(action.key);
        return { scaledTo: 3, payload: action.payload };
      },
    });
    await harness.ready(queue);
    expect(await queue.enqueue(job('b-1:0:scale'))).toEqual({ enqueued: true });
    expect(await queue.enqueue(job('b-1:0:scale'))).toEqual({ enqueued: false });
    await waitFor(async () => (await queue.status('b-1:0:scale')).state === 'completed', { message: 'completed' });
    // A retry after completion is deduped too: completed jobs are kept.
    expect(await queue.enqueue(job('b-1:0:scale'))).toEqual({ enqueued: false });
    expect(await queue.status('b-1:0:scale')).toEqual({
      state: 'completed',
      attempts: 1,
      progress: 0,
      failedReason: null,
      returnValue: { scaledTo: 3, payload: { nodes: 3 } },
    });
    await waitFor(() => events.some((e) => e.type === 'completed'), { message: 'completed event' });
    expect(events).toEqual([
      { type: 'completed', key: 'b-1:0:scale', kind: 'scale', returnValue: { scaledTo: 3, payload: { nodes: 3 } } },
    ]);
    expect(effects.completions).toEqual(new Map([['b-1:0:scale', 1]]));
    expect(await queue.status('never-enqueued')).toMatchObject({ state: 'unknown', attempts: 0 });
  });

  it('retries a failing handler with exponential backoff until it completes', async () => {
    const queue = harness.make();
    const effects = new Effects();
    queue.process({
      scale: async (action) => {
        effects.started(action.key);
        if (effects.starts.length < 3) throw new Error(`throttled (attempt ${effects.starts.length})`);
        effects.completed(action.key);
        return 'ok';
      },
    });
    await harness.ready(queue);
    await queue.enqueue(job('b-1:1:scale'));
    const status = await waitFor(
      async () => {
        const current = await queue.status('b-1:1:scale');
        return current.state === 'completed' ? current : undefined;
      },
      { message: 'completed after retries' },
    );
    expect(status).toMatchObject({ attempts: 3, returnValue: 'ok' });
    const [first, second, third] = effects.starts.map((start) => start.at);
    // Lower bounds only: a busy machine may be slower, never faster than the backoff.
    expect(second! - first!).toBeGreaterThanOrEqual(DELAY_MS * 0.9);
    expect(third! - second!).toBeGreaterThanOrEqual(2 * DELAY_MS * 0.9);
    expect(effects.completions.get('b-1:1:scale')).toBe(1);
  });

  it('fails a non-retryable error at once, with its reason', async () => {
    const queue = harness.make();
    const effects = new Effects();
    const events: JobEvent[] = [];
    queue.onEvent((event) => events.push(event));
    queue.process({
      scale: async (action) => {
        effects.started(action.key);
        throw new NonRetryableError('nodegroup spillway-ng does not exist');
      },
    });
    await harness.ready(queue);
    await queue.enqueue(job('b-1:2:scale'));
    await waitFor(async () => (await queue.status('b-1:2:scale')).state === 'failed', { message: 'failed' });
    expect(await queue.status('b-1:2:scale')).toMatchObject({
      attempts: 1,
      failedReason: 'nodegroup spillway-ng does not exist',
      returnValue: null,
    });
    await waitFor(() => events.some((e) => e.type === 'failed'), { message: 'failed event' });
    expect(events).toEqual([
      { type: 'failed', key: 'b-1:2:scale', kind: 'scale', failedReason: 'nodegroup spillway-ng does not exist' },
    ]);
    expect(effects.starts).toHaveLength(1);
  });

  it('shows progress while a job runs, as status and as events', async () => {
    const queue = harness.make();
    const events: JobEvent[] = [];
    queue.onEvent((event) => events.push(event));
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler: JobHandler = async (_action, progress) => {
      await progress({ phase: 'waiting-for-nodes', ready: 1, wanted: 3 });
      await released;
      return null;
    };
    queue.process({ scale: handler });
    await harness.ready(queue);
    await queue.enqueue(job('b-1:3:scale'));
    const running = await waitFor(
      async () => {
        const status = await queue.status('b-1:3:scale');
        return status.state === 'active' && status.progress !== 0 ? status : undefined;
      },
      { message: 'active with progress' },
    );
    expect(running.progress).toEqual({ phase: 'waiting-for-nodes', ready: 1, wanted: 3 });
    await waitFor(() => events.some((e) => e.type === 'progress'), { message: 'progress event' });
    expect(events[0]).toEqual({
      type: 'progress',
      key: 'b-1:3:scale',
      kind: 'scale',
      progress: { phase: 'waiting-for-nodes', ready: 1, wanted: 3 },
    });
    release();
    await waitFor(async () => (await queue.status('b-1:3:scale')).state === 'completed', { message: 'completed' });
  });

  it('keeps kinds apart and runs jobs enqueued before any worker started', async () => {
    const queue = harness.make();
    const seen: string[] = [];
    await queue.enqueue(job('b-2:0:policy', 'policy'));
    await queue.enqueue(job('b-2:0:scale', 'scale'));
    queue.process({
      policy: async (action) => {
        seen.push(`policy ${action.key}`);
      },
      scale: async (action) => {
        seen.push(`scale ${action.key}`);
      },
    });
    await waitFor(() => seen.length === 2, { message: 'both kinds ran' });
    expect(seen.sort()).toEqual(['policy b-2:0:policy', 'scale b-2:0:scale']);
  });
});

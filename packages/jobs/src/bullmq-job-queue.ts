import { randomUUID } from 'node:crypto';
import { type Logger, silentLogger } from '@spillway/observability';
import { Job, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import type { ActionJob } from './action-job.js';
import { type BullMqConnection, consumerOptions, producerOptions } from './bullmq-connection.js';
import { FencedEnqueueError, JobQueueUnavailableError, NonRetryableError } from './errors.js';
import { jobIdOf, keyOfJobId } from './job-id.js';
import type { JobEvent, JobFence, JobHandler, JobQueue, JobState, JobStatus } from './job-queue.js';
import { UNKNOWN_STATUS } from './job-queue.js';
import type { JsonValue } from './json.js';
import { DEFAULT_RETRY, type RetryOptions } from './retry-options.js';

export interface KeepJobs {
  ageSeconds: number;
  count: number;
}

export interface BullMqJobQueueOptions extends Partial<RetryOptions> {
  /** BullMQ's key prefix. Default `spillway`. */
  prefix?: string;
  /** Jobs of one kind one worker runs at once. Default 4. */
  concurrency?: number;
  /**
   * How long finished jobs are kept, and so how long their keys stay deduped: a retry of a
   * completed action within this window is a no-op. Defaults: completed 24 h / 10 000 per kind,
   * failed 7 days / 10 000 per kind.
   */
  keepCompleted?: KeepJobs;
  keepFailed?: KeepJobs;
  /** A worker's lock on an active job; a crashed worker's job is retaken after it lapses. */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock lapsed (stalled). */
  stalledIntervalMs?: number;
  /** Stalls a job survives before it fails. Default 1 (BullMQ's). */
  maxStalledCount?: number;
  /**
   * How long `close()` lets active jobs finish before it abandons them (default 5 s). An
   * abandoned job keeps its BullMQ lock until it lapses; then another worker retakes it, and
   * since jobs are idempotent the retry looks at the world and carries on.
   */
  shutdownGraceMs?: number;
  /** Kinds `status()` looks in besides those this instance enqueued or processes. */
  kinds?: readonly string[];
  logger?: Logger;
}

/** What a BullMQ job carries: the action, and who added it (to tell a new add from a dedupe). */
type StoredJob = ActionJob & { addedBy: string };

interface Lane {
  readonly queue: Queue<StoredJob, JsonValue | null>;
  readonly events: QueueEvents;
  worker?: Worker<StoredJob, JsonValue | null>;
}

const DAY = 86_400;
/** How long closing the queues' and events' connections may take before they are dropped. */
const CLOSE_CONNECTIONS_MS = 2_000;

/** Whether `work` settled within `ms` (it keeps running otherwise; its failure is not ours to report). */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * JobQueue on BullMQ: one Queue, one QueueEvents and (in processing processes) one Worker per
 * kind, named `spillway-<kind>`; the BullMQ job id is the idempotency key, so BullMQ itself drops
 * a second add of the same key, whoever adds it. Finished jobs are kept for a while so a late
 * retry of a finished action is deduped too.
 */
export class BullMqJobQueue implements JobQueue {
  private readonly lanes = new Map<string, Lane>();
  private readonly listeners = new Set<(event: JobEvent) => void>();
  private readonly retry: RetryOptions;
  private readonly logger: Logger;
  /** Fenced adds one at a time: WATCH belongs to a connection, and two would share one. */
  private fencedAdds: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connection: BullMqConnection,
    private readonly options: BullMqJobQueueOptions = {},
  ) {
    this.retry = {
      attempts: options.attempts ?? DEFAULT_RETRY.attempts,
      backoff: options.backoff ?? DEFAULT_RETRY.backoff,
    };
    this.logger = options.logger ?? silentLogger();
    for (const kind of options.kinds ?? []) this.lane(kind);
  }

  async enqueue(job: ActionJob, fence?: JobFence): Promise<{ enqueued: boolean }> {
    const { queue } = this.lane(job.kind);
    const jobId = jobIdOf(job.key);
    const addedBy = randomUUID();
    try {
      if (fence?.key === undefined) await queue.add(job.kind, { ...job, addedBy }, { jobId });
      else await this.addFenced(queue, { ...job, addedBy }, jobId, { key: fence.key, value: fence.value });
      // An add of an existing id returns without error; only the winner's data is stored.
      const stored = await queue.getJob(jobId);
      return { enqueued: stored === undefined || stored.data.addedBy === addedBy };
    } catch (error) {
      if (error instanceof FencedEnqueueError) throw error;
      throw new JobQueueUnavailableError(job.key, { cause: error });
    }
  }

  /**
   * Adds the job only while the fence key holds the token: WATCH the key, compare, then BullMQ's
   * own add script inside MULTI (as its FlowProducer adds jobs), so a change of holder between
   * the compare and the add makes EXEC add nothing.
   */
  private async addFenced(
    queue: Queue<StoredJob, JsonValue | null>,
    data: StoredJob,
    jobId: string,
    fence: Required<JobFence>,
  ): Promise<void> {
    const add = this.fencedAdds.then(async () => {
      const client = await queue.client;
      // BullMQ's client type leaves WATCH out; the object is the ioredis client, which has it.
      const watching = client as unknown as { watch(key: string): Promise<unknown>; unwatch(): Promise<unknown> };
      await watching.watch(fence.key);
      try {
        if ((await client.get(fence.key)) !== fence.value) throw new FencedEnqueueError(data.key);
        const multi = client.multi();
        const job = new Job<StoredJob, JsonValue | null>(queue, data.kind, data, { ...queue.jobsOpts, jobId }, jobId);
        await job.addJob(multi);
        const results = await multi.exec();
        if (results === null) throw new FencedEnqueueError(data.key);
        const failed = results.find(([error]) => error);
        if (failed) throw failed[0];
      } finally {
        // A no-op after EXEC; after a refused compare, the connection must not stay watching.
        await watching.unwatch();
      }
    });
    this.fencedAdds = add.catch(() => undefined);
    await add;
  }

  process(handlers: Readonly<Record<string, JobHandler>>): void {
    for (const [kind, handler] of Object.entries(handlers)) {
      const lane = this.lane(kind);
      if (lane.worker) throw new Error(`jobs of kind ${kind} are already processed here`);
      lane.worker = this.worker(kind, handler);
    }
  }

  async status(key: string): Promise<JobStatus> {
    const jobId = jobIdOf(key);
    for (const { queue } of this.lanes.values()) {
      const job = await queue.getJob(jobId);
      if (!job) continue;
      const status = await statusOf(job);
      // The job was read before its state: one that completed in between carries no return
      // value in that read. Read it again, now that it is known to be complete.
      if (status.state !== 'completed' || job.returnvalue !== null) return status;
      const completed = await queue.getJob(jobId);
      return completed ? { ...status, returnValue: (completed.returnvalue ?? null) as JsonValue | null } : status;
    }
    return { ...UNKNOWN_STATUS };
  }

  onEvent(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when every connection is up and events are being received. */
  async ready(): Promise<void> {
    const lanes = [...this.lanes.values()];
    await Promise.all(
      lanes.flatMap((l) => [l.queue.waitUntilReady(), l.events.waitUntilReady(), l.worker?.waitUntilReady()]),
    );
  }

  /**
   * Bounded: workers stop taking jobs and get `shutdownGraceMs` to finish their active ones;
   * past it (or at once with `force`) the jobs are abandoned, as a crash would, and another
   * worker retakes them once their lock lapses. Connections that cannot close cleanly (Redis
   * down or frozen) are dropped: a stop never waits on Redis.
   */
  async close(force = false): Promise<void> {
    const lanes = [...this.lanes.values()];
    this.lanes.clear();
    const graceMs = force ? 0 : (this.options.shutdownGraceMs ?? 5_000);
    const workers = lanes.flatMap((lane) => (lane.worker ? [lane.worker] : []));
    const finished = await within(Promise.all(workers.map((worker) => worker.close(force))), graceMs);
    if (!finished) {
      this.logger.warn(
        { graceMs },
        'workers did not stop within the grace period (active jobs, or Redis unreachable); abandoning active jobs to be retaken',
      );
    }
    const closed = await within(
      Promise.all(lanes.flatMap((lane) => [lane.events.close(), lane.queue.close()])),
      CLOSE_CONNECTIONS_MS,
    );
    if (finished && closed) return;
    // Redis away or frozen: a clean QUIT would wait for it. Drop the connections instead.
    const parts = [...workers, ...lanes.flatMap((lane) => [lane.events, lane.queue])];
    await within(Promise.all(parts.map((part) => part.disconnect())), CLOSE_CONNECTIONS_MS);
  }

  private lane(kind: string): Lane {
    const existing = this.lanes.get(kind);
    if (existing) return existing;
    const name = `spillway-${kind}`;
    const prefix = this.options.prefix ?? 'spillway';
    const queue = new Queue<StoredJob, JsonValue | null>(name, {
      connection: producerOptions(this.connection),
      prefix,
      defaultJobOptions: this.jobOptions(),
    });
    const events = new QueueEvents(name, { connection: consumerOptions(this.connection), prefix });
    // Without 'error' listeners a reconnect error would be thrown by the EventEmitter.
    queue.on('error', (error) => this.logger.debug({ err: error, kind }, 'queue connection error'));
    events.on('error', (error) => this.logger.debug({ err: error, kind }, 'queue events connection error'));
    this.forwardEvents(kind, events);
    const lane: Lane = { queue, events };
    this.lanes.set(kind, lane);
    return lane;
  }

  private jobOptions() {
    const completed = this.options.keepCompleted ?? { ageSeconds: DAY, count: 10_000 };
    const failed = this.options.keepFailed ?? { ageSeconds: 7 * DAY, count: 10_000 };
    return {
      attempts: this.retry.attempts,
      backoff: { type: 'exponential', delay: this.retry.backoff.delayMs },
      removeOnComplete: { age: completed.ageSeconds, count: completed.count },
      removeOnFail: { age: failed.ageSeconds, count: failed.count },
    };
  }

  private worker(kind: string, handler: JobHandler): Worker<StoredJob, JsonValue | null> {
    const worker = new Worker<StoredJob, JsonValue | null>(
      `spillway-${kind}`,
      async (job) => await runHandler(job, handler),
      {
        connection: consumerOptions(this.connection),
        prefix: this.options.prefix ?? 'spillway',
        concurrency: this.options.concurrency ?? 4,
        ...(this.options.lockDurationMs === undefined ? {} : { lockDuration: this.options.lockDurationMs }),
        ...(this.options.stalledIntervalMs === undefined ? {} : { stalledInterval: this.options.stalledIntervalMs }),
        ...(this.options.maxStalledCount === undefined ? {} : { maxStalledCount: this.options.maxStalledCount }),
      },
    );
    worker.on('error', (error) => this.logger.warn({ err: error, kind }, 'worker error'));
    worker.on('stalled', (jobId) => this.logger.warn({ key: keyOfJobId(jobId), kind }, 'job stalled, retaken'));
    return worker;
  }

  private forwardEvents(kind: string, events: QueueEvents): void {
    events.on('completed', ({ jobId, returnvalue }) => {
      // QueueEvents hands over the parsed return value despite its `string` type.
      this.emit({ type: 'completed', key: keyOfJobId(jobId), kind, returnValue: (returnvalue ?? null) as JsonValue });
    });
    events.on('failed', ({ jobId, failedReason }) => {
      this.emit({ type: 'failed', key: keyOfJobId(jobId), kind, failedReason });
    });
    events.on('progress', ({ jobId, data }) => {
      this.emit({ type: 'progress', key: keyOfJobId(jobId), kind, progress: data as JsonValue });
    });
  }

  private emit(event: JobEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error }, 'job event listener threw');
      }
    }
  }
}

async function runHandler(job: Job<StoredJob, JsonValue | null>, handler: JobHandler): Promise<JsonValue | null> {
  const { addedBy: _addedBy, ...action } = job.data;
  try {
    const result = await handler(action, (progress) => job.updateProgress(progress ?? 0));
    return result ?? null;
  } catch (error) {
    // Handlers know nothing of BullMQ; this is how BullMQ is told not to retry.
    if (error instanceof NonRetryableError) throw new UnrecoverableError(error.message);
    throw error;
  }
}

const STATES: Readonly<Record<string, JobState>> = {
  waiting: 'waiting',
  prioritized: 'waiting',
  'waiting-children': 'waiting',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
  delayed: 'delayed',
};

async function statusOf(job: Job<StoredJob, JsonValue | null>): Promise<JobStatus> {
  const state = STATES[await job.getState()] ?? 'unknown';
  return {
    state,
    attempts: job.attemptsStarted,
    progress: (job.progress ?? null) as JsonValue | null,
    failedReason: job.failedReason || null,
    returnValue: state === 'completed' ? (job.returnvalue ?? null) : null,
  };
}

import { type Logger, silentLogger } from '@spillway/observability';
import pRetry, { AbortError } from 'p-retry';
import type { ActionJob } from './action-job.js';
import { JobQueueUnavailableError, NonRetryableError } from './errors.js';
import type { JobEvent, JobHandler, JobQueue, JobState, JobStatus } from './job-queue.js';
import { UNKNOWN_STATUS } from './job-queue.js';
import type { JsonValue } from './json.js';
import { DEFAULT_RETRY, type RetryOptions } from './retry-options.js';

export interface InProcessJobQueueOptions extends Partial<RetryOptions> {
  /** Jobs of one kind running at once. Default 4. */
  concurrency?: number;
  /** How long a finished job still dedupes its key. Default 24 h, as the BullMQ queue keeps them. */
  keepFinishedMs?: number;
  logger?: Logger;
}

interface Entry {
  readonly job: ActionJob;
  state: JobState;
  attempts: number;
  progress: JsonValue | null;
  failedReason: string | null;
  returnValue: JsonValue | null;
  finishedAt: number | undefined;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * The JobQueue contract in this process, for embedded mode: idempotent adds by key, retries with
 * exponential backoff (p-retry), progress, status and events. Nothing survives the process, which
 * is what embedded mode promises.
 */
export class InProcessJobQueue implements JobQueue {
  private readonly entries = new Map<string, Entry>();
  private readonly waiting = new Map<string, string[]>();
  private readonly runningCount = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly handlers = new Map<string, JobHandler>();
  private readonly listeners = new Set<(event: JobEvent) => void>();
  private readonly stopping = new AbortController();
  private readonly retry: RetryOptions;
  private readonly logger: Logger;

  constructor(private readonly options: InProcessJobQueueOptions = {}) {
    this.retry = {
      attempts: options.attempts ?? DEFAULT_RETRY.attempts,
      backoff: options.backoff ?? DEFAULT_RETRY.backoff,
    };
    this.logger = options.logger ?? silentLogger();
  }

  async enqueue(job: ActionJob): Promise<{ enqueued: boolean }> {
    if (this.stopping.signal.aborted) throw new JobQueueUnavailableError(job.key, { cause: new Error('queue closed') });
    this.forgetExpired();
    if (this.entries.has(job.key)) return { enqueued: false };
    const entry: Entry = {
      job: clone(job),
      state: 'waiting',
      attempts: 0,
      // 0 before the handler reports anything, as BullMQ stores it.
      progress: 0,
      failedReason: null,
      returnValue: null,
      finishedAt: undefined,
    };
    this.entries.set(job.key, entry);
    this.waiting.set(job.kind, [...(this.waiting.get(job.kind) ?? []), job.key]);
    this.pump(job.kind);
    return { enqueued: true };
  }

  process(handlers: Readonly<Record<string, JobHandler>>): void {
    for (const [kind, handler] of Object.entries(handlers)) {
      this.handlers.set(kind, handler);
      this.pump(kind);
    }
  }

  async status(key: string): Promise<JobStatus> {
    const entry = this.entries.get(key);
    if (!entry) return { ...UNKNOWN_STATUS };
    const { state, attempts, progress, failedReason, returnValue } = entry;
    return clone({ state, attempts, progress, failedReason, returnValue });
  }

  onEvent(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    // Jobs waiting out a backoff give up; running handlers are awaited, as BullMQ's close does.
    this.stopping.abort(new Error('queue closed'));
    await Promise.allSettled([...this.running]);
  }

  private pump(kind: string): void {
    const handler = this.handlers.get(kind);
    const queue = this.waiting.get(kind) ?? [];
    const limit = this.options.concurrency ?? 4;
    while (handler && !this.stopping.signal.aborted && queue.length > 0 && (this.runningCount.get(kind) ?? 0) < limit) {
      const entry = this.entries.get(queue.shift()!);
      if (!entry) continue;
      this.runningCount.set(kind, (this.runningCount.get(kind) ?? 0) + 1);
      const run = this.run(entry, handler).finally(() => {
        this.runningCount.set(kind, (this.runningCount.get(kind) ?? 1) - 1);
        this.running.delete(run);
        this.pump(kind);
      });
      this.running.add(run);
    }
  }

  private async run(entry: Entry, handler: JobHandler): Promise<void> {
    try {
      const value = await pRetry(() => this.attempt(entry, handler), {
        retries: this.retry.attempts - 1,
        factor: 2,
        minTimeout: this.retry.backoff.delayMs,
        maxTimeout: Number.POSITIVE_INFINITY,
        randomize: false,
        signal: this.stopping.signal,
        onFailedAttempt: ({ error, retriesLeft }) => {
          if (retriesLeft > 0) entry.state = 'delayed';
          this.logger.debug({ key: entry.job.key, err: error, retriesLeft }, 'job attempt failed');
        },
      });
      this.finish(entry, 'completed', value === undefined ? null : clone(value));
    } catch (error) {
      this.finish(entry, 'failed', error instanceof Error ? error.message : String(error));
    }
  }

  private async attempt(entry: Entry, handler: JobHandler): ReturnType<JobHandler> {
    entry.state = 'active';
    entry.attempts++;
    try {
      return await handler(clone(entry.job), async (progress) => {
        entry.progress = clone(progress);
        this.emit({ type: 'progress', key: entry.job.key, kind: entry.job.kind, progress: clone(progress) });
      });
    } catch (error) {
      if (error instanceof NonRetryableError) throw new AbortError(error);
      throw error;
    }
  }

  private finish(entry: Entry, state: 'completed', value: JsonValue | null): void;
  private finish(entry: Entry, state: 'failed', reason: string): void;
  private finish(entry: Entry, state: 'completed' | 'failed', result: JsonValue | string | null): void {
    entry.state = state;
    entry.finishedAt = Date.now();
    const { key, kind } = entry.job;
    if (state === 'completed') {
      entry.returnValue = result;
      this.emit({ type: 'completed', key, kind, returnValue: result });
    } else {
      entry.failedReason = String(result);
      this.emit({ type: 'failed', key, kind, failedReason: String(result) });
    }
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

  private forgetExpired(): void {
    const horizon = Date.now() - (this.options.keepFinishedMs ?? 24 * 3_600_000);
    for (const [key, entry] of this.entries) {
      if (entry.finishedAt !== undefined && entry.finishedAt < horizon) this.entries.delete(key);
    }
  }
}

import type { ActionJob } from './action-job.js';
import type { JsonValue } from './json.js';

export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'unknown';

export interface JobStatus {
  state: JobState;
  /** How many times a handler started on it (retries and stall recoveries included). */
  attempts: number;
  progress: JsonValue | null;
  failedReason: string | null;
  returnValue: JsonValue | null;
}

/** `failed` is final: a failure that will be retried is not an event, only a `delayed` status. */
export type JobEvent =
  | { type: 'completed'; key: string; kind: string; returnValue: JsonValue | null }
  | { type: 'failed'; key: string; kind: string; failedReason: string }
  | { type: 'progress'; key: string; kind: string; progress: JsonValue };

/**
 * Runs one job. It must be idempotent: after a crash or a lost lock the same job runs again, so
 * it looks at the world first (is the nodegroup already at that size?) and only then acts.
 * Throw NonRetryableError for a failure no retry can fix.
 */
export type JobHandler = (
  job: ActionJob,
  progress: (progress: JsonValue) => Promise<void>,
) => Promise<JsonValue | undefined>;

/**
 * A lease's fencing token (the shape of @spillway/state's FencingToken): a fenced add goes
 * through only while the Redis key `key` still holds `value`, checked atomically with the add.
 */
export interface JobFence {
  readonly key?: string;
  readonly value: string;
}

/** The small interface the burst controller builds on; BullMQ and in-process implement it. */
export interface JobQueue {
  /**
   * `enqueued: false` when a job with this key exists (waiting, running, done or failed). With
   * `fence` (a leader's), refused with FencedEnqueueError once the lease has moved on; the
   * in-process queue (embedded: one process) has no lease to check and ignores it.
   */
  enqueue(job: ActionJob, fence?: JobFence): Promise<{ enqueued: boolean }>;
  /** Starts working on the given kinds in this process. */
  process(handlers: Readonly<Record<string, JobHandler>>): void;
  status(key: string): Promise<JobStatus>;
  onEvent(listener: (event: JobEvent) => void): () => void;
  /** Stops taking jobs and waits for running ones to finish, for a bounded time (BullMQ: a grace period, then they are abandoned to be retaken). */
  close(): Promise<void>;
}

export const UNKNOWN_STATUS: JobStatus = {
  state: 'unknown',
  attempts: 0,
  progress: null,
  failedReason: null,
  returnValue: null,
};

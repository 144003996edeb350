import type { MeasuredLocalityLoad } from './measured-load.js';

/**
 * The time bucket of the routers' load report store (the xDS server's LoadReportStore uses
 * it). Buckets are numbered from the epoch: bucket n covers
 * [n × 5 s, (n + 1) × 5 s). Routers publish per bucket, the controller sums buckets.
 */
export const LOAD_BUCKET_SECONDS = 5;

/** What one router measured for one service in one time bucket. */
export interface LoadBucket {
  readonly service: string;
  /** floor(epoch ms / 5,000). */
  readonly bucket: number;
  readonly localities: readonly MeasuredLocalityLoad[];
}

/** The bucket holding `at` (epoch ms). */
export function loadBucketOf(at: number): number {
  return Math.floor(at / (LOAD_BUCKET_SECONDS * 1000));
}

/**
 * The buckets a window of `windowSeconds` ending at `at` covers, as a router's
 * measuredLoad counts them: the bucket holding the window's start counts whole.
 */
export function loadBucketsOfWindow(windowSeconds: number, at: number): { from: number; to: number } {
  return { from: loadBucketOf(at - windowSeconds * 1000), to: loadBucketOf(at) };
}

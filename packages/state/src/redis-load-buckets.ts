import {
  type LoadBucket,
  loadBucketsOfWindow,
  type MeasuredLoad,
  type MeasuredLoadReader,
  MeasuredLocalityLoad,
  sumMeasuredLoads,
} from '@spillway/model';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { CorruptStateError } from './errors.js';
import { redisCall } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { parseStored, toStored } from './stored-json.js';

const StoredLocalities = z.array(MeasuredLocalityLoad);

/** Commands per pipeline: a fleet of busy services is sent in slices, not one huge write. */
const PIPELINE_SLICE = 500;

/** The longest window a reader asks for (600 s, as `GET /v1/load`), plus a minute of clock skew between processes. */
export const LOAD_BUCKET_TTL_SECONDS = 660;

export interface RedisLoadBucketsOptions {
  /** How long a bucket key lives after its last write; default LOAD_BUCKET_TTL_SECONDS. */
  readonly ttlSeconds?: number;
  /** A stored entry that does not parse: it is skipped (and counted), the rest still sum. */
  readonly onCorrupt?: (error: CorruptStateError) => void;
}

/**
 * Every router's measured load in Redis, per (service, 5 s bucket): one hash per bucket
 * (`spillway:load:SERVICE:BUCKET`), one field per router (its id) holding what that router's
 * clients reported in that bucket. A key expires `ttlSeconds` after its last write, so Redis
 * holds at most (services with reports) × (ttl / 5 s) keys, each with one field per router
 * that had reports then. A router that dies keeps its past buckets until they expire: that
 * load happened, and its clients report their later load to the router they move to.
 */
export class RedisLoadBuckets {
  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
    private readonly options: RedisLoadBucketsOptions = {},
  ) {}

  /** Writes (or rewrites) this router's share of each bucket. */
  async publish(router: string, buckets: readonly LoadBucket[]): Promise<void> {
    const ttlMs = (this.options.ttlSeconds ?? LOAD_BUCKET_TTL_SECONDS) * 1000;
    for (let start = 0; start < buckets.length; start += PIPELINE_SLICE) {
      const pipeline = this.client.pipeline();
      for (const bucket of buckets.slice(start, start + PIPELINE_SLICE)) {
        const key = this.keys.loadBucket(bucket.service, bucket.bucket);
        pipeline.hset(key, router, toStored(bucket.localities, 'load bucket'));
        pipeline.pexpire(key, ttlMs);
      }
      const results = await redisCall('load.publish', () => pipeline.exec());
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
    }
  }

  /** Every router's localities for `service` in buckets from..to (at most 600 s of them). */
  async read(service: string, from: number, to: number): Promise<MeasuredLocalityLoad[][]> {
    const pipeline = this.client.pipeline();
    const keys: string[] = [];
    for (let bucket = from; bucket <= to; bucket++) {
      const key = this.keys.loadBucket(service, bucket);
      keys.push(key);
      pipeline.hgetall(key);
    }
    const results = (await redisCall('load.read', () => pipeline.exec())) ?? [];
    const parts: MeasuredLocalityLoad[][] = [];
    results.forEach(([error, value], index) => {
      if (error) throw error;
      const key = keys[index] ?? '';
      for (const [router, raw] of Object.entries((value ?? {}) as Record<string, string>)) {
        const part = this.parse(raw, key, router);
        if (part) parts.push(part);
      }
    });
    return parts;
  }

  private parse(raw: string, key: string, router: string): MeasuredLocalityLoad[] | undefined {
    try {
      return parseStored(StoredLocalities, raw, key, router);
    } catch (error) {
      this.options.onCorrupt?.(error as CorruptStateError);
      return undefined;
    }
  }
}

/**
 * The measured load of the whole router fleet (distributed mode): every router's buckets in the
 * window, summed. The window's buckets are counted as one router counts them (whole buckets).
 */
export class FleetMeasuredLoad implements MeasuredLoadReader {
  constructor(
    private readonly buckets: RedisLoadBuckets,
    private readonly now: () => number = Date.now,
  ) {}

  async measuredLoad(service: string, windowSeconds: number): Promise<MeasuredLoad> {
    const { from, to } = loadBucketsOfWindow(windowSeconds, this.now());
    return sumMeasuredLoads(service, windowSeconds, await this.buckets.read(service, from, to));
  }
}

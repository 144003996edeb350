import { type CloudFakes, startCloudFakes } from '@spillway/test/support/burst-world';
import { startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { type RedisHarness, type RedisHarnessOptions, startRedisHarness, withDeadline } from './redis-controller.js';

/** Two controllers of one world on one real Redis: `first` leads, `second` stands by. */
export interface ControllerPair {
  readonly first: RedisHarness;
  readonly second: RedisHarness;
  /** The cloud fakes both use; the pair owns them, so stopping either controller leaves them up. */
  readonly cloud: CloudFakes;
  /** The Redis both keep their state and lease in. */
  readonly redisUrl: string;
  /** Stops both controllers (either may be stopped already), then the fakes and Redis. */
  stop(): Promise<void>;
}

/**
 * Starts Redis, the cloud fakes, a leading controller and a standby, each with `policy` over the
 * default; `first` adds options of the leading one's own (e.g. wrapStores).
 */
export async function startControllerPair(
  options: { policy?: Record<string, unknown>; first?: Pick<RedisHarnessOptions, 'wrapStores'> } = {},
): Promise<ControllerPair> {
  const redis = await startRedis();
  const cloud = await startCloudFakes({ kubernetesToken: 'k8s-token', readyStep: 1, nodegroupUpdates: 2 });
  const harness = (own: Pick<RedisHarnessOptions, 'wrapStores'> = {}) =>
    startRedisHarness({ redisUrl: redis.url, cloud, ...own, ...(options.policy ? { policy: options.policy } : {}) });
  const started: RedisHarness[] = [];
  const stop = async () => {
    const results = await Promise.allSettled(started.reverse().map((h) => withDeadline(h.stop(), 30_000)));
    await cloud.close();
    await redis.stop();
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    const first = await harness(options.first);
    started.push(first);
    await waitFor(() => first.running.controller.isLeader(), { message: 'the first controller leading' });
    const second = await harness();
    started.push(second);
    return { first, second, cloud, redisUrl: redis.url, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

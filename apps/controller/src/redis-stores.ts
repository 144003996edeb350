import type { BurstState } from '@spillway/burst';
import { type ControllerSettings, leaseRenewSeconds, type RetentionSettings } from '@spillway/config';
import { BullMqJobQueue } from '@spillway/jobs';
import type { Logger } from '@spillway/observability';
import {
  type AlertBookLimits,
  createRedisClient,
  type RedisAccess,
  RedisAlertBook,
  RedisAuditLog,
  RedisBurstRecords,
  RedisCommandInbox,
  RedisDueIndex,
  RedisHealth,
  RedisKeys,
  RedisLease,
  RedisLoadBuckets,
  RedisStateStore,
  RedisTrafficPolicyStore,
} from '@spillway/state';
import { StoredBurstState } from './burst-state-schema.js';

export type { RedisAccess } from '@spillway/state';
export { FleetMeasuredLoad } from '@spillway/state';

import { type ControllerStores, storeRetention } from './controller-service.js';

export interface RedisControllerStores extends ControllerStores {
  readonly traffic: RedisTrafficPolicyStore;
  readonly health: RedisHealth;
  /** Every router's measured load (FleetMeasuredLoad reads it). */
  readonly loadBuckets: RedisLoadBuckets;
}

/**
 * Distributed mode: burst state, records, audit, commands, the alert book, the lease, the traffic policies and
 * the job queue all live in one Redis, so a controller that dies mid-burst is resumed by the
 * next leader and every router sees the policies the leader sets.
 */
export async function redisStores(
  url: string,
  options: {
    logger: Logger;
    /** The config's `controller:` (lease and job locks); absent, the defaults. */
    controller?: ControllerSettings;
    /** Overrides `controller.leaseSeconds` (tests). */
    leaseTtlMs?: number;
    access?: RedisAccess;
    startTimeoutMs?: number;
    alerts?: AlertBookLimits;
    retention?: RetentionSettings;
  },
): Promise<RedisControllerStores> {
  const { bursts, caps } = storeRetention(options.retention);
  const health = new RedisHealth();
  const access = options.access ?? {};
  const client = createRedisClient(url, { name: 'spillway-controller', health, access });
  const keys = new RedisKeys();
  const traffic = new RedisTrafficPolicyStore(client, keys, {
    logger: options.logger,
    ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
  });
  await startOrDisconnect(traffic, client);
  const jobs = new BullMqJobQueue(
    { url, password: access.password, ca: access.ca },
    {
      logger: options.logger,
      ...jobLocks(options.controller),
    },
  );
  return {
    states: new RedisStateStore<BurstState>(client, keys, StoredBurstState),
    bursts: new RedisBurstRecords(client, keys, bursts ? { retention: bursts } : {}),
    audit: new RedisAuditLog(client, keys, caps ? { caps } : {}),
    inbox: new RedisCommandInbox(client, keys, (error) =>
      options.logger.warn({ err: error.message }, 'dropped a corrupt operator command'),
    ),
    alerts: new RedisAlertBook(client, keys, options.alerts, (error) =>
      options.logger.warn({ err: error.message }, 'skipped a corrupt alert book entry'),
    ),
    lease: new RedisLease(client, keys, {
      logger: options.logger,
      ...leaseTiming(options.controller, options.leaseTtlMs),
    }),
    due: new RedisDueIndex(client, keys),
    jobs,
    traffic,
    health,
    loadBuckets: new RedisLoadBuckets(client, keys, { onCorrupt: corruptLoadBucket(options.logger) }),
    async close() {
      await jobs.close();
      await traffic.stop();
      client.disconnect();
    },
  };
}

/** The lease's ttl and renewal from `controller:`; absent, RedisLease's defaults (10 s, a third). */
function leaseTiming(settings: ControllerSettings | undefined, ttlOverrideMs: number | undefined) {
  if (ttlOverrideMs) return { ttlMs: ttlOverrideMs };
  if (!settings) return {};
  return { ttlMs: settings.leaseSeconds * 1000, renewMs: leaseRenewSeconds(settings) * 1000 };
}

/**
 * The job locks from `controller:`: one setting for the lock and for how often workers look for
 * lapsed ones (BullMQ's lockDuration and stalledInterval, both 30 s by default).
 */
function jobLocks(settings: ControllerSettings | undefined) {
  if (!settings) return {};
  const ms = settings.jobLockSeconds * 1000;
  return { lockDurationMs: ms, stalledIntervalMs: ms };
}

/** The routers' side: traffic policies from Redis, kept in sync over pub/sub. */
export async function redisTrafficPolicies(
  url: string,
  logger: Logger,
  access: RedisAccess = {},
): Promise<{
  policies: RedisTrafficPolicyStore;
  health: RedisHealth;
  /** Where the router publishes its measured load (FleetLoadPublisher), on the same connection. */
  loadBuckets: RedisLoadBuckets;
  close(): Promise<void>;
}> {
  const health = new RedisHealth();
  const client = createRedisClient(url, { name: 'spillway-router-policies', health, access });
  const keys = new RedisKeys();
  const policies = new RedisTrafficPolicyStore(client, keys, { logger });
  await startOrDisconnect(policies, client);
  return {
    policies,
    health,
    loadBuckets: new RedisLoadBuckets(client, keys, { onCorrupt: corruptLoadBucket(logger) }),
    async close() {
      await policies.stop();
      client.disconnect();
    },
  };
}

/** A start that fails (Redis unreachable, a certificate not trusted) leaves no client reconnecting behind. */
async function startOrDisconnect(store: RedisTrafficPolicyStore, client: { disconnect(): void }): Promise<void> {
  try {
    await store.start();
  } catch (error) {
    await store.stop();
    client.disconnect();
    throw error;
  }
}

function corruptLoadBucket(logger: Logger): (error: Error) => void {
  return (error) => logger.warn({ err: error.message }, 'skipped a corrupt measured-load bucket');
}

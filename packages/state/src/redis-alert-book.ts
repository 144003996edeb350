import type { Redis } from 'ioredis';
import {
  type AlertBook,
  type AlertBookLimits,
  AlertObservation,
  type AlertRecordResult,
  DEFAULT_ALERT_EXPIRY_MS,
  DEFAULT_ALERTS_PER_SERVICE,
  HeldAlert,
  heldAlert,
} from './alert-book.js';
import { CorruptStateError } from './errors.js';
import { redisCall } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { parseStored, toStored } from './stored-json.js';

/**
 * Records observations atomically, with the rule of `supersedes` (alert-book.ts): prune what has
 * expired, replace an entry unless the observation is of an earlier episode, bound the book by
 * dropping the least recently refreshed, and let both keys expire with their last entry (relative to `now`, the caller's clock).
 * KEYS: the hash (fingerprint → entry JSON), the sorted set (fingerprint by expiresAt).
 * ARGV: now, maxPerService, then per observation: fingerprint, startsAt, status, endsAt ('' when
 * none), expiresAt, entry JSON. Returns {applied, ignored}.
 */
const RECORD_SCRIPT = `
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
for _, fp in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do redis.call('HDEL', KEYS[1], fp) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local applied, ignored = 0, 0
for i = 3, #ARGV, 6 do
  local fp, startsAt, status, endsAt = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], tonumber(ARGV[i + 3])
  local skip = false
  local raw = redis.call('HGET', KEYS[1], fp)
  if raw then
    local ok, held = pcall(cjson.decode, raw)
    if ok and type(held) == 'table' and type(held.startsAt) == 'number' then
      if startsAt < held.startsAt then skip = true
      elseif status == 'resolved' and endsAt ~= nil and endsAt < held.startsAt then skip = true end
    end
  end
  if skip then ignored = ignored + 1 else
    redis.call('HSET', KEYS[1], fp, ARGV[i + 5])
    redis.call('ZADD', KEYS[2], ARGV[i + 4], fp)
    applied = applied + 1
  end
end
local over = redis.call('ZCARD', KEYS[2]) - max
if over > 0 then
  for _, fp in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do redis.call('HDEL', KEYS[1], fp) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] then
  local ttl = math.max(1, math.floor(tonumber(last[2]) - now))
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {applied, ignored}
`;

/**
 * AlertBook in Redis: per service, a hash of entries by fingerprint and a sorted set of the same
 * fingerprints by expiry. Every controller records into it; the leader reads it each pass.
 */
export class RedisAlertBook implements AlertBook {
  private readonly expiryMs: number;
  private readonly maxPerService: number;

  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
    limits: AlertBookLimits = {},
    /** Where an unreadable entry is reported; it is skipped, and expires with its key. */
    private readonly onCorrupt: (error: CorruptStateError) => void = () => {},
  ) {
    this.expiryMs = limits.expiryMs ?? DEFAULT_ALERT_EXPIRY_MS;
    this.maxPerService = limits.maxPerService ?? DEFAULT_ALERTS_PER_SERVICE;
  }

  async record(service: string, observations: readonly AlertObservation[], now: number): Promise<AlertRecordResult> {
    const args: string[] = [String(now), String(this.maxPerService)];
    for (const raw of observations) {
      const observation = AlertObservation.parse(raw);
      const entry = heldAlert(observation, now, this.expiryMs);
      args.push(
        observation.fingerprint,
        String(observation.startsAt),
        observation.status,
        observation.endsAt === null ? '' : String(observation.endsAt),
        String(entry.expiresAt),
        toStored(entry, `alert ${observation.fingerprint}`),
      );
    }
    const [applied, ignored] = (await redisCall('alerts.record', () =>
      this.client.eval(RECORD_SCRIPT, 2, this.keys.alerts(service), this.keys.alertsByExpiry(service), ...args),
    )) as [number, number];
    return { applied, ignored };
  }

  async firing(service: string, now: number): Promise<HeldAlert[]> {
    const key = this.keys.alerts(service);
    const raw = await redisCall('alerts.firing', () => this.client.hgetall(key));
    const firing: HeldAlert[] = [];
    for (const [fingerprint, text] of Object.entries(raw)) {
      try {
        const alert = parseStored(HeldAlert, text, key, fingerprint);
        if (alert.status === 'firing' && alert.expiresAt > now) firing.push(alert);
      } catch (error) {
        if (!(error instanceof CorruptStateError)) throw error;
        this.onCorrupt(error);
      }
    }
    return firing;
  }
}

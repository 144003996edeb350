import type { Redis } from 'ioredis';
import {
  type AuditCaps,
  type AuditClass,
  AuditEntry,
  type AuditLog,
  type AuditPage,
  type AuditQuery,
  type AuditStreams,
  auditClassOf,
  boundAuditEntry,
  DEFAULT_AUDIT_CAPS,
  readAuditPage,
  type StoredAuditEntry,
  type StreamBound,
  type StreamId,
} from './audit-log.js';
import { CorruptStateError } from './errors.js';
import { FENCE_GUARD, type FencingToken, fenceArgs, fencedCall } from './fencing.js';
import { redisCall } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { parseStored, toStored } from './stored-json.js';

/**
 * XADD with an id from one clock shared by every class (KEYS[2]: the last id given), so ids are
 * unique and ordered across the streams and the merged read is the append order. Never below the
 * stream's own last id, should the clock hash be lost. A leader's entry is fenced (KEYS[1],
 * ARGV[1]). KEYS[2]: the class's stream, KEYS[3]: the clock. ARGV[2]: cap, ARGV[3]: entry JSON.
 */
const APPEND_SCRIPT = `${FENCE_GUARD}
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = 0
local clock = redis.call('HMGET', KEYS[3], 'ms', 'seq')
local lastMs = tonumber(clock[1])
if lastMs and ms <= lastMs then
  ms = lastMs
  seq = tonumber(clock[2]) + 1
end
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
if top then
  local topMs, topSeq = string.match(top[1], '^(%d+)-(%d+)$')
  topMs = tonumber(topMs)
  topSeq = tonumber(topSeq)
  if topMs > ms or (topMs == ms and topSeq >= seq) then
    ms = topMs
    seq = topSeq + 1
  end
end
redis.call('HSET', KEYS[3], 'ms', ms, 'seq', seq)
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], string.format('%d-%d', ms, seq), 'entry', ARGV[3])
`;

/**
 * AuditLog in Redis streams, one per class, each capped with `XADD MAXLEN ~` (Redis trims whole
 * nodes, so a length hovers just above its cap, cheaply). Each entry is one field, `entry`,
 * holding the JSON. Reads merge the classes by stream id, which one clock stamps in append order.
 */
export class RedisAuditLog implements AuditLog, AuditStreams {
  private readonly caps: AuditCaps;

  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
    options: { caps?: Partial<AuditCaps> } = {},
  ) {
    this.caps = { ...DEFAULT_AUDIT_CAPS, ...options.caps };
  }

  async append(entry: AuditEntry, fence?: FencingToken): Promise<void> {
    const valid = boundAuditEntry(AuditEntry.parse(entry));
    const cls = auditClassOf(valid.kind);
    const text = toStored(valid, 'audit entry');
    const { key, token } = fenceArgs(fence, this.keys.auditClock());
    const keys = [key, this.keys.audit(cls), this.keys.auditClock()];
    await fencedCall('audit.append', () => this.client.eval(APPEND_SCRIPT, 3, ...keys, token, this.caps[cls], text));
  }

  async page(query: AuditQuery): Promise<AuditPage> {
    return await readAuditPage(this, query);
  }

  async readBefore(cls: AuditClass, before: StreamBound | null, count: number): Promise<StoredAuditEntry[]> {
    const key = this.keys.audit(cls);
    const end = before === null ? '+' : `${before.inclusive ? '' : '('}${before.id[0]}-${before.id[1]}`;
    const read = await redisCall('audit.list', () => this.client.xrevrange(key, end, '-', 'COUNT', count));
    return read.map(([id, fields]) => ({ id: parseStreamId(key, id), entry: this.parse(key, id, fields) }));
  }

  private parse(key: string, id: string, fields: string[]): AuditEntry {
    const index = fields.indexOf('entry');
    const raw = index >= 0 ? fields[index + 1] : undefined;
    if (raw === undefined) throw new CorruptStateError(key, id, 'no entry field');
    return parseStored(AuditEntry, raw, key, id);
  }
}

function parseStreamId(key: string, id: string): StreamId {
  const match = /^(\d+)-(\d+)$/.exec(id);
  if (!match) throw new CorruptStateError(key, id, 'not a stream id');
  return [Number(match[1]), Number(match[2])];
}

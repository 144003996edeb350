import type { Redis } from 'ioredis';
import { byIssueTime, type CommandInbox, InboxCommand } from './command-inbox.js';
import { CorruptStateError } from './errors.js';
import { redisCall } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { toStored } from './stored-json.js';

/**
 * Takes a service's whole list and forgets the service, in one step: nothing pushed in between
 * can be lost (push is a MULTI of RPUSH and SADD) and nothing is handed out twice.
 */
const DRAIN_SCRIPT = `
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return items
`;

/** CommandInbox in Redis: a list per service, plus a set of services with pending commands. */
export class RedisCommandInbox implements CommandInbox {
  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
    /** Where a dropped corrupt command is reported (the controller's audit or logger). */
    private readonly onCorrupt: (error: CorruptStateError) => void = () => {},
  ) {}

  async push(command: InboxCommand): Promise<void> {
    const valid = InboxCommand.parse(command);
    const text = toStored(valid, `command ${valid.id}`);
    const tx = this.client.multi().rpush(this.keys.inbox(valid.service), text);
    tx.sadd(this.keys.inboxServices(), valid.service);
    await redisCall('inbox.push', () => tx.exec());
  }

  async drain(service?: string): Promise<InboxCommand[]> {
    if (service !== undefined) return await this.drainOne(service);
    const services = await redisCall('inbox.drain', () => this.client.smembers(this.keys.inboxServices()));
    const all: InboxCommand[] = [];
    for (const name of services) all.push(...(await this.drainOne(name)));
    return all.sort(byIssueTime);
  }

  private async drainOne(service: string): Promise<InboxCommand[]> {
    const key = this.keys.inbox(service);
    const raw = await redisCall('inbox.drain', () =>
      this.client.eval(DRAIN_SCRIPT, 2, key, this.keys.inboxServices(), service),
    );
    const texts = Array.isArray(raw) ? raw.map(String) : [];
    // Already removed from Redis: a bad entry is reported, the good ones still delivered.
    return texts.flatMap((text, index) => this.parse(key, index, text));
  }

  private parse(key: string, index: number, text: string): InboxCommand[] {
    try {
      const result = InboxCommand.safeParse(JSON.parse(text));
      if (result.success) return [result.data];
      throw new CorruptStateError(key, String(index), result.error.message);
    } catch (error) {
      this.onCorrupt(
        error instanceof CorruptStateError ? error : new CorruptStateError(key, String(index), `${error}`),
      );
      return [];
    }
  }
}

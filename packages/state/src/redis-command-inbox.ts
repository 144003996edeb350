import type { Redis } from 'ioredis';
import { byIssueTime, CommandExpiredError, type CommandInbox, InboxCommand } from './command-inbox.js';
import { CorruptStateError } from './errors.js';
import { FENCE_GUARD, type FencingToken, fenceArgs, fencedCall } from './fencing.js';
import { redisCall } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { toStored } from './stored-json.js';

/**
 * Removes the entries whose id is in ARGV[2..] from the list KEYS[2], and forgets the service
 * (KEYS[4]) in the set KEYS[3] once its list is empty. A push in between (a script of RPUSH and
 * SADD) is never lost: only the named entries go. Fenced: KEYS[1], ARGV[1].
 */
const ACK_SCRIPT = `${FENCE_GUARD}
local done = {}
for i = 2, #ARGV do done[ARGV[i]] = true end
for _, item in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local ok, command = pcall(cjson.decode, item)
  if ok and type(command) == 'table' and done[command.id] then
    redis.call('LREM', KEYS[2], 1, item)
  end
end
if redis.call('LLEN', KEYS[2]) == 0 then redis.call('SREM', KEYS[3], KEYS[4]) end
return 1
`;

/**
 * Appends a command and notes its service, unless Redis's own clock is past ARGV[3] (epoch ms,
 * empty for none): then nothing is written and the answer is how late it was. Runs when Redis
 * runs it, so a push that waited in the socket of a frozen server is judged by when it lands.
 */
const PUSH_SCRIPT = `
if ARGV[3] ~= '' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local late = now - tonumber(ARGV[3])
  if late > 0 then return late end
end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 0
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
    const keys = [this.keys.inbox(valid.service), this.keys.inboxServices()];
    const deadline = valid.notAfter === undefined ? '' : String(valid.notAfter);
    const late = await redisCall('inbox.push', () =>
      this.client.eval(PUSH_SCRIPT, 2, ...keys, text, valid.service, deadline),
    );
    if (Number(late) > 0) throw new CommandExpiredError(valid.id, Number(late));
  }

  async peek(service?: string): Promise<InboxCommand[]> {
    if (service !== undefined) return await this.peekOne(service);
    const services = await redisCall('inbox.peek', () => this.client.smembers(this.keys.inboxServices()));
    const all: InboxCommand[] = [];
    for (const name of services) all.push(...(await this.peekOne(name)));
    return all.sort(byIssueTime);
  }

  async ack(service: string, ids: readonly string[], fence?: FencingToken): Promise<void> {
    const key = this.keys.inbox(service);
    const guard = fenceArgs(fence, key);
    await fencedCall('inbox.ack', () =>
      this.client.eval(ACK_SCRIPT, 4, guard.key, key, this.keys.inboxServices(), service, guard.token, ...ids),
    );
  }

  private async peekOne(service: string): Promise<InboxCommand[]> {
    const key = this.keys.inbox(service);
    const raw = await redisCall('inbox.peek', () => this.client.lrange(key, 0, -1));
    const commands: InboxCommand[] = [];
    for (const [index, text] of raw.entries()) {
      const command = this.parse(key, index, text);
      if (command) commands.push(command);
      // Reported once and removed: an entry nobody can read would otherwise be reported every pass.
      else await redisCall('inbox.peek', () => this.client.lrem(key, 1, text));
    }
    return commands;
  }

  private parse(key: string, index: number, text: string): InboxCommand | undefined {
    try {
      const result = InboxCommand.safeParse(JSON.parse(text));
      if (result.success) return result.data;
      throw new CorruptStateError(key, String(index), result.error.message);
    } catch (error) {
      this.onCorrupt(
        error instanceof CorruptStateError ? error : new CorruptStateError(key, String(index), `${error}`),
      );
      return undefined;
    }
  }
}

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AUDIT_ENTRY_MAX_BYTES,
  type AuditCaps,
  type AuditEntry,
  type AuditLog,
  type AuditQuery,
  type BurstQuery,
  type BurstRecord,
  type BurstRecords,
  type BurstRecordsOptions,
  CommandExpiredError,
  type CommandInbox,
  CorruptStateError,
  InMemoryAuditLog,
  InMemoryBurstRecords,
  InMemoryCommandInbox,
  InMemoryStateStore,
  InvalidCursorError,
  RedisAuditLog,
  RedisBurstRecords,
  RedisCommandInbox,
  RedisStateStore,
  type StateStore,
} from '../src/index.js';
import { useRedis } from './redis-fixture.js';

const ControllerState = z.object({ phase: z.string(), step: z.number().int(), since: z.string() });
type ControllerState = z.infer<typeof ControllerState>;

interface Backend {
  name: string;
  stateStore(): Promise<StateStore<ControllerState>>;
  bursts(options?: BurstRecordsOptions): Promise<BurstRecords>;
  audit(caps?: Partial<AuditCaps>): Promise<AuditLog>;
  inbox(): Promise<CommandInbox>;
}

const fixture = useRedis();
/** The records' clock: an hour after `at(0)`, so the default retention keeps the test's records. */
const testNow = () => Date.UTC(2025, 0, 1, 13);
const backends: Backend[] = [
  {
    name: 'in-memory',
    stateStore: async () => new InMemoryStateStore(ControllerState),
    bursts: async (options) => new InMemoryBurstRecords({ now: testNow, ...options }),
    audit: async (caps) => new InMemoryAuditLog(caps ? { caps } : {}),
    inbox: async () => new InMemoryCommandInbox(),
  },
  {
    name: 'redis',
    stateStore: async () => new RedisStateStore(await fixture.client(), fixture.keys(), ControllerState),
    bursts: async (options) =>
      new RedisBurstRecords(await fixture.client(), fixture.keys(), { now: testNow, ...options }),
    audit: async (caps) => new RedisAuditLog(await fixture.client(), fixture.keys(), caps ? { caps } : {}),
    inbox: async () => new RedisCommandInbox(await fixture.client(), fixture.keys()),
  },
];

const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 12, 0, second)).toISOString();

function burst(id: string, service: string, createdSecond: number, active: boolean): BurstRecord {
  return { id, service, createdAt: at(createdSecond), updatedAt: at(createdSecond), active, share: 0.3 };
}

/** Every page of a listing, following `next` until it is null. */
async function walkAudit(log: AuditLog, query: AuditQuery): Promise<{ entries: AuditEntry[]; pages: number }> {
  const entries: AuditEntry[] = [];
  let cursor: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await log.page({ ...query, ...(cursor ? { cursor } : {}) });
    entries.push(...page.entries);
    if (page.next === null) return { entries, pages };
    cursor = page.next;
  }
}

async function walkBursts(records: BurstRecords, query: BurstQuery): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await records.page({ ...query, ...(cursor ? { cursor } : {}) });
    ids.push(...page.bursts.map((record) => record.id));
    if (page.next === null) return ids;
    cursor = page.next;
  }
}

function entry(second: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return { at: at(second), actor: 'controller', kind: 'decision', message: `m${second}`, ...overrides };
}

describe.each(backends)('$name stores', (backend) => {
  describe('StateStore', () => {
    it('puts, gets, lists and deletes per-service state as validated copies', async () => {
      const store = await backend.stateStore();
      const state = { phase: 'shifting', step: 2, since: at(1) };
      await store.put('web.shop', state);
      await store.put('api.shop', { phase: 'idle', step: 0, since: at(0) });
      state.step = 99;
      expect(await store.get('web.shop')).toEqual({ phase: 'shifting', step: 2, since: at(1) });
      expect(await store.get('missing.shop')).toBeUndefined();
      const snapshot = await store.all();
      expect([...snapshot.states.keys()].sort()).toEqual(['api.shop', 'web.shop']);
      expect(snapshot.corrupt).toEqual([]);
      await store.delete('api.shop');
      expect((await store.all()).states.has('api.shop')).toBe(false);
    });
  });

  describe('BurstRecords', () => {
    it('lists newest first, filtered by service and activity, limited', async () => {
      const records = await backend.bursts();
      await records.put(burst('b1', 'web.shop', 1, false));
      await records.put(burst('b2', 'api.shop', 2, true));
      await records.put(burst('b3', 'web.shop', 3, true));
      await records.put(burst('b4', 'web.shop', 4, false));
      const ids = async (query: BurstQuery) => (await records.page(query)).bursts.map((record) => record.id);
      expect(await ids({ limit: 10 })).toEqual(['b4', 'b3', 'b2', 'b1']);
      expect(await ids({ limit: 2 })).toEqual(['b4', 'b3']);
      expect(await ids({ service: 'web.shop', limit: 10 })).toEqual(['b4', 'b3', 'b1']);
      expect(await ids({ active: true, limit: 10 })).toEqual(['b3', 'b2']);
      expect(await ids({ active: false, service: 'web.shop', limit: 10 })).toEqual(['b4', 'b1']);
    });

    it('pages with a cursor: every record once, newest first, ties on createdAt included', async () => {
      const records = await backend.bursts();
      // b3..b6 share one createdAt: the cursor must not skip or repeat inside the tie.
      const seconds = [1, 2, 3, 3, 3, 3, 4, 5];
      for (const [i, second] of seconds.entries()) await records.put(burst(`b${i}`, 'web.shop', second, i % 3 === 0));
      const all = (await records.page({ limit: 100 })).bursts.map((record) => record.id);
      expect(all).toEqual(['b7', 'b6', 'b5', 'b4', 'b3', 'b2', 'b1', 'b0']);
      for (const limit of [1, 2, 3, 7]) expect(await walkBursts(records, { limit })).toEqual(all);
      expect(await walkBursts(records, { limit: 2, active: true })).toEqual(['b6', 'b3', 'b0']);
      expect(await walkBursts(records, { limit: 2, active: false })).toEqual(['b7', 'b5', 'b4', 'b2', 'b1']);
      const first = await records.page({ limit: 8 });
      expect(first.next).toBeNull();
      await expect(records.page({ limit: 2, cursor: 'garbage!' })).rejects.toBeInstanceOf(InvalidCursorError);
      const foreign = Buffer.from(JSON.stringify(['x', 1])).toString('base64url');
      await expect(records.page({ limit: 2, cursor: foreign })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('keeps every active burst and the newest ended ones, by count and by age', async () => {
      const day = 24 * 3600 * 1000;
      let now = Date.parse(at(0)) + 30 * day;
      const records = await backend.bursts({ retention: { maxEnded: 3, maxAgeMs: 10 * day }, now: () => now });
      const ended = (id: string, daysAgo: number): BurstRecord => ({
        ...burst(id, 'web.shop', 0, false),
        updatedAt: new Date(now - daysAgo * day).toISOString(),
      });
      // Active for 30 days: older than any retention, still kept.
      await records.put(burst('running', 'web.shop', 0, true));
      await records.put(ended('e-old', 12));
      await records.put(ended('e1', 5));
      await records.put(ended('e2', 4));
      expect(await records.get('e-old')).toBeUndefined();
      await records.put(ended('e3', 3));
      await records.put(ended('e4', 2));
      expect(await records.get('e1')).toBeUndefined();
      expect((await walkBursts(records, { limit: 100 })).sort()).toEqual(['e2', 'e3', 'e4', 'running']);
      // Time alone ages them out at the next listing or put.
      now += 7.5 * day;
      expect((await walkBursts(records, { limit: 100 })).sort()).toEqual(['e4', 'running']);
      expect(await records.get('running')).toMatchObject({ active: true });
    });

    it('replaces a record by id, keeps extra fields, and moves it out of the active set', async () => {
      const records = await backend.bursts();
      await records.put(burst('b1', 'web.shop', 1, true));
      await records.put({ ...burst('b1', 'web.shop', 1, false), updatedAt: at(9), phase: 'rolled-back' });
      expect(await records.get('b1')).toMatchObject({ active: false, updatedAt: at(9), phase: 'rolled-back' });
      expect((await records.page({ active: true, limit: 10 })).bursts).toEqual([]);
      expect(await records.get('nope')).toBeUndefined();
    });

    it('refuses a record without the contract fields', async () => {
      const records = await backend.bursts();
      const bad = { id: 'b1', service: 'web.shop', active: true } as unknown as BurstRecord;
      await expect(records.put(bad)).rejects.toThrow(/createdAt/);
    });
  });

  describe('AuditLog', () => {
    it('lists newest first with filters, since and limit', async () => {
      const log = await backend.audit();
      await log.append(entry(1, { service: 'web.shop', burstId: 'b1' }));
      await log.append(entry(2, { service: 'api.shop', kind: 'api', actor: 'ops' }));
      await log.append(entry(3, { service: 'web.shop', burstId: 'b1', kind: 'action', details: { step: 1 } }));
      await log.append(entry(4, { service: 'web.shop', burstId: 'b2' }));
      const messages = async (query: AuditQuery) => (await log.page(query)).entries.map((e) => e.message);
      expect(await messages({ limit: 10 })).toEqual(['m4', 'm3', 'm2', 'm1']);
      expect(await messages({ limit: 2 })).toEqual(['m4', 'm3']);
      expect(await messages({ service: 'web.shop', limit: 10 })).toEqual(['m4', 'm3', 'm1']);
      expect(await messages({ burstId: 'b1', limit: 10 })).toEqual(['m3', 'm1']);
      expect(await messages({ since: at(2), limit: 10 })).toEqual(['m4', 'm3', 'm2']);
      expect(await messages({ classes: ['operator'], limit: 10 })).toEqual(['m2']);
      expect((await log.page({ burstId: 'b1', limit: 1 })).entries[0]?.details).toEqual({ step: 1 });
    });

    it('is capped per class: the oldest entries of a class go first', async () => {
      const log = await backend.audit({ decision: 10 });
      for (let second = 0; second < 400; second++) await log.append(entry(second % 60));
      const { entries } = await walkAudit(log, { limit: 1_000 });
      // Redis trims `MAXLEN ~` by whole stream nodes: a little above the cap, never unbounded.
      expect(entries.length).toBeGreaterThanOrEqual(10);
      expect(entries.length).toBeLessThan(400);
    });

    it('a flood of webhook signals never evicts an operator request or a decision', async () => {
      const log = await backend.audit({ operator: 10, decision: 10, signal: 10 });
      await log.append(entry(1, { kind: 'api', actor: 'ops', message: 'manual burst requested' }));
      await log.append(entry(2, { kind: 'decision', message: 'start' }));
      for (let i = 0; i < 2_000; i++)
        await log.append(entry(3, { kind: 'signal', actor: 'am', message: `noise ${i}` }));
      const { entries } = await walkAudit(log, { limit: 1_000 });
      expect(entries.map((e) => e.message)).toEqual(expect.arrayContaining(['manual burst requested', 'start']));
      expect(entries.filter((e) => e.kind === 'signal').length).toBeLessThan(2_000);
    });

    it('bounds every entry in bytes: a long reason or huge labels are cut with a marker', async () => {
      const log = await backend.audit();
      const labels = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`label${i}`, 'v'.repeat(100)]));
      await log.append(entry(1, { kind: 'signal', message: `alert ${'x'.repeat(100_000)}`, details: { labels } }));
      await log.append(entry(2, { kind: 'api', actor: 'a'.repeat(5_000), message: '\u0001'.repeat(50_000) }));
      for (const stored of (await log.page({ limit: 10 })).entries) {
        expect(Buffer.byteLength(JSON.stringify(stored))).toBeLessThanOrEqual(AUDIT_ENTRY_MAX_BYTES);
        expect(stored.message).toMatch(/\[truncated \d+ chars\]$/);
      }
      const signal = (await log.page({ classes: ['signal'], limit: 1 })).entries[0];
      expect(signal?.message.startsWith('alert xxx')).toBe(true);
      expect(signal?.details).toMatchObject({
        truncated: true,
        bytes: expect.any(Number),
        preview: expect.any(String),
      });
    });

    it('pages with a cursor over the merged classes: every entry once, newest first', async () => {
      const log = await backend.audit();
      const kinds = ['decision', 'api', 'signal', 'action', 'denial'] as const;
      for (let i = 0; i < 37; i++) {
        await log.append(
          entry(i % 60, { kind: kinds[i % kinds.length]!, message: `m${i}`, service: `s${i % 2}.shop` }),
        );
      }
      const newestFirst = Array.from({ length: 37 }, (_, i) => `m${36 - i}`);
      for (const limit of [1, 4, 10, 36, 37]) {
        const { entries, pages } = await walkAudit(log, { limit });
        expect(entries.map((e) => e.message)).toEqual(newestFirst);
        expect(pages).toBe(Math.ceil(37 / limit));
      }
      const even = await walkAudit(log, { limit: 3, service: 's0.shop' });
      expect(even.entries.map((e) => e.message)).toEqual(newestFirst.filter((m) => Number(m.slice(1)) % 2 === 0));
      // A filter that matches little answers short pages with a cursor, not one unbounded scan.
      const scarce = await log.page({ limit: 10, service: 'none.shop', maxScan: 5 });
      expect(scarce.entries).toEqual([]);
      expect(scarce.next).not.toBeNull();
      expect((await walkAudit(log, { limit: 10, service: 'none.shop', maxScan: 5 })).pages).toBe(8);
      await expect(log.page({ limit: 5, cursor: 'not a cursor' })).rejects.toBeInstanceOf(InvalidCursorError);
    });
  });

  describe('CommandInbox', () => {
    it('keeps commands in order until acked, per service or all; an ack removes only what it names', async () => {
      const inbox = await backend.inbox();
      await inbox.push({ id: 'c1', service: 'web.shop', kind: 'start', at: at(1), share: 0.3 });
      await inbox.push({ id: 'c2', service: 'api.shop', kind: 'start', at: at(2) });
      await inbox.push({ id: 'c3', service: 'web.shop', kind: 'abort', at: at(3) });
      const web = await inbox.peek('web.shop');
      expect(web.map((c) => c.id)).toEqual(['c1', 'c3']);
      expect(web[0]).toMatchObject({ share: 0.3 });
      // Not acked (the leader died before persisting): still there for the next leader.
      expect((await inbox.peek('web.shop')).map((c) => c.id)).toEqual(['c1', 'c3']);
      // Pushed between peek and ack: survives the ack of what was peeked.
      await inbox.push({ id: 'c4', service: 'web.shop', kind: 'abort', at: at(4) });
      await inbox.ack('web.shop', ['c1', 'c3', 'unknown']);
      expect((await inbox.peek()).map((c) => c.id)).toEqual(['c2', 'c4']);
      await inbox.ack('web.shop', ['c4']);
      await inbox.ack('api.shop', ['c2']);
      expect(await inbox.peek()).toEqual([]);
      await inbox.ack('web.shop', ['c4']);
      expect(await inbox.peek('web.shop')).toEqual([]);
    });

    it('acks racing pushes lose nothing: every pushed command is peeked until it is acked', async () => {
      const inbox = await backend.inbox();
      const other = backend.name === 'redis' ? new RedisCommandInbox(await fixture.client(), fixture.keys()) : inbox;
      const acked = new Set<string>();
      const pushes = Array.from({ length: 200 }, (_, i) =>
        inbox.push({ id: `c${i}`, service: 'web.shop', kind: 'start', at: at(i % 60) }),
      );
      const acks: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) {
        acks.push(
          other.peek('web.shop').then(async (seen) => {
            const ids = seen.map((c) => c.id);
            for (const id of ids) acked.add(id);
            await other.ack('web.shop', ids);
          }),
        );
      }
      await Promise.all([...pushes, ...acks]);
      const left = (await inbox.peek('web.shop')).map((c) => c.id);
      // Every command was either acked after being seen, or is still pending: none vanished.
      for (let i = 0; i < 200; i++) expect(acked.has(`c${i}`) || left.includes(`c${i}`)).toBe(true);
      expect(left.filter((id) => acked.has(id))).toEqual([]);
    });

    it('refuses a push that reaches the store past its notAfter, and stores one within it', async () => {
      const inbox = await backend.inbox();
      const late = { id: 'late', service: 'web.shop', kind: 'start', at: at(1), notAfter: Date.now() - 1_000 };
      await expect(inbox.push(late)).rejects.toBeInstanceOf(CommandExpiredError);
      await inbox.push({ id: 'timely', service: 'web.shop', kind: 'start', at: at(2), notAfter: Date.now() + 60_000 });
      expect((await inbox.peek()).map((c) => c.id)).toEqual(['timely']);
    });
  });
});

describe('corrupt entries', () => {
  it('a state written under an older schema is a CorruptStateError naming the entry, not a crash', async () => {
    const texts = new Map<string, string>();
    await new InMemoryStateStore(z.object({ phase: z.string() }), 'controller', texts).put('web.shop', { phase: 'x' });
    const store = new InMemoryStateStore(ControllerState, 'controller', texts);
    await store.put('api.shop', { phase: 'idle', step: 0, since: at(0) });
    await expect(store.get('web.shop')).rejects.toThrow(/memory:controller \[web\.shop\].*step/);
    const snapshot = await store.all();
    expect([...snapshot.states.keys()]).toEqual(['api.shop']);
    expect(snapshot.corrupt.map((error) => error.field)).toEqual(['web.shop']);
  });

  it('Redis: garbage in the state hash is reported with its key and field; the rest still loads', async () => {
    const client = await fixture.client();
    const keys = fixture.keys();
    const store = new RedisStateStore(client, keys, ControllerState);
    await store.put('api.shop', { phase: 'idle', step: 0, since: at(0) });
    await client.hset(keys.state('controller'), 'web.shop', '{"phase": "shif');
    const error = await store.get('web.shop').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptStateError);
    expect((error as CorruptStateError).message).toMatch(`${keys.state('controller')} [web.shop]: not JSON`);
    const snapshot = await store.all();
    expect([...snapshot.states.keys()]).toEqual(['api.shop']);
    expect(snapshot.corrupt).toHaveLength(1);
  });

  it('Redis: a corrupt command is dropped and reported, the others delivered', async () => {
    const client = await fixture.client();
    const keys = fixture.keys();
    const reported: CorruptStateError[] = [];
    const inbox = new RedisCommandInbox(client, keys, (error) => reported.push(error));
    await inbox.push({ id: 'c1', service: 'web.shop', kind: 'start', at: at(1) });
    await client.rpush(keys.inbox('web.shop'), 'not json');
    await inbox.push({ id: 'c2', service: 'web.shop', kind: 'abort', at: at(2) });
    expect((await inbox.peek('web.shop')).map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(reported.map((e) => e.key)).toEqual([keys.inbox('web.shop')]);
    // Reported once and removed, not reported on every pass.
    expect(await client.llen(keys.inbox('web.shop'))).toBe(2);
    await inbox.peek('web.shop');
    expect(reported).toHaveLength(1);
    await inbox.ack('web.shop', ['c1', 'c2']);
    expect(await client.llen(keys.inbox('web.shop'))).toBe(0);
    expect(await client.sismember(keys.inboxServices(), 'web.shop')).toBe(0);
  });
});

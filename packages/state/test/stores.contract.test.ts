import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type AuditEntry,
  type AuditLog,
  type BurstRecord,
  type BurstRecords,
  type CommandInbox,
  CorruptStateError,
  InMemoryAuditLog,
  InMemoryBurstRecords,
  InMemoryCommandInbox,
  InMemoryStateStore,
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
  bursts(): Promise<BurstRecords>;
  audit(maxEntries?: number): Promise<AuditLog>;
  inbox(): Promise<CommandInbox>;
}

const fixture = useRedis();
const backends: Backend[] = [
  {
    name: 'in-memory',
    stateStore: async () => new InMemoryStateStore(ControllerState),
    bursts: async () => new InMemoryBurstRecords(),
    audit: async (maxEntries) => new InMemoryAuditLog(maxEntries),
    inbox: async () => new InMemoryCommandInbox(),
  },
  {
    name: 'redis',
    stateStore: async () => new RedisStateStore(await fixture.client(), fixture.keys(), ControllerState),
    bursts: async () => new RedisBurstRecords(await fixture.client(), fixture.keys()),
    audit: async (maxEntries) => new RedisAuditLog(await fixture.client(), fixture.keys(), maxEntries),
    inbox: async () => new RedisCommandInbox(await fixture.client(), fixture.keys()),
  },
];

const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 12, 0, second)).toISOString();

function burst(id: string, service: string, createdSecond: number, active: boolean): BurstRecord {
  return { id, service, createdAt: at(createdSecond), updatedAt: at(createdSecond), active, share: 0.3 };
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
      const ids = (list: BurstRecord[]) => list.map((record) => record.id);
      expect(ids(await records.list({ limit: 10 }))).toEqual(['b4', 'b3', 'b2', 'b1']);
      expect(ids(await records.list({ limit: 2 }))).toEqual(['b4', 'b3']);
      expect(ids(await records.list({ service: 'web.shop', limit: 10 }))).toEqual(['b4', 'b3', 'b1']);
      expect(ids(await records.list({ active: true, limit: 10 }))).toEqual(['b3', 'b2']);
      expect(ids(await records.list({ active: false, service: 'web.shop', limit: 10 }))).toEqual(['b4', 'b1']);
    });

    it('replaces a record by id, keeps extra fields, and moves it out of the active set', async () => {
      const records = await backend.bursts();
      await records.put(burst('b1', 'web.shop', 1, true));
      await records.put({ ...burst('b1', 'web.shop', 1, false), updatedAt: at(9), phase: 'rolled-back' });
      expect(await records.get('b1')).toMatchObject({ active: false, updatedAt: at(9), phase: 'rolled-back' });
      expect(await records.list({ active: true, limit: 10 })).toEqual([]);
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
      const messages = (list: AuditEntry[]) => list.map((e) => e.message);
      expect(messages(await log.list({ limit: 10 }))).toEqual(['m4', 'm3', 'm2', 'm1']);
      expect(messages(await log.list({ limit: 2 }))).toEqual(['m4', 'm3']);
      expect(messages(await log.list({ service: 'web.shop', limit: 10 }))).toEqual(['m4', 'm3', 'm1']);
      expect(messages(await log.list({ burstId: 'b1', limit: 10 }))).toEqual(['m3', 'm1']);
      expect(messages(await log.list({ since: at(2), limit: 10 }))).toEqual(['m4', 'm3', 'm2']);
      expect((await log.list({ burstId: 'b1', limit: 1 }))[0]?.details).toEqual({ step: 1 });
    });

    it('is capped: the oldest entries go first', async () => {
      const log = await backend.audit(10);
      for (let second = 0; second < 400; second++) await log.append(entry(second % 60));
      const all = await log.list({ limit: 1_000 });
      // Redis trims `MAXLEN ~` by whole stream nodes: a little above the cap, never unbounded.
      expect(all.length).toBeGreaterThanOrEqual(10);
      expect(all.length).toBeLessThan(400);
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

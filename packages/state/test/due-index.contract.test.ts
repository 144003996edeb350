import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DueIndex, InMemoryDueIndex, RedisDueIndex } from '../src/index.js';
import { useRedis } from './redis-fixture.js';

const fixture = useRedis();
const backends: { name: string; index(): Promise<DueIndex> }[] = [
  { name: 'in-memory', index: async () => new InMemoryDueIndex() },
  { name: 'redis', index: async () => new RedisDueIndex(await fixture.client(), fixture.keys()) },
];

describe.each(backends)('due index ($name)', (backend) => {
  it('takes what is due, earliest first, once; what is not due stays', async () => {
    const index = await backend.index();
    await index.schedule('b', 2_000);
    await index.schedule('a', 1_000);
    await index.schedule('later', 9_000);
    expect(await index.takeDue(5_000, 100)).toEqual(['a', 'b']);
    expect(await index.takeDue(5_000, 100)).toEqual([]);
    expect(await index.size()).toBe(1);
    expect(await index.takeDue(9_000, 100)).toEqual(['later']);
  });

  it('never postpones an entry: the earlier of two moments stands', async () => {
    const index = await backend.index();
    await index.schedule('a', 1_000);
    await index.schedule('a', 60_000);
    expect(await index.takeDue(1_000, 100)).toEqual(['a']);
    await index.schedule('b', 60_000);
    await index.schedule('b', 0);
    expect(await index.takeDue(1, 100)).toEqual(['b']);
  });

  it('a mark made while a taken service is being reconciled survives the reconcile rescheduling it later', async () => {
    const index = await backend.index();
    await index.schedule('svc', 1_000);
    expect(await index.takeDue(1_000, 100)).toEqual(['svc']);
    // Another controller takes a webhook for svc while the leader still reconciles it ...
    await index.schedule('svc', 0);
    // ... and the leader, done, schedules its next time-driven visit.
    await index.schedule('svc', 61_000);
    expect(await index.takeDue(1_001, 100)).toEqual(['svc']);
  });

  it('takes at most the limit; the rest are taken next', async () => {
    const index = await backend.index();
    for (let i = 0; i < 25; i++) await index.schedule(`s${String(i).padStart(2, '0')}`, i);
    const first = await index.takeDue(100, 10);
    const rest = await index.takeDue(100, 100);
    expect(first).toHaveLength(10);
    expect([...first, ...rest].sort()).toEqual(Array.from({ length: 25 }, (_, i) => `s${String(i).padStart(2, '0')}`));
  });
});

describe('the in-memory index behaves as the Redis sorted set', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('schedule' as const), service: fc.constantFrom('a', 'b', 'c', 'd'), at: fc.nat(50) }),
    fc.record({ kind: fc.constant('take' as const), now: fc.nat(60) }),
  );
  it('gives the same services for any sequence of schedules and takes', async () => {
    const client = await fixture.client();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const memory = new InMemoryDueIndex();
        // A sorted set of its own per run.
        const redis = new RedisDueIndex(client, fixture.keys(), `property-${++run}`);
        for (const step of ops) {
          if (step.kind === 'schedule') {
            await memory.schedule(step.service, step.at);
            await redis.schedule(step.service, step.at);
          } else {
            const [m, r] = [await memory.takeDue(step.now, 100), await redis.takeDue(step.now, 100)];
            expect(m.sort()).toEqual(r.sort());
          }
        }
        expect(await memory.size()).toBe(await redis.size());
      }),
      { numRuns: 50 },
    );
  });
});

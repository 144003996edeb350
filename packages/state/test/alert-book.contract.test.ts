import { describe, expect, it } from 'vitest';
import {
  type AlertBook,
  type AlertBookLimits,
  type AlertObservation,
  InMemoryAlertBook,
  RedisAlertBook,
} from '../src/index.js';
import { useRedis } from './redis-fixture.js';

const fixture = useRedis();
const backends: { name: string; book(limits?: AlertBookLimits): Promise<AlertBook> }[] = [
  { name: 'in-memory', book: async (limits) => new InMemoryAlertBook(limits) },
  { name: 'redis', book: async (limits) => new RedisAlertBook(await fixture.client(), fixture.keys(), limits) },
];

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const minutes = (n: number) => T0 + n * 60_000;
const SERVICE = 'checkout.shop';

function firing(fingerprint: string, startsAt: number, name = 'ServiceBurning'): AlertObservation {
  return { fingerprint, name, status: 'firing', startsAt, endsAt: null };
}

function resolved(fingerprint: string, startsAt: number, endsAt: number, name = 'ServiceBurning'): AlertObservation {
  return { fingerprint, name, status: 'resolved', startsAt, endsAt };
}

const names = async (book: AlertBook, now: number) =>
  (await book.firing(SERVICE, now)).map((alert) => `${alert.fingerprint}:${alert.startsAt}`).sort();

describe.each(backends)('$name alert book', (backend) => {
  it('holds firing alerts per service until their resolve, and shares nothing across services', async () => {
    const book = await backend.book();
    await book.record(SERVICE, [firing('a1', minutes(0)), firing('b2', minutes(1))], minutes(1));
    await book.record('cart.shop', [firing('c3', minutes(0))], minutes(1));
    expect(await names(book, minutes(2))).toEqual([`a1:${minutes(0)}`, `b2:${minutes(1)}`]);
    expect(await book.record(SERVICE, [resolved('a1', minutes(0), minutes(3))], minutes(3))).toEqual({
      applied: 1,
      ignored: 0,
    });
    expect(await names(book, minutes(3))).toEqual([`b2:${minutes(1)}`]);
    expect((await book.firing('cart.shop', minutes(3))).map((a) => a.name)).toEqual(['ServiceBurning']);
  });

  it('a late "resolved" of an earlier episode does not end the episode firing now', async () => {
    const book = await backend.book();
    // Episode 1 fired at 0 and resolved at 5; episode 2 fires from 10 and is what we hold.
    await book.record(SERVICE, [firing('a1', minutes(10))], minutes(10));
    const late = await book.record(SERVICE, [resolved('a1', minutes(0), minutes(5))], minutes(11));
    expect(late).toEqual({ applied: 0, ignored: 1 });
    expect(await names(book, minutes(11))).toEqual([`a1:${minutes(10)}`]);
    // A "resolved" whose own startsAt was lost or rewritten but whose end predates the episode: too old as well.
    expect(await book.record(SERVICE, [resolved('a1', minutes(10), minutes(9))], minutes(11))).toEqual({
      applied: 0,
      ignored: 1,
    });
    // The real resolve of episode 2 ends it.
    await book.record(SERVICE, [resolved('a1', minutes(10), minutes(12))], minutes(12));
    expect(await names(book, minutes(12))).toEqual([]);
  });

  it('a late "firing" of an earlier episode does not revive an alert resolved since', async () => {
    const book = await backend.book();
    await book.record(SERVICE, [resolved('a1', minutes(10), minutes(20))], minutes(20));
    expect((await book.record(SERVICE, [firing('a1', minutes(0))], minutes(21))).ignored).toBe(1);
    expect(await names(book, minutes(21))).toEqual([]);
    // A new episode (a later startsAt) fires again.
    await book.record(SERVICE, [firing('a1', minutes(25))], minutes(25));
    expect(await names(book, minutes(25))).toEqual([`a1:${minutes(25)}`]);
  });

  it('forgets a firing alert not re-sent within the expiry (a lost "resolved" cannot hold a burst)', async () => {
    const book = await backend.book({ expiryMs: 10 * 60_000 });
    await book.record(SERVICE, [firing('a1', minutes(0))], minutes(0));
    await book.record(SERVICE, [firing('b2', minutes(0))], minutes(0));
    // Alertmanager re-sends a1 (repeat_interval) but not b2.
    await book.record(SERVICE, [firing('a1', minutes(0))], minutes(8));
    expect(await names(book, minutes(9))).toEqual([`a1:${minutes(0)}`, `b2:${minutes(0)}`]);
    expect(await names(book, minutes(11))).toEqual([`a1:${minutes(0)}`]);
    expect(await names(book, minutes(19))).toEqual([]);
  });

  it('keeps at most maxPerService alerts per service: the least recently refreshed go', async () => {
    const book = await backend.book({ maxPerService: 3 });
    for (let i = 0; i < 10; i++) await book.record(SERVICE, [firing(`f${i}`, minutes(0))], minutes(i));
    // One post with many alerts is bounded too.
    const many = Array.from({ length: 500 }, (_, i) => firing(`m${i}`, minutes(0)));
    await book.record('cart.shop', many, minutes(20));
    expect(await names(book, minutes(10))).toEqual([`f7:${minutes(0)}`, `f8:${minutes(0)}`, `f9:${minutes(0)}`]);
    expect(await book.firing('cart.shop', minutes(20))).toHaveLength(3);
  });

  it('refuses observations outside the schema (an unbounded fingerprint or name)', async () => {
    const book = await backend.book();
    await expect(book.record(SERVICE, [firing('x'.repeat(65), minutes(0))], minutes(0))).rejects.toThrow(/fingerprint/);
    await expect(book.record(SERVICE, [firing('a1', minutes(0), 'n'.repeat(201))], minutes(0))).rejects.toThrow(/name/);
    expect(await names(book, minutes(0))).toEqual([]);
  });
});

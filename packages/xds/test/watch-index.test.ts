import { describe, expect, it } from 'vitest';
import { WatchIndex } from '../src/watch-index.js';

describe('WatchIndex: a change reaches only the watches that cover it', () => {
  it('tells each watch exactly the changed names it covers; a wildcard hears every one', () => {
    const index = new WatchIndex();
    const heard = new Map<string, string[][]>();
    const open = (label: string) =>
      index.watch((names) => heard.set(label, [...(heard.get(label) ?? []), [...names].sort()]));
    const a = open('a');
    a.add('echo.demo');
    a.add('cart.shop');
    const b = open('b');
    b.add('other.demo');
    const all = open('all');
    all.setWildcard(true);
    all.add('echo.demo');

    index.notify(new Set(['echo.demo', 'cart.shop', 'nobody.watches']));
    expect(heard.get('a')).toEqual([['cart.shop', 'echo.demo']]);
    expect(heard.has('b')).toBe(false);
    expect(heard.get('all')).toEqual([['cart.shop', 'echo.demo', 'nobody.watches']]);
  });

  it('forgets removed names and cancelled watches, and hooks see every start and stop', () => {
    const index = new WatchIndex();
    const events: string[] = [];
    let heard = 0;
    const watch = index.watch(() => heard++, {
      added: (name) => events.push(`+${name}`),
      removed: (name) => events.push(`-${name}`),
      wildcard: (on) => events.push(on ? '+*' : '-*'),
    });
    watch.add('echo.demo');
    watch.add('echo.demo');
    watch.add('cart.shop');
    watch.remove('echo.demo');
    index.notify(new Set(['echo.demo']));
    expect(heard).toBe(0);
    watch.setWildcard(true);
    expect(index.size).toBe(1);
    watch.cancel();
    watch.cancel();
    index.notify(new Set(['cart.shop']));
    expect(heard).toBe(0);
    expect(events).toEqual(['+echo.demo', '+cart.shop', '-echo.demo', '+*', '-*', '-cart.shop']);
    expect(index.size).toBe(0);
    expect(index.watchers('cart.shop')).toBe(0);
  });
});

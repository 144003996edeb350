import { waitFor } from '@spillway/test/support/wait';
import { describe, expect, it } from 'vitest';
import { PacedRefresh } from '../src/paced-refresh.js';
import { PendingWrites } from '../src/pending-writes.js';

/** A call whose client takes nothing until told to: HTTP/2's write callbacks wait. */
class SlowCall {
  readonly written: string[] = [];
  private readonly untaken: (() => void)[] = [];
  write(message: string, callback: () => void): void {
    this.written.push(message);
    this.untaken.push(callback);
  }
  takeAll(): void {
    for (const callback of this.untaken.splice(0)) callback();
  }
}

describe('the periodic re-send is paced by what clients take', () => {
  it('stops while too many responses are pending, goes on as clients take them, and reaches every stream', async () => {
    const writes = new PendingWrites();
    const calls = Array.from({ length: 20 }, () => new SlowCall());
    const refresh = new PacedRefresh(
      () => calls,
      () => true,
      (call) => writes.write(call, 'assignments'),
      writes,
      { maxPending: 4, maxWaitMs: 60_000 },
    );
    refresh.start();
    // Five handed over (the fifth tips it over four), then it waits for the clients.
    expect(calls.filter((call) => call.written.length > 0)).toHaveLength(5);
    expect(refresh.running).toBe(true);
    refresh.start(); // a tick while the round goes: not a second round
    expect(writes.count).toBe(5);

    for (const call of calls) call.takeAll();
    await waitFor(() => calls[9]!.written.length === 1, { message: 'the round to go on' });
    for (;;) {
      for (const call of calls) call.takeAll();
      if (!refresh.running) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(calls.map((call) => call.written.length)).toEqual(calls.map(() => 1));
    expect(writes.count).toBe(0);
  });

  it('does not let clients that never read hold the round back for longer than maxWaitMs', async () => {
    const writes = new PendingWrites();
    const calls = Array.from({ length: 6 }, () => new SlowCall());
    const refresh = new PacedRefresh(
      () => calls,
      () => true,
      (call) => writes.write(call, 'assignments'),
      writes,
      { maxPending: 1, maxWaitMs: 20 },
    );
    refresh.start();
    await waitFor(() => !refresh.running, { message: 'the round to finish past the stuck clients' });
    expect(calls.every((call) => call.written.length === 1)).toBe(true);
    // A closed call's writes are never called back: forgetting it releases them.
    for (const call of calls) writes.forget(call);
    expect(writes.count).toBe(0);
    refresh.stop();
  });
});

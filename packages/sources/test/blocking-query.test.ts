import { waitFor } from '@spillway/test/support/wait';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type BlockingFetch,
  BlockingQuery,
  backoffDelay,
  clientTimeoutMs,
  formatWait,
  nextIndex,
  readIndex,
  TokenBucket,
  validate,
} from '../src/blocking/index.js';

const FAST = { rateLimit: { burst: 2, intervalMs: 1 }, backoff: { initialMs: 5, maxMs: 20, factor: 2, jitter: 0.5 } };

/** A scripted server: answers are queued; a request without one waits (like a blocked query). */
class ScriptedFetch {
  readonly sent: number[] = [];
  private readonly answers: Array<{ index: number; value: string } | Error> = [];
  private wake: (() => void) | undefined;

  push(answer: { index: number; value: string } | Error): void {
    this.answers.push(answer);
    this.wake?.();
  }

  readonly fetch: BlockingFetch<string> = async ({ index, signal }) => {
    this.sent.push(index);
    while (this.answers.length === 0) {
      await new Promise<void>((resolve, reject) => {
        this.wake = resolve;
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const answer = this.answers.shift()!;
    if (answer instanceof Error) throw answer;
    return answer;
  };
}

function watch(script: ScriptedFetch) {
  const changes: string[] = [];
  const errors: string[] = [];
  let unchanged = 0;
  const query = new BlockingQuery<string>({
    fetch: script.fetch,
    waitMs: 1_000,
    tuning: FAST,
    onChange: (value) => changes.push(value),
    onUnchanged: () => unchanged++,
    onError: (error) => errors.push(error.message),
  });
  query.start();
  return { query, changes, errors, unchanged: () => unchanged };
}

describe('index rules', () => {
  it('resets to 0 when the index goes backwards and never sends ≤ 0 after an answer', () => {
    expect(nextIndex(0, 7)).toBe(7);
    expect(nextIndex(7, 7)).toBe(7);
    expect(nextIndex(7, 9)).toBe(9);
    expect(nextIndex(9, 3)).toBe(0);
    expect(nextIndex(0, 0)).toBe(1);
    expect(nextIndex(1, 0)).toBe(1);
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (sent, received) => {
        const next = nextIndex(sent, received);
        if (received < 1) return next === 1;
        return received < sent ? next === 0 : next === received;
      }),
    );
  });

  it('reads the index header strictly', () => {
    const answer = (value: string | undefined) => ({ body: null, header: () => value });
    expect(readIndex(answer('42'), 'X-Consul-Index', 'GET /x')).toBe(42);
    expect(() => readIndex(answer(undefined), 'X-Consul-Index', 'GET /x')).toThrow(
      'GET /x: X-Consul-Index header is missing or not an integer (got null)',
    );
    expect(() => readIndex(answer('-3'), 'X-Consul-Index', 'GET /x')).toThrow('not an integer');
    expect(() => readIndex(answer('abc'), 'X-Consul-Index', 'GET /x')).toThrow('"abc"');
  });

  it('names the bad fields of a wrong-shaped body', () => {
    const schema = z.array(z.object({ Service: z.object({ Port: z.number() }) }));
    expect(() => validate(schema, [{ Service: { Port: 'x' } }], 'GET /v1/health/service/web')).toThrow(
      /GET \/v1\/health\/service\/web: unexpected response shape \(\[0\]\.Service\.Port: /,
    );
  });
});

describe('timing knobs', () => {
  it('backs off exponentially up to the ceiling, jitter only shortening the delay', () => {
    const options = { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0.5 };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (n, r) => {
        const ceiling = Math.min(5_000, 100 * 2 ** (n - 1));
        const delay = backoffDelay(n, options, () => r);
        return delay <= ceiling && delay >= Math.floor(ceiling / 2);
      }),
    );
    expect(backoffDelay(3, { ...options, jitter: 0 })).toBe(400);
  });

  it('times out a little after wait + wait/16 and formats wait as a Go duration', () => {
    expect(clientTimeoutMs(300_000, 5_000)).toBe(323_750);
    expect(formatWait(300_000)).toBe('300s');
    expect(formatWait(250)).toBe('250ms');
  });

  it('token bucket: a burst of 2 needs no time, then one token per interval', async () => {
    // With a frozen clock no token is ever earned: the burst must be served from the bucket,
    // or these takes would never resolve (and the test's deadline would fail it).
    const frozen = new TokenBucket({ burst: 2, intervalMs: 50 }, () => 0);
    await frozen.take();
    await frozen.take();
    const bucket = new TokenBucket({ burst: 2, intervalMs: 50 });
    await bucket.take();
    await bucket.take();
    const afterBurst = performance.now();
    await bucket.take();
    await bucket.take();
    // Timers never fire early, so a lower bound is safe on a busy machine.
    expect(performance.now() - afterBurst).toBeGreaterThanOrEqual(95);
  });
});

describe('BlockingQuery', () => {
  it('reports changes only, follows the index and resets it when it goes backwards', async () => {
    const script = new ScriptedFetch();
    const w = watch(script);
    script.push({ index: 10, value: 'a' });
    script.push({ index: 10, value: 'a' }); // wait timed out: no change
    script.push({ index: 12, value: 'a' }); // an idempotent write woke it: still no change
    script.push({ index: 13, value: 'b' });
    script.push({ index: 4, value: 'b' }); // snapshot restore: index went back
    script.push({ index: 5, value: 'c' });
    // The 7th request (index 5) follows the third change after a rate-limit token: wait for it.
    await waitFor(() => w.changes.length === 3 && script.sent.length >= 7, { message: 'three changes' });
    await w.query.stop();
    expect(w.changes).toEqual(['a', 'b', 'c']);
    expect(w.unchanged()).toBe(3);
    expect(script.sent.slice(0, 7)).toEqual([0, 10, 10, 12, 13, 0, 5]);
  });

  it('reports each failure, backs off and recovers with the same index', async () => {
    const script = new ScriptedFetch();
    const w = watch(script);
    script.push({ index: 3, value: 'a' });
    script.push(new Error('HTTP 500'));
    script.push(new Error('HTTP 500'));
    script.push({ index: 4, value: 'b' });
    await waitFor(() => w.changes.length === 2, { message: 'recovery' });
    await w.query.stop();
    expect(w.errors).toEqual(['HTTP 500', 'HTTP 500']);
    expect(script.sent.slice(0, 4)).toEqual([0, 3, 3, 3]);
  });

  it('stop() aborts the request in flight and returns promptly', async () => {
    const script = new ScriptedFetch();
    const w = watch(script);
    await waitFor(() => script.sent.length === 1, { message: 'first request' });
    // The scripted request never answers on its own: stop() resolving at all proves the abort.
    await w.query.stop();
    expect(w.errors).toEqual([]);
  });
});

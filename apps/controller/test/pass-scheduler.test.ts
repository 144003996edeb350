import { describe, expect, it } from 'vitest';
import { PassScheduler } from '../src/custom-resources/pass-scheduler.js';

/** A pass that stays open until the test lets it finish, recording starts and ends. */
function heldPasses() {
  const log: string[] = [];
  const releases: (() => void)[] = [];
  let failNext = false;
  const pass = async () => {
    const n = log.filter((entry) => entry.startsWith('start')).length + 1;
    log.push(`start ${n}`);
    await new Promise<void>((resolve) => releases.push(resolve));
    log.push(`end ${n}`);
    if (failNext) {
      failNext = false;
      throw new Error(`pass ${n} failed`);
    }
  };
  return {
    log,
    pass,
    failNextPass: () => {
      failNext = true;
    },
    /** Lets the oldest open pass finish, then gives the scheduler its turn. */
    release: async () => {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** A scheduler of held passes (timed passes an hour apart: none in a test), and the errors it reported. */
function scheduledPasses() {
  const held = heldPasses();
  const errors: unknown[] = [];
  const passes = new PassScheduler(held.pass, { intervalMs: 3_600_000, onError: (error) => errors.push(error) });
  return { held, passes, errors };
}

describe('PassScheduler', () => {
  it('runs one pass at a time, and asks during a pass make exactly one more after it', async () => {
    const { held, passes, errors } = scheduledPasses();
    passes.request();
    passes.request();
    passes.request();
    expect(held.log).toEqual(['start 1']);
    await held.release();
    expect(held.log).toEqual(['start 1', 'end 1', 'start 2']);
    await held.release();
    expect(held.log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    expect(errors).toEqual([]);
  });

  it('reports a failed pass and runs the next one asked for', async () => {
    const { held, passes, errors } = scheduledPasses();
    held.failNextPass();
    passes.request();
    await held.release();
    expect(errors).toEqual([new Error('pass 1 failed')]);
    passes.request();
    await held.release();
    expect(held.log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    expect(errors).toHaveLength(1);
  });

  it('stop resolves only after the running pass and the one asked for after it', async () => {
    const { held, passes } = scheduledPasses();
    passes.start();
    passes.request();
    passes.request();
    let stopped = false;
    const stopping = passes.stop().then(() => {
      stopped = true;
    });
    await held.release();
    expect(stopped).toBe(false);
    await held.release();
    await stopping;
    expect(held.log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/index.js';
import { problems } from './support/problems.js';

const BASE = 'redis: redis://127.0.0.1:6379\n';

describe('controller: the lease and the job locks', () => {
  it('defaults to the former constants: a 10 s lease renewed every third of it, 30 s job locks', () => {
    expect(parseConfig(BASE, 'spillway.yaml', {}).controller).toEqual({ leaseSeconds: 10, jobLockSeconds: 30 });
  });

  it('takes shorter settings for a faster failover', () => {
    const config = parseConfig(
      `${BASE}controller: { leaseSeconds: 4, renewSeconds: 1, jobLockSeconds: 10 }\n`,
      'spillway.yaml',
      {},
    );
    expect(config.controller).toEqual({ leaseSeconds: 4, renewSeconds: 1, jobLockSeconds: 10 });
  });

  it('refuses a renewal that could not keep the lease, and values below the minimums, naming field and file', () => {
    expect(problems(`${BASE}controller: { leaseSeconds: 6, renewSeconds: 4 }\n`)).toEqual([
      'spillway.yaml:2:46: controller.renewSeconds: 4 s is more than half of leaseSeconds (6 s): a renewal must land before the leader steps down at 90% of the lease; choose at most 3 s (a third, 2 s, survives one failed renewal)',
    ]);
    expect(problems(`${BASE}controller: { leaseSeconds: 1, jobLockSeconds: 2, renewSeconds: 0.1 }\n`)).toEqual([
      expect.stringMatching(/^spillway\.yaml:2:\d+: controller\.leaseSeconds: expected at least 3 seconds/),
      expect.stringMatching(/^spillway\.yaml:2:\d+: controller\.renewSeconds: expected at least 0\.5 seconds/),
      expect.stringMatching(/^spillway\.yaml:2:\d+: controller\.jobLockSeconds: expected at least 5 seconds/),
    ]);
    expect(problems(`${BASE}controller: { leaseSecs: 5 }\n`)).toEqual([
      expect.stringMatching(/^spillway\.yaml:2:\d+: controller: .*leaseSecs/),
    ]);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@spillway/test/support/free-port';
import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { burstPolicy, spillwayConfigYaml } from '@spillway/test/support/spillway-config';
import { afterEach, describe, expect, it } from 'vitest';
import { describePolicyCount } from '../src/policy-count.js';
import { CliProcess } from './cli-process.js';

let cli: CliProcess | undefined;
let redis: RunningRedis | undefined;
let dir: string | undefined;
afterEach(async () => {
  await cli?.stop();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  cli = redis = dir = undefined;
});

describe('spillway controller says which burst policies it runs (child process, real Redis)', () => {
  it('the banner counts and names them, and a line follows each change of the set', async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'spillway-controller-banner-'));
    const file = join(dir, 'spillway.yaml');
    const config = (services: string[]) =>
      spillwayConfigYaml({ redis: redis!.url, policies: services.map((service) => burstPolicy(service)) });
    await writeFile(file, config(['echo.demo', 'cart.demo']));
    // Nothing listens at the federation's address: the controller starts and follows it when it comes.
    const federation = `http://127.0.0.1:${await freePort()}`;
    cli = new CliProcess(['controller', '--config', file, '--federation', federation, '--listen', '127.0.0.1:0']);

    expect(await cli.waitForOutput(/^ {2}policies (.*)\n/m)).toBe('2 burst policies (cart.demo, echo.demo)');
    await writeFile(file, config(['echo.demo']));
    await cli.waitForOutput(/^ {2}policies 1 burst policy \(echo\.demo\) {2}\(removed cart\.demo\)\n/m);
  });

  it('names them only when there are few', () => {
    const services = ['a.x', 'b.x', 'c.x', 'd.x', 'e.x', 'f.x'];
    expect(describePolicyCount({ file: 6, resources: 0 }, false, services)).toBe('6 burst policies');
    expect(describePolicyCount({ file: 4, resources: 1 }, true, services.slice(0, 5))).toBe(
      '5 burst policies (a.x, b.x, c.x, d.x, e.x): 4 from the file, 1 from BurstPolicy resources',
    );
    expect(describePolicyCount({ file: 0, resources: 0 }, false, [])).toBe('0 burst policies');
  });
});

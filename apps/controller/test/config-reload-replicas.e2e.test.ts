import { ConfigError, type ConfigReload } from '@spillway/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControllerPair, startControllerPair } from './support/controller-pair.js';
import { type RedisHarness, SERVICE } from './support/redis-controller.js';

/**
 * Two controller replicas on one real Redis reload the same file (as a ConfigMap is seen by every
 * pod): each applies it, and the shared audit holds one entry per change, the leader's.
 */
let pair: ControllerPair | undefined;
let first: RedisHarness | undefined;
let second: RedisHarness | undefined;

beforeAll(async () => {
  pair = await startControllerPair();
  ({ first, second } = pair);
}, 60_000);

afterAll(async () => {
  await pair?.stop();
});

const FILE = '/etc/spillway/spillway.yaml';

async function reloadEntries(h: RedisHarness) {
  const page = await h.stores.audit.page({ limit: 1000 });
  return page.entries.filter((entry) => entry.actor === 'config-reload');
}

describe('a config reload on two controller replicas', () => {
  it('both apply a change; it is audited once, by the leader', async () => {
    expect(second!.running.controller.isLeader()).toBe(false);
    const started = first!.running.reloads.config;
    const reload: ConfigReload = {
      ok: true,
      file: FILE,
      trigger: 'file',
      config: { ...started, policies: started.policies.map((policy) => ({ ...policy, maxShare: 0.3 })) },
    };
    await Promise.all([first!.running.reloads.apply(reload), second!.running.reloads.apply(reload)]);
    for (const h of [first!, second!]) expect(h.running.policies.get(SERVICE)?.maxShare).toBe(0.3);
    const entries = await reloadEntries(first!);
    expect(entries.map((entry) => entry.message)).toEqual([
      `config reload (file) of ${FILE}: policy changed (maxShare)`,
    ]);
  });

  it('a refused file is audited once too; both keep their running config', async () => {
    const refused: ConfigReload = {
      ok: false,
      file: FILE,
      trigger: 'file',
      error: new ConfigError(FILE, [{ path: 'policies[0].maxShare', message: 'expected a number' }]),
    };
    await Promise.all([first!.running.reloads.apply(refused), second!.running.reloads.apply(refused)]);
    for (const h of [first!, second!]) {
      expect(h.running.reloads.lastError).toContain('policies[0].maxShare');
      expect(h.running.policies.get(SERVICE)?.maxShare).toBe(0.3);
    }
    const refusals = (await reloadEntries(first!)).filter((entry) => entry.message.includes('refused'));
    expect(refusals).toHaveLength(1);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigOrDefault } from '../src/load-config.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('loadConfigOrDefault', () => {
  it('applies the environment overrides to the built-in config too (spillway router/controller without --config)', async () => {
    process.env.SPILLWAY_REDIS_URL = 'redis://127.0.0.1:6390';
    process.env.SPILLWAY_XDS_LISTEN = '127.0.0.1:18999';
    const config = await loadConfigOrDefault(undefined);
    expect(config.redis).toBe('redis://127.0.0.1:6390');
    expect(config.listen.xds).toBe('127.0.0.1:18999');
  });

  it('without them, the built-in config is embedded mode: no Redis', async () => {
    delete process.env.SPILLWAY_REDIS_URL;
    expect((await loadConfigOrDefault(undefined)).redis).toBeUndefined();
  });
});

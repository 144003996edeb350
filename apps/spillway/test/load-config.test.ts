import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigOrDefault } from '../src/load-config.js';
import { runCli } from './cli-process.js';

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

describe('spillway config validate on a hostile file', () => {
  it('an alias bomb exits 2 naming file:line:col, as any invalid config does', { timeout: 60_000 }, async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'spillway-bomb-')), 'bomb.yaml');
    const lines = ['lol0: &lol0 "lol"'];
    for (let level = 1; level <= 9; level++) {
      lines.push(
        `lol${level}: &lol${level} [${Array(9)
          .fill(`*lol${level - 1}`)
          .join(', ')}]`,
      );
    }
    await writeFile(file, `${lines.join('\n')}\n`);
    const run = await runCli(['config', 'validate', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `spillway: invalid config\n${file}:2:14: too many alias expansions (more than 100): ` +
        'Excessive alias count indicates a resource exhaustion attack\n',
    );
  });
});

import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedDefaultConfig } from '@spillway/config';
import { afterEach, describe, expect, it } from 'vitest';
import { setUpAuth } from '../src/auth-setup.js';
import { CliError } from '../src/load-config.js';

const saved = process.env.SPILLWAY_TOKEN_FILE;
afterEach(() => {
  if (saved === undefined) delete process.env.SPILLWAY_TOKEN_FILE;
  else process.env.SPILLWAY_TOKEN_FILE = saved;
});

async function useTokenFile(content: string | undefined, mode = 0o600): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'spillway-auth-setup-')), 'admin-token');
  if (content !== undefined) {
    await writeFile(file, content, { mode });
    await chmod(file, mode);
  }
  process.env.SPILLWAY_TOKEN_FILE = file;
  return file;
}

async function refusal(listen: string): Promise<CliError> {
  const error = await setUpAuth(embeddedDefaultConfig(), listen).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe('setUpAuth without configured tokens', () => {
  it('makes a token on a loopback listen address, whatever name resolves there', async () => {
    await useTokenFile(undefined);
    for (const listen of ['127.0.0.1:0', 'localhost:0', '[::1]:0']) {
      expect((await setUpAuth(embeddedDefaultConfig(), listen)).banner).toMatch(/admin token/);
    }
  });

  it('refuses an address that only looks loopback, or is every interface (exit 2)', async () => {
    await useTokenFile(undefined);
    for (const listen of ['127.evil:7070', '0.0.0.0:7070', '[::]:7070']) {
      const error = await refusal(listen);
      expect(error.exitCode).toBe(2);
      expect(error.message).toMatch(/^refusing to listen on .* without auth/);
    }
  });

  it('refuses a token file others can read with one line naming it (exit 2)', async () => {
    const file = await useTokenFile(`${'a'.repeat(43)}\n`, 0o644);
    const error = await refusal('127.0.0.1:0');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`admin token file ${file}: mode 0644 lets other users read or change it; chmod 600 it`);
  });
});

import { chmod, chown, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdminTokenFileError, ensureAdminToken, newToken, sha256Hex } from '../src/index.js';

async function tokenFile(content: string, mode = 0o600): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'spillway-token-')), 'admin-token');
  await writeFile(file, content, { mode });
  await chmod(file, mode);
  return file;
}

async function refusal(file: string): Promise<string> {
  const error = await ensureAdminToken(file).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AdminTokenFileError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  expect(message.startsWith(`admin token file ${file}: `)).toBe(true);
  return message.slice(`admin token file ${file}: `.length);
}

describe('SPILLWAY_TOKEN_FILE is trusted only as ssh trusts a key file', () => {
  it('accepts the file spillway wrote: owned by this user, mode 0600, a generated token', async () => {
    const token = newToken();
    const file = await tokenFile(`${token}\n`);
    const { entry, created } = await ensureAdminToken(file);
    expect(created).toBeUndefined();
    expect(entry.sha256).toBe(sha256Hex(token));
  });

  it('refuses a file group or others may read or write, and leaves its mode alone', async () => {
    const file = await tokenFile(`${newToken()}\n`, 0o644);
    expect(await refusal(file)).toBe('mode 0644 lets other users read or change it; chmod 600 it');
    expect(await refusal(await tokenFile(`${newToken()}\n`, 0o620))).toMatch(/^mode 0620 /);
  });

  it.skipIf(process.getuid?.() !== 0)('refuses a file another user owns', async () => {
    const file = await tokenFile(`${newToken()}\n`);
    await chown(file, 65534, 65534);
    expect(await refusal(file)).toBe(`owned by uid 65534, not by this user (uid ${process.getuid?.()})`);
  });

  it('refuses content that is not a token spillway would generate', async () => {
    expect(await refusal(await tokenFile(''))).toBe('too short to be a token (0 characters; at least 43)');
    expect(await refusal(await tokenFile('password\n'))).toBe('too short to be a token (8 characters; at least 43)');
    expect(await refusal(await tokenFile(`${'a'.repeat(40)} b c d\n`))).toBe(
      'not a token spillway generates (base64url characters only)',
    );
    expect(await refusal(await tokenFile(`${newToken()}\u001b[2J\n`))).toBe(
      'holds a control character U+001B at position 43',
    );
  });

  it('refuses what is not a regular file, and does not write through a dangling symlink', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-token-'));
    expect(await refusal(dir)).toBe('not a regular file');
    const target = join(dir, 'elsewhere');
    const link = join(dir, 'admin-token');
    await symlink(target, link);
    expect(await refusal(link)).toMatch(/^cannot create it: EEXIST/);
    await expect(readFile(target)).rejects.toThrow(/ENOENT/);
  });
});

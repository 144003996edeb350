import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { newToken, sha256Hex, type TokenEntry } from './tokens.js';

/** Where the generated admin token is kept: SPILLWAY_TOKEN_FILE, else ~/.spillway/admin-token. */
export function adminTokenFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.SPILLWAY_TOKEN_FILE || join(homedir(), '.spillway', 'admin-token');
}

/**
 * With no tokens configured, Spillway still never serves an open door: as Jupyter does, it
 * uses an admin token kept in a file only the user can read, creating it (and printing it
 * once) on first start. Returns the token entry and, when it was just created, the token.
 */
export async function ensureAdminToken(file: string): Promise<{ entry: TokenEntry; created?: string }> {
  const existing = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
  if (existing) {
    await chmod(file, 0o600);
    return { entry: { name: 'generated-admin', role: 'admin', sha256: sha256Hex(existing) } };
  }
  const token = newToken();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return { entry: { name: 'generated-admin', role: 'admin', sha256: sha256Hex(token) }, created: token };
}

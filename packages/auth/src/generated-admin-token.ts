import { chmod, mkdir, open, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { newToken, sha256Hex, type TokenEntry } from './tokens.js';

/** Where the generated admin token is kept: SPILLWAY_TOKEN_FILE, else ~/.spillway/admin-token. */
export function adminTokenFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.SPILLWAY_TOKEN_FILE || join(homedir(), '.spillway', 'admin-token');
}

/** A token file Spillway will not trust; the message is one line naming the file and why. */
export class AdminTokenFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`admin token file ${file}: ${reason}`);
    this.name = 'AdminTokenFileError';
  }
}

/** newToken(): 32 random bytes as base64url. Anything shorter is guessable, not ours. */
const MIN_TOKEN_LENGTH = 43;
/** A token file is a line; more than this is not one, and is not read whole. */
const MAX_FILE_BYTES = 4096;

/**
 * With no tokens configured, Spillway still never serves an open door: as Jupyter does, it
 * uses an admin token kept in a file only the user can read, creating it (and printing it
 * once) on first start. Returns the token entry and, when it was just created, the token.
 * An existing file is trusted only as ssh trusts a key: owned by this user, no group or other
 * permission bits, holding a token of the form Spillway generates. Else AdminTokenFileError.
 */
export async function ensureAdminToken(file: string): Promise<{ entry: TokenEntry; created?: string }> {
  const existing = await readTrustedToken(file);
  if (existing !== undefined) {
    return { entry: { name: 'generated-admin', role: 'admin', sha256: sha256Hex(existing) } };
  }
  const token = newToken();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // 'wx': create only. Whatever appeared at the path meanwhile (a symlink) is not written through.
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    throw new AdminTokenFileError(file, `cannot create it: ${error.code ?? error.message}`);
  });
  await chmod(file, 0o600);
  return { entry: { name: 'generated-admin', role: 'admin', sha256: sha256Hex(token) }, created: token };
}

/** The token in `file`, undefined when there is no file; AdminTokenFileError when it is not to be trusted. */
async function readTrustedToken(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new AdminTokenFileError(file, `cannot read it: ${error.code ?? error.message}`);
  });
  if (!handle) return undefined;
  try {
    // Checked on the open file, so the file checked is the file read.
    const stats = await handle.stat();
    if (!stats.isFile()) throw new AdminTokenFileError(file, 'not a regular file');
    const uid = process.getuid?.();
    if (uid !== undefined && stats.uid !== uid) {
      throw new AdminTokenFileError(file, `owned by uid ${stats.uid}, not by this user (uid ${uid})`);
    }
    if ((stats.mode & 0o077) !== 0) {
      const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
      throw new AdminTokenFileError(file, `mode ${mode} lets other users read or change it; chmod 600 it`);
    }
    if (stats.size > MAX_FILE_BYTES) throw new AdminTokenFileError(file, `larger than ${MAX_FILE_BYTES} bytes`);
    const text = await handle.readFile('utf8');
    return usableToken(file, text.replace(/\r?\n$/, ''));
  } finally {
    await handle.close();
  }
}

function usableToken(file: string, token: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds.
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(token);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new AdminTokenFileError(file, `holds a control character U+${code} at position ${control.index}`);
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new AdminTokenFileError(
      file,
      `too short to be a token (${token.length} characters; at least ${MIN_TOKEN_LENGTH})`,
    );
  }
  if (!/^[A-Za-z0-9_-]+$/.test(token)) {
    throw new AdminTokenFileError(file, 'not a token spillway generates (base64url characters only)');
  }
  return token;
}

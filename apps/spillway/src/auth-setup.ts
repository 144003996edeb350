import {
  AdminTokenFileError,
  adminTokenFile,
  type Denial,
  ensureAdminToken,
  registerAuth,
  resolvesToLoopback,
  TokenAuthenticator,
} from '@spillway/auth';
import type { SpillwayConfig } from '@spillway/config';
import type { FastifyInstance } from 'fastify';
import { CliError } from './load-config.js';

export interface AuthSetup {
  /** Installs the auth hook; `onDenied` (the controller's) audits refused requests. */
  register(app: FastifyInstance, onDenied?: (denial: Denial) => void): void;
  /** A line for the start banner: where the token is, or the new token itself (printed once). */
  readonly banner: string;
}

/**
 * Mutations always need a token. With none configured, Spillway uses a generated admin token
 * kept in a file only the user can read (printed once, when it is made). Listening beyond
 * loopback without configured tokens is refused: a generated token is for a workstation.
 * Reads are open only when every address the listen host resolves to is loopback.
 */
export async function setUpAuth(config: SpillwayConfig, httpAddress: string): Promise<AuthSetup> {
  const host = httpAddress.slice(0, httpAddress.lastIndexOf(':'));
  // Resolved, not compared as text: `127.evil` may resolve anywhere, and 0.0.0.0 is every interface.
  const loopback = await resolvesToLoopback(host);
  let tokens = config.auth.tokens;
  let banner = `  auth     ${tokens.length} configured token(s)`;
  if (tokens.length === 0) {
    if (!loopback) {
      throw new CliError(
        `refusing to listen on ${httpAddress} without auth: configure auth.tokens (see docs/operations.md) or listen on 127.0.0.1`,
        2,
      );
    }
    const file = adminTokenFile();
    const { entry, created } = await ensureAdminToken(file).catch((error: unknown) => {
      if (error instanceof AdminTokenFileError) throw new CliError(error.message, 2);
      throw error;
    });
    tokens = [entry];
    banner = created ? `  auth     new admin token (kept in ${file}): ${created}` : `  auth     admin token in ${file}`;
  }
  const authenticator = new TokenAuthenticator(tokens);
  return {
    register: (app, onDenied) =>
      registerAuth(app, { authenticator, openReads: loopback, ...(onDenied ? { onDenied } : {}) }),
    banner,
  };
}

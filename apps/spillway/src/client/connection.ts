import { readFileSync } from 'node:fs';
import { adminTokenFile } from '@spillway/auth';
import type { Command } from 'commander';
import { ApiClient } from './api-client.js';
import { createOutput, type Output } from './output.js';

export const DEFAULT_API = 'http://127.0.0.1:7070';
/** Per HTTP request; `--wait` has its own, longer deadline. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** The options every API-client command takes. */
export interface ClientOptions {
  readonly api?: string;
  readonly token?: string;
  readonly json?: boolean;
}

export function addClientOptions(command: Command): Command {
  return command
    .option('--api <url>', `Spillway API base URL (default: $SPILLWAY_API or ${DEFAULT_API})`)
    .option(
      '--token <token>',
      'bearer token (default: $SPILLWAY_TOKEN, else the token file $SPILLWAY_TOKEN_FILE or ~/.spillway/admin-token)',
    )
    .option('--json', 'print the result as JSON (for scripts)');
}

export function resolveApiUrl(options: ClientOptions, env: NodeJS.ProcessEnv): string {
  return options.api || env.SPILLWAY_API || DEFAULT_API;
}

/**
 * The token to send: the flag, then SPILLWAY_TOKEN, then the admin token file a local
 * `spillway up` writes when no tokens are configured. None at all is fine for reads.
 */
export function resolveToken(options: ClientOptions, env: NodeJS.ProcessEnv): string | undefined {
  const given = options.token || env.SPILLWAY_TOKEN;
  if (given) return given.trim();
  try {
    return readFileSync(adminTokenFile(env), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** What a client command works with: the API and where to write. */
export interface ClientContext {
  readonly api: ApiClient;
  readonly output: Output;
}

export function clientContext(options: ClientOptions, env: NodeJS.ProcessEnv = process.env): ClientContext {
  return {
    api: new ApiClient({
      baseUrl: resolveApiUrl(options, env),
      token: resolveToken(options, env),
      timeoutMs: REQUEST_TIMEOUT_MS,
    }),
    output: createOutput(options.json === true),
  };
}

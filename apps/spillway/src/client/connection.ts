import { readFileSync } from 'node:fs';
import { adminTokenFile } from '@spillway/auth';
import type { Command } from 'commander';
import { CliError } from '../load-config.js';
import { ApiClient, type ApiClientTls } from './api-client.js';
import { createOutput, type Output } from './output.js';

export const DEFAULT_API = 'http://127.0.0.1:7070';
/** The default when a CA file is given: a server with a certificate serves HTTPS only. */
export const DEFAULT_TLS_API = 'https://127.0.0.1:7070';
/** Per HTTP request; `--wait` has its own, longer deadline. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** The options every API-client command takes. */
export interface ClientOptions {
  readonly api?: string;
  readonly token?: string;
  readonly json?: boolean;
  /** CA bundle that signed the server's certificate (else the system's trust store). */
  readonly caFile?: string;
  /** Client certificate and key, for a server that requires one. */
  readonly cert?: string;
  readonly key?: string;
}

export function addClientOptions(command: Command): Command {
  return command
    .option('--api <url>', `Spillway API base URL (default: $SPILLWAY_API or ${DEFAULT_API})`)
    .option(
      '--token <token>',
      'bearer token (default: $SPILLWAY_TOKEN, else the token file $SPILLWAY_TOKEN_FILE or ~/.spillway/admin-token)',
    )
    .option('--json', 'print the result as JSON (for scripts)')
    .option(
      '--ca-file <file>',
      "CA bundle that signed the server's certificate, for https:// (default: $SPILLWAY_CA_FILE)",
    )
    .option('--cert <file>', 'client certificate (PEM) for a server that requires one (default: $SPILLWAY_CERT_FILE)')
    .option('--key <file>', "the client certificate's key (PEM) (default: $SPILLWAY_KEY_FILE)");
}

export function resolveApiUrl(options: ClientOptions, env: NodeJS.ProcessEnv): string {
  const tls = Boolean(options.caFile || env.SPILLWAY_CA_FILE);
  return options.api || env.SPILLWAY_API || (tls ? DEFAULT_TLS_API : DEFAULT_API);
}

/** The TLS files the flags and the environment name, read; a file that cannot be read is a usage error. */
export function resolveTls(options: ClientOptions, env: NodeJS.ProcessEnv): ApiClientTls {
  const caFile = options.caFile || env.SPILLWAY_CA_FILE;
  const certFile = options.cert || env.SPILLWAY_CERT_FILE;
  const keyFile = options.key || env.SPILLWAY_KEY_FILE;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new CliError(
      'a client certificate needs both --cert and --key (or SPILLWAY_CERT_FILE and SPILLWAY_KEY_FILE)',
      2,
    );
  }
  return {
    ...(caFile ? { ca: readPemFile(caFile, '--ca-file') } : {}),
    ...(certFile && keyFile ? { cert: readPemFile(certFile, '--cert'), key: readPemFile(keyFile, '--key') } : {}),
  };
}

function readPemFile(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`${flag} ${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 2);
  }
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
    api: apiClientFor(resolveApiUrl(options, env), options, env),
    output: createOutput(options.json === true),
  };
}

/** A client for `baseUrl` with the token and TLS files the options and the environment give. */
export function apiClientFor(baseUrl: string, options: ClientOptions, env: NodeJS.ProcessEnv = process.env): ApiClient {
  return new ApiClient({
    baseUrl,
    token: resolveToken(options, env),
    timeoutMs: REQUEST_TIMEOUT_MS,
    tls: resolveTls(options, env),
  });
}

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isLoopbackIp } from '@spillway/auth';
import type { SpillwayConfig } from '@spillway/config';
import type { RouterOptions } from '@spillway/router';
import { readKeyPair, TlsFilesError } from '@spillway/tls';
import { CliError } from './load-config.js';

/**
 * What must hold before `up` or `router` starts anything: the xDS port is mutual TLS with usable
 * files, or plaintext on loopback only. Either failure is exit 2 with one line.
 */
export async function preflightXdsPort(config: SpillwayConfig, xdsAddress: string): Promise<void> {
  checkXdsTlsFiles(config);
  await refusePlaintextXdsBeyondLoopback(config, xdsAddress);
}

/** Reads `tls.xds`'s files once: unreadable, not PEM, or a key that does not match → exit 2. */
function checkXdsTlsFiles(config: SpillwayConfig): void {
  const tls = config.tls.xds;
  if (!tls) return;
  try {
    readKeyPair({ certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.clientCaFile });
  } catch (error) {
    if (error instanceof TlsFilesError) throw new CliError(`tls.xds: ${error.message}`, 2);
    throw error;
  }
}

/**
 * Refuses (exit 2) a plaintext xDS port reachable beyond this machine: it hands every endpoint
 * of every service to whoever connects. The host is resolved, so `localhost` is loopback and a
 * name that resolves to any other address is not; a wildcard (`0.0.0.0`, `::`) never is.
 */
export async function refusePlaintextXdsBeyondLoopback(config: SpillwayConfig, xdsAddress: string): Promise<void> {
  if (config.tls.xds) return;
  const host = xdsAddress.slice(0, xdsAddress.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  const addresses = await resolve(host);
  const exposed = addresses === undefined ? undefined : addresses.find((address) => !isLoopbackIp(address));
  if (addresses !== undefined && exposed === undefined) return;
  const why = addresses === undefined ? `${host} does not resolve` : `${host} is ${exposed}, not loopback`;
  throw new CliError(
    `refusing to serve xDS on ${xdsAddress} in plaintext (${why}): every endpoint of every service would be readable by anyone who can reach it; configure tls.xds (docs/security.md) or listen on 127.0.0.1`,
    2,
  );
}

async function resolve(host: string): Promise<string[] | undefined> {
  if (host === '') return ['0.0.0.0'];
  if (isIP(host) !== 0) return [host];
  try {
    return (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    return undefined;
  }
}

/** The router's xDS security options from the config: `tls.xds` and `xdsAuthorization.rules`. */
export function xdsPortSecurity(config: SpillwayConfig): Pick<RouterOptions, 'xdsTls' | 'xdsAuthorization'> {
  return {
    ...(config.tls.xds ? { xdsTls: config.tls.xds } : {}),
    ...(config.xdsAuthorization ? { xdsAuthorization: config.xdsAuthorization.rules } : {}),
  };
}

/** Config `loadReporting` as the router takes it: absent when load reporting is off. */
export function loadReportingOption(config: SpillwayConfig): Pick<RouterOptions, 'loadReporting'> {
  const settings = config.loadReporting;
  return settings.enabled ? { loadReporting: { intervalSeconds: settings.intervalSeconds } } : {};
}

/**
 * Drill probes are grpc-js-xds channels, whose bootstrap cannot carry a client certificate
 * (only `insecure` and `google_default` channel_creds in 1.14): they cannot reach an mTLS xDS port.
 */
export function refuseDrillsOverMutualTls(config: SpillwayConfig): void {
  if (config.tls.xds) {
    throw new Error(
      'drills are not available with tls.xds: their probes (grpc-js-xds 1.14) cannot present a client certificate to the xDS port',
    );
  }
}

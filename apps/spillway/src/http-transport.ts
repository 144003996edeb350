import { resolvesToLoopback } from '@spillway/auth';
import type { SpillwayConfig } from '@spillway/config';
import type { Logger, Registry } from '@spillway/observability';
import { ClientTlsAgent, HttpsServing, TlsFilesError } from '@spillway/tls';
import { CliError } from './load-config.js';

/** How a service's HTTP API is served: HTTPS with watched certificate files, or plain HTTP. */
export interface HttpTransport {
  readonly scheme: 'http' | 'https';
  readonly https?: HttpsServing;
}

/**
 * The API's transport for `httpAddress`. With `tls.http` it is HTTPS only. Without it, plain HTTP
 * beyond loopback (the host resolved: every address must be loopback) is refused when tokens are
 * configured (they would cross the network in clear) unless `tls.plaintextHttpBehindProxy` says a
 * TLS proxy in front does the encryption, which is logged as a warning. Beyond loopback without
 * tokens, `setUpAuth` refuses already.
 */
export async function httpTransport(
  config: SpillwayConfig,
  httpAddress: string,
  observe: { logger: Logger; registry: Registry },
): Promise<HttpTransport> {
  const files = config.tls.http;
  if (files) {
    return { scheme: 'https', https: usable(() => new HttpsServing(files, { name: 'http', ...metricsOf(observe) })) };
  }
  const host = httpAddress.slice(0, httpAddress.lastIndexOf(':'));
  if (!(await resolvesToLoopback(host)) && config.auth.tokens.length > 0) {
    if (!config.tls.plaintextHttpBehindProxy) {
      throw new CliError(
        `refusing to serve the API on ${httpAddress} over plain HTTP: bearer tokens would cross the network in clear; ` +
          'set tls.http (see docs/security.md), listen on 127.0.0.1, or set tls.plaintextHttpBehindProxy: true behind a TLS proxy',
        2,
      );
    }
    observe.logger.warn(
      { listen: httpAddress },
      'serving the API over plain HTTP beyond loopback because tls.plaintextHttpBehindProxy is true: a TLS proxy in front must encrypt every connection',
    );
  }
  return { scheme: 'http' };
}

/**
 * What this process presents and trusts when it calls another Spillway service (the router and
 * the controller following the federation): the CA from `tls.caFile`, and `tls.http`'s certificate
 * and key as the client certificate, for a federation that requires one. Undefined for http:// URLs.
 */
export function serviceClientTls(
  config: SpillwayConfig,
  url: string,
  observe: { logger: Logger; registry: Registry },
): ClientTlsAgent | undefined {
  if (!url.startsWith('https://')) return undefined;
  const files = {
    caFile: config.tls.caFile,
    certFile: config.tls.http?.certFile,
    keyFile: config.tls.http?.keyFile,
  };
  return usable(() => new ClientTlsAgent(files, { name: 'client', ...metricsOf(observe) }));
}

function metricsOf(observe: { logger: Logger; registry: Registry }) {
  return { logger: observe.logger.child({ component: 'tls' }), metrics: observe.registry };
}

/** TLS files that cannot serve stop the start with one line naming the file (exit 2). */
function usable<T>(make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof TlsFilesError) throw new CliError(`tls: ${error.message}`, 2);
    throw error;
  }
}

/**
 * The federation answers reads only (the whole catalog, every endpoint address) and has no
 * tokens of its own: beyond loopback its callers must be authenticated by the transport, i.e.
 * `tls.http` with `clientCaFile` (routers and controllers present their certificates), unless a
 * proxy in front does TLS and access control (`tls.plaintextHttpBehindProxy`).
 */
export async function refuseOpenFederation(config: SpillwayConfig, httpAddress: string): Promise<void> {
  const host = httpAddress.slice(0, httpAddress.lastIndexOf(':'));
  if (config.tls.http?.clientCaFile || config.tls.plaintextHttpBehindProxy || (await resolvesToLoopback(host))) return;
  throw new CliError(
    `refusing to serve the federation on ${httpAddress} without client certificates: it would hand every endpoint of every service to anyone who can reach it; ` +
      'set tls.http with clientCaFile (docs/security.md), or listen on 127.0.0.1',
    2,
  );
}

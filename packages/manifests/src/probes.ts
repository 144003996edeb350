import { PATHS } from './process-config.js';

/**
 * A probe run inside the container: GET https://127.0.0.1:PORT/PATH presenting the pod's own
 * certificate. The kubelet's httpGet probes cannot present a client certificate, and the
 * federation's API requires one (tls.http.clientCaFile); every process is probed the same way.
 * The server's certificate is not checked: it is this pod's own process on loopback.
 */
export const PROBE_SCRIPT = [
  "const [url, dir] = process.argv.slice(1), fs = require('node:fs');",
  "const request = require('node:https').get(url, { cert: fs.readFileSync(dir + '/tls.crt'),",
  "  key: fs.readFileSync(dir + '/tls.key'), rejectUnauthorized: false, timeout: 4000 },",
  '  (response) => process.exit(response.statusCode === 200 ? 0 : 1));',
  "request.on('error', () => process.exit(1)).on('timeout', () => process.exit(1));",
].join('\n');

/** The probe's command: `node -e SCRIPT URL TLS_DIR`. */
export function probeCommand(port: number, path: '/healthz' | '/readyz', tlsDir: string = PATHS.httpTls): string[] {
  return ['node', '-e', PROBE_SCRIPT, `https://127.0.0.1:${port}${path}`, tlsDir];
}

export function probes(port: number): Record<string, unknown> {
  const probe = (path: '/healthz' | '/readyz', periodSeconds: number, failureThreshold: number) => ({
    exec: { command: probeCommand(port, path) },
    periodSeconds,
    timeoutSeconds: 5,
    failureThreshold,
  });
  return {
    // Start-up: sources sync and the catalog loads; allow up to 5 minutes before liveness counts.
    startupProbe: probe('/healthz', 5, 60),
    livenessProbe: probe('/healthz', 20, 3),
    readinessProbe: probe('/readyz', 10, 3),
  };
}

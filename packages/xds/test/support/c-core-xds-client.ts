import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./xds_echo_client.py', import.meta.url));
/** Debian's python with python3-grpcio (gRPC C-core), not a pyenv one. */
const PYTHON = '/usr/bin/python3';

export interface CCoreTally {
  readonly answers: Record<string, number>;
  readonly failures: number;
  readonly errors: readonly string[];
}

/**
 * Runs `count` RPCs to `xds:///target` from the gRPC C-core xDS client (a second, stricter xDS
 * implementation), with a bootstrap pointing at `xdsServer` and the node's locality.
 */
export async function cCoreRpcs(options: {
  readonly target: string;
  readonly xdsServer: string;
  readonly locality: { region: string; zone: string };
  readonly count: number;
  readonly deadlineSeconds?: number;
}): Promise<CCoreTally> {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-ccore-'));
  const bootstrap = join(dir, 'bootstrap.json');
  writeFileSync(
    bootstrap,
    JSON.stringify({
      xds_servers: [
        { server_uri: options.xdsServer, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
      ],
      node: { id: 'c-core-client', cluster: 'spillway-tests', locality: options.locality },
    }),
  );
  try {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        PYTHON,
        [SCRIPT, options.target, String(options.count), String(options.deadlineSeconds ?? 10)],
        { env: { ...process.env, GRPC_XDS_BOOTSTRAP: bootstrap }, timeout: 120_000 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      ),
    );
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as CCoreTally;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

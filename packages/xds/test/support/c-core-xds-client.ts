import { execFile, spawn } from 'node:child_process';
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
export interface CCoreOptions {
  readonly target: string;
  readonly xdsServer: string;
  readonly locality: { region: string; zone: string };
  readonly count: number;
  readonly deadlineSeconds?: number;
}

function writeBootstrap(options: CCoreOptions): { dir: string; bootstrap: string } {
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
  return { dir, bootstrap };
}

export async function cCoreRpcs(options: CCoreOptions): Promise<CCoreTally> {
  const { dir, bootstrap } = writeBootstrap(options);
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

/** A C-core client that keeps its channel (and its LRS stream) open after its RPCs until `release`. */
export interface HeldCCoreClient {
  /** The tally, once every RPC has been answered. */
  readonly tally: Promise<CCoreTally>;
  /** Closes the client's stdin: it closes its channel and exits. */
  release(): Promise<void>;
}

export function heldCCoreRpcs(options: CCoreOptions): HeldCCoreClient {
  const { dir, bootstrap } = writeBootstrap(options);
  const child = spawn(
    PYTHON,
    [SCRIPT, options.target, String(options.count), String(options.deadlineSeconds ?? 10), 'hold'],
    { env: { ...process.env, GRPC_XDS_BOOTSTRAP: bootstrap }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const tally = new Promise<CCoreTally>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((text) => text.startsWith('{'));
      if (line) resolve(JSON.parse(line) as CCoreTally);
    });
    child.on('exit', (code) => reject(new Error(`C-core client exited (${code}) before its tally\n${stderr}`)));
  });
  return {
    tally,
    release: async () => {
      child.stdin.end();
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

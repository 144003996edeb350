import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** promtool (Debian's `prometheus` package): `PROMTOOL_BIN`, else /usr/bin/promtool, else PATH. */
export function promtoolBinary(): string {
  const fromEnv = process.env['PROMTOOL_BIN'];
  if (fromEnv) return fromEnv;
  return existsSync('/usr/bin/promtool') ? '/usr/bin/promtool' : 'promtool';
}

export interface PromtoolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `promtool ARGS` in `cwd` to completion (each call is bounded by `timeoutMs`). */
export async function promtool(args: readonly string[], cwd?: string, timeoutMs = 30_000): Promise<PromtoolResult> {
  const child = spawn(promtoolBinary(), args, { cwd, timeout: timeoutMs });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  return { code, stdout, stderr };
}

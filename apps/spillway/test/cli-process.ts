import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@spillway/test/support/wait';

/** The `spillway` command as installed: bin/spillway.js runs the compiled CLI (built by the global setup). */
const BIN = fileURLToPath(new URL('../bin/spillway.js', import.meta.url));
export const TOKEN_FILE = join(mkdtempSync(join(tmpdir(), 'spillway-cli-token-')), 'admin-token');

/** `spillway ARGS` as a child process, its output collected for assertions. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  /** `spillway up`'s JSON log (its link to the file in use), in a directory of this process's own. */
  readonly logFile = join(mkdtempSync(join(tmpdir(), 'spillway-cli-logs-')), 'current.log');

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      // A token file and a log of the test's own: never the user's ~/.spillway.
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        SPILLWAY_TOKEN_FILE: TOKEN_FILE,
        SPILLWAY_LOG_FILE: this.logFile.replace(/current\.log$/, 'up.log'),
        ...env,
      },
    });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The first capture of `pattern` in stdout, once it appears. */
  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const match = await waitFor(() => pattern.exec(this.stdout), {
      timeoutMs,
      message: `output ${pattern} (stdout so far: ${this.stdout.slice(-500)} stderr: ${this.stderr.slice(-500)})`,
    });
    return match[1] ?? match[0];
  }

  /** The first capture of `pattern` in stderr (where `spillway up` shows warnings and errors). */
  async waitForStderr(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const match = await waitFor(() => pattern.exec(this.stderr), {
      timeoutMs,
      message: `stderr ${pattern} (stderr so far: ${this.stderr.slice(-500)})`,
    });
    return match[1] ?? match[0];
  }

  /** The first capture of `pattern` in `spillway up`'s JSON log file. */
  async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const match = await waitFor(() => pattern.exec(this.log()), {
      timeoutMs,
      message: `log ${pattern} in ${this.logFile} (so far: ${this.log().slice(-500)})`,
    });
    return match[1] ?? match[0];
  }

  /** What `spillway up` has logged so far ('' before its log file exists). */
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** Runs `spillway ARGS` to completion. */
export async function runCli(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = new CliProcess(args);
  const code = await cli.exited;
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

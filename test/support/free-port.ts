import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { killChild, trackChild } from './child-processes.js';

/**
 * A loopback port that was free a moment ago: bind port 0, read the port, close. Another process
 * can take it before the caller binds it, so callers that start a server on it retry on
 * EADDRINUSE (startPrometheus and startAlertmanager do).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** A server process a test started on a free loopback port. */
export interface ManagedProcess {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** The child's output so far (last lines), for a test that wants to explain a failure. */
  logs(): string;
  /** Kills the child (SIGKILL: tests throw its state away) and runs the owner's cleanup. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOnFreePortOptions {
  /** For messages: `prometheus`, `alertmanager`. */
  name: string;
  command: string;
  args: (port: number) => string[];
  /** Path answered with 200 once the server is ready, e.g. `/-/ready`. */
  readyPath: string;
  /** Deadline for one start, generous: a busy 2-core machine is slow. */
  timeoutMs?: number;
  /** Runs after the child is gone: remove temp dirs. Also runs when the start fails. */
  cleanup?: () => Promise<void>;
}

const MAX_LOG_LINES = 400;
/**
 * Spawns a server on a free loopback port and waits until `readyPath` answers 200, the child
 * exits, or the deadline passes. A start that lost its port to another process (EADDRINUSE in
 * the child's output) is retried on a new port. The child's output is kept in memory and put
 * into the error only when the start fails.
 */
export async function startOnFreePort(options: StartOnFreePortOptions): Promise<ManagedProcess> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const lines: string[] = [];
    const record = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(line);
      if (lines.length > MAX_LOG_LINES) lines.splice(0, lines.length - MAX_LOG_LINES);
    };
    const child = spawn(options.command, options.args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    child.stdout?.on('data', record);
    child.stderr?.on('data', record);
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });

    const deadline = Date.now() + timeoutMs;
    let ready = false;
    while (!ready && Date.now() < deadline && !spawnError && child.exitCode === null && child.signalCode === null) {
      try {
        const response = await fetch(`${url}${options.readyPath}`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        ready = response.status === 200;
      } catch {
        // Not listening yet.
      }
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (ready) {
      let stopped: Promise<void> | undefined;
      return {
        url,
        port,
        logs: () => lines.join('\n'),
        stop: () => {
          stopped ??= (async () => {
            await killChild(child);
            await options.cleanup?.();
          })();
          return stopped;
        },
      };
    }

    await killChild(child);
    const output = lines.slice(-60).join('\n');
    const why = spawnError
      ? `could not run ${options.command}: ${spawnError.message}`
      : child.exitCode !== null || child.signalCode !== null
        ? `exited with ${child.exitCode ?? child.signalCode}`
        : `not ready at ${url}${options.readyPath} within ${timeoutMs} ms`;
    lastError = new Error(`${options.name} did not start: ${why}\n--- ${options.name} output ---\n${output}`);
    if (!/address already in use/i.test(output)) break;
  }
  await options.cleanup?.();
  throw lastError ?? new Error(`${options.name} did not start`);
}

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { hasExited, killChild, trackChild } from './child-processes.js';
import { freePort } from './free-port.js';

/** A `redis-server` a test started on a loopback port (no persistence unless asked for). */
export interface RunningRedis {
  /** `redis://127.0.0.1:PORT`, or `rediss://127.0.0.1:PORT` with `tls` (never with the password in it) */
  readonly url: string;
  readonly port: number;
  /** The server's output so far (last lines), for a test that wants to explain a failure. */
  logs(): string;
  /** Ends the server for good and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, as an outage: clients see the connection drop; `restart()` brings it back. */
  kill(): Promise<void>;
  /**
   * SIGSTOP: the server freezes with its sockets open, as a stuck host or a long fork does.
   * Clients see no error, only silence; what they send waits in the socket and runs on `resume()`.
   */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /**
   * Starts the server again on the same port: empty by default (no persistence); with
   * `persistence: 'aof'`, with every write it acknowledged before the kill (same data dir).
   */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /** Deadline for PING to answer after a start. */
  timeoutMs?: number;
  /**
   * `'aof'`: `--appendonly yes --appendfsync always` in a data dir kept across `restart()`, so a
   * killed server comes back with every acknowledged write. Default `'none'`: no persistence.
   */
  persistence?: 'none' | 'aof';
  /**
   * Serve TLS only (`--port 0 --tls-port P`) with this certificate and key; clients are not asked
   * for certificates (`--tls-auth-clients no`). The CA file is the server's own trust bundle.
   */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** `--requirepass`: every client must AUTH with it. */
  password?: string;
}

/** How the harness reaches its own server: TLS or not, the password. */
interface Access {
  readonly tls?: StartRedisOptions['tls'];
  readonly password?: string;
}

/** The binary: `REDIS_SERVER_BIN`, else Debian's /usr/bin/redis-server, else PATH. */
export function redisServerBinary(): string {
  const fromEnv = process.env['REDIS_SERVER_BIN'];
  if (fromEnv) return fromEnv;
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
}

const MAX_LOG_LINES = 200;
/** One PING over a raw socket: no client library, so the harness cannot share its bugs. */
async function pingOnce(port: number, access: Access = {}): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    // The harness only checks its own server is up: it does not verify the certificate it made.
    const socket = access.tls
      ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    const auth = access.password === undefined ? '' : `AUTH ${access.password}\r\n`;
    socket.once(access.tls ? 'secureConnect' : 'connect', () => socket.write(`${auth}PING\r\n`));
    const expected = auth === '' ? '+PONG\r\n' : '+OK\r\n+PONG\r\n';
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.length >= expected.length || reply.startsWith('-')) done(reply.startsWith(expected));
    });
  });
}

class RedisProcess {
  private child: ChildProcess | undefined;
  private readonly lines: string[] = [];

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly timeoutMs: number,
    private readonly persistence: 'none' | 'aof' = 'none',
    private readonly access: Access = {},
  ) {}

  logs(): string {
    return this.lines.join('\n');
  }

  /** Spawns and waits for PONG; false when the port was taken (the caller picks another). */
  async start(): Promise<boolean> {
    const tls = this.access.tls;
    const args = tls
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile]
      : ['--port', String(this.port)];
    if (tls) args.push('--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no');
    if (this.access.password !== undefined) args.push('--requirepass', this.access.password);
    args.push('--bind', '127.0.0.1', '--save', '');
    if (this.persistence === 'aof') args.push('--appendonly', 'yes', '--appendfsync', 'always');
    else args.push('--appendonly', 'no');
    args.push('--daemonize', 'no', '--dir', this.dir);
    const child = spawn(redisServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    trackChild(child);
    const record = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.lines.push(line);
      if (this.lines.length > MAX_LOG_LINES) this.lines.splice(0, this.lines.length - MAX_LOG_LINES);
    };
    child.stdout?.on('data', record);
    child.stderr?.on('data', record);
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    const deadline = Date.now() + this.timeoutMs;
    while (Date.now() < deadline && !spawnError && !hasExited(child)) {
      if (await pingOnce(this.port, this.access)) return true;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await killChild(child);
    if (/address already in use/i.test(this.logs())) return false;
    const why = spawnError ? `could not run: ${spawnError.message}` : `not answering PING within ${this.timeoutMs} ms`;
    throw new Error(`redis-server did not start on port ${this.port}: ${why}\n${this.lines.slice(-30).join('\n')}`);
  }

  async kill(): Promise<void> {
    if (this.child) await killChild(this.child);
    this.child = undefined;
  }

  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (!this.child?.pid) throw new Error('redis-server is not running');
    process.kill(this.child.pid, signal);
  }
}

/**
 * Runs a real `redis-server` on a free loopback port, without persistence unless
 * `persistence: 'aof'`, in a temp dir; resolves once PING answers. A start that lost its port to
 * another process is retried on a new port.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RunningRedis> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const dir = await mkdtemp(join(tmpdir(), 'spillway-redis-'));
  for (let attempt = 1; attempt <= 5; attempt++) {
    const access = {
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.password ? { password: options.password } : {}),
    };
    const server = new RedisProcess(await freePort(), dir, timeoutMs, options.persistence ?? 'none', access);
    if (await server.start()) return running(server, dir, options.tls ? 'rediss' : 'redis');
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error('redis-server did not start: every port tried was taken');
}

function running(server: RedisProcess, dir: string, scheme: 'redis' | 'rediss'): RunningRedis {
  let stopped: Promise<void> | undefined;
  return {
    url: `${scheme}://127.0.0.1:${server.port}`,
    port: server.port,
    logs: () => server.logs(),
    kill: () => server.kill(),
    pause: () => server.signal('SIGSTOP'),
    resume: () => server.signal('SIGCONT'),
    restart: async () => {
      await server.kill();
      // The old process released the port when it died; a stranger may still take it, rarely.
      if (!(await server.start())) throw new Error(`redis-server could not get port ${server.port} back`);
    },
    stop: () => {
      stopped ??= (async () => {
        await server.kill();
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

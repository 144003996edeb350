import { createConnection } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { IDENTITY_PATH } from '@spillway/simulator';
import { xdsClient } from '@spillway/xds/test-support/grpc-xds-client';

/**
 * A grpc-js-xds client with several routers to choose from. grpc-js-xds 1.14 reads only the
 * first of its bootstrap's `xds_servers` (no gRFC A71 fallback), so this does what A71 asks of a
 * client, from outside: it checks that its router still accepts connections, and when it does
 * not, it dials the next one in the list with a fresh channel (same node, same target). RPCs go
 * through whichever channel is current; the old one is closed once the new one has answered.
 */
export class RedialingXdsClient {
  private client: grpc.Client;
  private index = 0;
  private readonly timer: NodeJS.Timeout;
  private probing = false;
  /** The xDS ports it has used, in order. */
  readonly dialed: number[] = [];

  constructor(
    private readonly target: string,
    /** The routers' xDS ports on loopback, in order of preference; the list may change. */
    private readonly routers: () => readonly number[],
    private readonly node: { id: string; locality: { region: string; zone: string } },
    probeIntervalMs = 200,
  ) {
    this.client = this.dial(0);
    this.timer = setInterval(() => void this.probe(), probeIntervalMs);
  }

  /** The router it follows now. */
  get routerPort(): number {
    return this.dialed.at(-1) ?? 0;
  }

  /** One RPC to the identity service through xDS: who answered, or `error: …`. */
  who(deadlineMs = 5_000): Promise<string> {
    const client = this.client;
    return new Promise((resolve) =>
      client.makeUnaryRequest(
        IDENTITY_PATH,
        passThrough,
        passThrough,
        Buffer.alloc(0),
        { deadline: Date.now() + deadlineMs },
        (error, value) => resolve(error ? `error: ${error.message}` : (value?.toString() ?? '')),
      ),
    );
  }

  close(): void {
    clearInterval(this.timer);
    this.client.close();
  }

  private dial(index: number): grpc.Client {
    const port = this.routers()[index];
    if (port === undefined) throw new Error(`no router at index ${index}`);
    this.index = index;
    this.dialed.push(port);
    return xdsClient(this.target, port, this.node);
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      if (await accepts(this.routerPort)) return;
      const routers = this.routers();
      for (let step = 1; step <= routers.length; step++) {
        const next = (this.index + step) % routers.length;
        if (routers[next] !== this.routerPort && (await accepts(routers[next]!))) {
          const old = this.client;
          this.client = this.dial(next);
          // Calls already on the old channel finish on its cached config; new calls use the new one.
          void this.who().finally(() => old.close());
          return;
        }
      }
    } finally {
      this.probing = false;
    }
  }
}

/** Whether something accepts TCP connections on the loopback port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

const passThrough = (bytes: Buffer) => bytes;

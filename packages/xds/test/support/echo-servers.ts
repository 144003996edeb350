import * as grpc from '@grpc/grpc-js';
import type { Endpoint } from '@spillway/model';
import { waitFor } from '@spillway/test/support/wait';
import { endpoint } from './in-memory-catalog.js';

/** A one-method gRPC service, raw bytes in and out: each server answers with its own identity. */
export const WHO_PATH = '/spillway.test.Echo/Who';

export const identity = (bytes: Buffer) => bytes;
export const whoDefinition: grpc.ServiceDefinition = {
  Who: {
    path: WHO_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export interface EchoServer {
  readonly identity: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startEchoServer(name: string): Promise<EchoServer> {
  const server = new grpc.Server();
  server.addService(whoDefinition, {
    Who: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, Buffer.from(name)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    identity: name,
    port,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** The result of a batch of RPCs: answers per server identity, and failures. */
export interface RpcTally {
  readonly counts: ReadonlyMap<string, number>;
  readonly failures: number;
  readonly total: number;
  readonly errors: readonly string[];
}

/** Sends `total` unary RPCs, `concurrency` at a time, each with a deadline (a hang detector). */
export async function sendRpcs(client: grpc.Client, total: number, concurrency = 32): Promise<RpcTally> {
  const counts = new Map<string, number>();
  const errors: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      try {
        const who = await askWho(client);
        counts.set(who, (counts.get(who) ?? 0) + 1);
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { counts, failures: errors.length, total, errors: errors.slice(0, 5) };
}

function askWho(client: grpc.Client): Promise<string> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      WHO_PATH,
      identity,
      identity,
      Buffer.alloc(0),
      { deadline: Date.now() + 10_000 },
      (error, value) => (error || !value ? reject(error ?? new Error('empty answer')) : resolve(value.toString())),
    ),
  );
}

/** Share of a tally's answers from servers whose identity starts with `prefix`. */
export function shareOf(tally: RpcTally, prefix: string): number {
  let matching = 0;
  let answered = 0;
  for (const [who, count] of tally.counts) {
    answered += count;
    if (who.startsWith(prefix)) matching += count;
  }
  return answered === 0 ? 0 : matching / answered;
}

/** The three places the routing tests use: two on-prem zones and a cloud zone. */
export const ECHO_SITES = {
  'zone-a': { region: 'dc1', zone: 'a' },
  'zone-b': { region: 'dc1', zone: 'b' },
  cloud: { region: 'us-east-1', zone: 'us-east-1a' },
} as const;
export type EchoSite = keyof typeof ECHO_SITES;

/** `perSite` echo servers in every ECHO_SITES place, named `SITE#n` (shareOf counts by SITE). */
export async function startEchoSites(perSite = 2): Promise<EchoServer[]> {
  const servers: EchoServer[] = [];
  for (const site of Object.keys(ECHO_SITES) as EchoSite[]) {
    for (let n = 1; n <= perSite; n++) servers.push(await startEchoServer(`${site}#${n}`));
  }
  return servers;
}

/** The site an echo server was started in by startEchoSites. */
export function echoSite(server: EchoServer): EchoSite {
  return server.identity.split('#')[0] as EchoSite;
}

/** The echo servers as catalog endpoints on 127.0.0.1 in their sites; those in `unhealthy` sites unhealthy. */
export function echoEndpoints(servers: readonly EchoServer[], unhealthy: readonly EchoSite[] = []): Endpoint[] {
  return servers.map((server) => {
    const site = echoSite(server);
    return endpoint('127.0.0.1', server.port, ECHO_SITES[site], {
      health: unhealthy.includes(site) ? 'unhealthy' : 'healthy',
    });
  });
}

/** Sends batches of `rpcs` until one satisfies `condition`: a new assignment has reached the client. */
export function waitForTraffic(
  client: grpc.Client,
  condition: (tally: RpcTally) => boolean,
  message: string,
  rpcs = 200,
): Promise<boolean> {
  return waitFor(async () => condition(await sendRpcs(client, rpcs)), { timeoutMs: 30_000, message });
}

import * as grpc from '@grpc/grpc-js';

/**
 * The one unary method every simulated endpoint serves: raw bytes in, its identity out. Raw
 * bytes keep the simulator free of protobuf code generation; a drill's probe client calls it
 * through `xds:///NAME.NS` with makeUnaryRequest and the same pass-through serializers.
 */
export const IDENTITY_PATH = '/spillway.simulator.Identity/Who';

const passThrough = (bytes: Buffer) => bytes;

export const identityServiceDefinition: grpc.ServiceDefinition = {
  Who: {
    path: IDENTITY_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
};

/** Who answered: the registry cluster, the zone and the endpoint's own name. */
export interface EndpointIdentity {
  readonly cluster: string;
  readonly zone: string;
  readonly endpoint: string;
}

/** `cluster/zone/endpoint`: readable in logs, and prefix-matchable by cluster or zone. */
export function formatIdentity(identity: EndpointIdentity): string {
  return `${identity.cluster}/${identity.zone}/${identity.endpoint}`;
}

export function parseIdentity(text: string): EndpointIdentity | undefined {
  const [cluster, zone, endpoint, ...rest] = text.split('/');
  if (!cluster || !zone || !endpoint || rest.length > 0) return undefined;
  return { cluster, zone, endpoint };
}

export interface IdentityServer {
  readonly port: number;
  /** Closes the listener and every connection at once, as a crashed process would. */
  stop(): Promise<void>;
}

export interface IdentityServerOptions {
  readonly identity: EndpointIdentity;
  /** 0 for any free port; a previous port when restarting an endpoint that must keep its address. */
  readonly port: number;
  readonly host?: string;
  /** Extra real delay before each answer (the latency fault), read per call. */
  readonly delayMs?: () => number;
  /** TLS (mesh mTLS); plaintext without. */
  readonly credentials?: grpc.ServerCredentials;
}

/** A real gRPC server on loopback answering IDENTITY_PATH with its identity. */
export async function startIdentityServer(options: IdentityServerOptions): Promise<IdentityServer> {
  const answer = Buffer.from(formatIdentity(options.identity));
  const server = new grpc.Server();
  server.addService(identityServiceDefinition, {
    Who: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const delay = options.delayMs?.() ?? 0;
      if (delay > 0) setTimeout(() => callback(null, answer), delay);
      else callback(null, answer);
    },
  });
  const host = options.host ?? '127.0.0.1';
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `${host}:${options.port}`,
        options.credentials ?? grpc.ServerCredentials.createInsecure(),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      ),
    );
  } catch (error) {
    server.forceShutdown();
    throw error;
  }
  return {
    port,
    stop: async () => server.forceShutdown(),
  };
}

/**
 * Calls one endpoint directly (not through xDS) and returns the identity it answered with: for
 * tests and for a drill's reachability checks.
 */
export async function askIdentity(
  address: string,
  port: number,
  deadlineMs = 5_000,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): Promise<string> {
  const client = new grpc.Client(`${address}:${port}`, credentials);
  try {
    return await new Promise<string>((resolve, reject) =>
      client.makeUnaryRequest(
        IDENTITY_PATH,
        passThrough,
        passThrough,
        Buffer.alloc(0),
        { deadline: Date.now() + deadlineMs },
        (error, value) => (error || !value ? reject(error ?? new Error('empty answer')) : resolve(value.toString())),
      ),
    );
  } finally {
    client.close();
  }
}

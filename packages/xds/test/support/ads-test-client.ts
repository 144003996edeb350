import * as grpc from '@grpc/grpc-js';
import type {
  DeltaDiscoveryRequestMessage,
  DeltaDiscoveryResponseMessage,
  DiscoveryRequestMessage,
  DiscoveryResponseMessage,
  NodeMessage,
} from '../../src/index.js';
import { adsServiceDefinition } from '../../src/index.js';

/** Requests as tests write them: any subset of fields, protobufjs fills the defaults. */
type Loose<T> = Omit<Partial<T>, 'node'> & { node?: Partial<NodeMessage> };
export type SotwRequest = Loose<DiscoveryRequestMessage>;
export type DeltaRequest = Loose<DeltaDiscoveryRequestMessage>;

/**
 * A raw ADS client for protocol tests: a plain @grpc/grpc-js client of the same service
 * definition, which queues every response so a test can await the next one.
 */
export class AdsTestClient<Request, Response> {
  private readonly responses: Response[] = [];
  private readonly waiters: ((response: Response) => void)[] = [];
  private readonly call: grpc.ClientDuplexStream<Request, Response>;
  /** How the stream ended (its gRPC status), once it has. */
  readonly ended: Promise<grpc.StatusObject>;

  private constructor(
    private readonly client: grpc.Client,
    method: 'StreamAggregatedResources' | 'DeltaAggregatedResources',
  ) {
    const definition = adsServiceDefinition()[method]!;
    this.call = client.makeBidiStreamRequest(
      definition.path,
      definition.requestSerialize as (value: Request) => Buffer,
      definition.responseDeserialize as (bytes: Buffer) => Response,
    );
    this.call.on('data', (response: Response) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter(response);
      else this.responses.push(response);
    });
    this.call.on('error', () => {});
    this.ended = new Promise((resolve) => this.call.on('status', resolve));
  }

  /** `credentials`: plaintext by default; `grpc.credentials.createSsl(...)` for a TLS router. */
  static sotw(
    port: number,
    credentials?: grpc.ChannelCredentials,
  ): AdsTestClient<SotwRequest, DiscoveryResponseMessage> {
    return new AdsTestClient(connect(port, credentials), 'StreamAggregatedResources');
  }

  static delta(
    port: number,
    credentials?: grpc.ChannelCredentials,
  ): AdsTestClient<DeltaRequest, DeltaDiscoveryResponseMessage> {
    return new AdsTestClient(connect(port, credentials), 'DeltaAggregatedResources');
  }

  send(request: Request): void {
    this.call.write(request);
  }

  /** The next response, failing after `timeoutMs` (a hang detector, not a timing assertion). */
  next(timeoutMs = 10_000): Promise<Response> {
    const queued = this.responses.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no xDS response within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (response: Response) => {
        clearTimeout(timer);
        resolve(response);
      };
      this.waiters.push(waiter);
    });
  }

  /** Responses received and not yet consumed. */
  get queued(): number {
    return this.responses.length;
  }

  close(): void {
    this.call.end();
    this.call.cancel();
    this.client.close();
  }
}

function connect(port: number, credentials = grpc.credentials.createInsecure()): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, credentials);
}
